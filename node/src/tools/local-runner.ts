/**
 * `LocalToolRunner`: the model's file and EDA tools on this machine, confined to one
 * project directory, with the Python runner's tools, arguments, output, caps, errors and
 * sandbox policy (adapters/tools/local/; the shared table tests/shared/tool-cases.json
 * runs against both).
 *
 * Each file tool call runs in a worker thread of its own (worker.ts), so no call, however
 * slow (a `grep` over a large tree, a 20 MiB read), blocks the event loop that carries
 * this and every other chat stream of the process. Cancellation (the turn's
 * `AbortSignal`) terminates a reading call at once (`<tool> was cancelled: ...`); a
 * write already running completes (atomically: no partial file is left). A `grep` stops
 * itself after `grepSeconds` with what it found; one that overruns that by
 * `graceSeconds` is terminated. Writes to one file are serialised by a lock per resolved
 * path, held here in the main thread for the worker that asked. The EDA tools run
 * `kicad-cli` as a child process (eda-tools.ts).
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { Worker } from "node:worker_threads";

import type { ToolCallEvent, ToolResult } from "../events.js";
import { Arguments, ToolError } from "./arguments.js";
import { edaCheck } from "./eda-tools.js";
import { cap } from "./output.js";
import { Sandbox } from "./sandbox.js";
import { show } from "./text.js";
import type { ToolRunner } from "./runner.js";
import type { WorkerInput, WorkerMessage } from "./worker.js";

/** Room for the short notes tools add after their capped content. */
export const NOTES_ALLOWANCE = 1024;
const WRITING = new Set(["write", "search_replace", "delete_trace_file"]);
const EDA = new Set(["get_erc_violations", "get_drc_violations"]);
/** The tools, in the order the Python runner lists them. */
export const TOOL_NAMES: readonly string[] = [
  "read_file",
  "write",
  "search_replace",
  "list_dir",
  "grep",
  "delete_trace_file",
  "get_erc_violations",
  "get_drc_violations",
];
const WORKER = new URL("./worker.js", import.meta.url);

/** Options of `new LocalToolRunner(root, {...})`; the defaults are the Python runner's. */
export interface LocalToolRunnerOptions {
  /** Most characters of a result's content (default 100,000). */
  readonly maxResultChars?: number;
  /** Most bytes read from, or written to, one file (default 20 MiB). */
  readonly maxReadBytes?: number;
  /** The `kicad-cli` to run (default: `TRACE_KICAD_CLI`, else `kicad-cli` on PATH; null: none). */
  readonly kicadCli?: string | null;
  /** Seconds an ERC/DRC run may take (default 300). */
  readonly edaTimeout?: number;
  /** Seconds one grep searches before it returns what it has (default 5). */
  readonly grepSeconds?: number;
  /** Seconds past `grepSeconds` after which a grep's worker is terminated (default 5). */
  readonly graceSeconds?: number;
  /** The variables `kicad-cli` may inherit, through the allow-list (default: none). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/** One lock per resolved path; a waiter gets it when the holder releases it. */
class PathLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves, once `key` is ours, to the function that releases it. */
  async acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  /** How many paths have a lock held or awaited. */
  get size(): number {
    return this.#tails.size;
  }
}

function findKicadCli(environment: Readonly<Record<string, string | undefined>>): string | null {
  const given = (environment["TRACE_KICAD_CLI"] ?? "").trim();
  if (given !== "") return given;
  for (const dir of (environment["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "kicad-cli");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Runs the model's tools inside `root`; every failure is an error result, never a throw. */
export class LocalToolRunner implements ToolRunner {
  readonly #sandbox: Sandbox;
  readonly #maxResultChars: number;
  readonly #maxReadBytes: number;
  readonly #grepSeconds: number;
  readonly #graceSeconds: number;
  readonly #edaTimeout: number;
  readonly #kicadCli: string | null;
  readonly #environment: Readonly<Record<string, string | undefined>>;
  readonly #locks = new PathLocks();

  constructor(root: string, options: LocalToolRunnerOptions = {}) {
    this.#maxResultChars = options.maxResultChars ?? 100_000;
    this.#maxReadBytes = options.maxReadBytes ?? 20 * 1024 * 1024;
    this.#grepSeconds = options.grepSeconds ?? 5;
    this.#graceSeconds = options.graceSeconds ?? 5;
    this.#edaTimeout = options.edaTimeout ?? 300;
    const limits = [this.#maxResultChars, this.#maxReadBytes, this.#grepSeconds, this.#edaTimeout];
    if (limits.some((limit) => !(limit > 0)) || !(this.#graceSeconds >= 0)) throw new RangeError("limits must be positive");
    this.#environment = options.environment ?? {};
    this.#kicadCli = options.kicadCli === undefined ? findKicadCli(this.#environment) : options.kicadCli;
    this.#sandbox = new Sandbox(root);
  }

  /** The sandbox root, resolved (symlinks followed). */
  get root(): string {
    return this.#sandbox.root;
  }

  /** Paths whose write lock is held or awaited now (0 when idle). */
  get lockedPaths(): number {
    return this.#locks.size;
  }

  /** Run one call; `signal` cancels it. */
  async run(call: ToolCallEvent, signal: AbortSignal): Promise<ToolResult> {
    const [text, isError] = await this.#dispatch(call, signal);
    // Tools cap their own content and then add short notes; this is only the backstop.
    return { toolCallId: call.toolCallId, result: cap(text, this.#maxResultChars + NOTES_ALLOWANCE), isError };
  }

  async #dispatch(call: ToolCallEvent, signal: AbortSignal): Promise<[string, boolean]> {
    const name = call.toolName;
    if (!TOOL_NAMES.includes(name)) return [`unknown tool ${show(String(name))}; available tools: ${TOOL_NAMES.join(", ")}`, true];
    const raw: unknown = call.toolArgs;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return [`${name}: the arguments must be a JSON object`, true];
    if (signal.aborted) return [cancelled(name), true];
    if (!EDA.has(name)) return this.#inWorker(name, raw as Record<string, unknown>, signal);
    try {
      const ctx = {
        sandbox: this.#sandbox,
        kicadCli: this.#kicadCli,
        edaTimeoutSeconds: this.#edaTimeout,
        maxReadBytes: this.#maxReadBytes,
        maxResultChars: this.#maxResultChars,
        environment: this.#environment,
      };
      return [await edaCheck(ctx, name, new Arguments(name, raw as Record<string, unknown>), signal), false];
    } catch (error) {
      if (error instanceof ToolError) return [error.message, true];
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return [`${name} failed unexpectedly: ${detail}`, true];
    }
  }

  #inWorker(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<[string, boolean]> {
    const lock = new SharedArrayBuffer(4);
    const input: WorkerInput = {
      root: this.#sandbox.root,
      tool: name,
      args,
      maxResultChars: this.#maxResultChars,
      maxReadBytes: this.#maxReadBytes,
      grepSeconds: this.#grepSeconds,
      lock,
    };
    const worker = new Worker(WORKER, { workerData: input, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    const releases: (() => void)[] = [];
    return new Promise<[string, boolean]>((settle) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: [string, boolean]): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        void worker.terminate();
        for (const release of releases) release();
        settle(outcome);
      };
      const onAbort = (): void => {
        // A write already running completes, so no partial file is left; a read stops now.
        if (!WRITING.has(name)) finish([cancelled(name), true]);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if (name === "grep") {
        timer = setTimeout(
          () => finish([`grep did not finish within ${this.#grepSeconds + this.#graceSeconds} s and was stopped`, true]),
          (this.#grepSeconds + this.#graceSeconds) * 1000,
        );
      }
      worker.on("message", (message: WorkerMessage) => {
        if (message.type === "result") {
          finish([message.text, message.isError]);
          return;
        }
        void this.#locks.acquire(message.key).then((release) => {
          if (settled) {
            release();
            return;
          }
          releases.push(release);
          const granted = new Int32Array(lock);
          Atomics.store(granted, 0, 1);
          Atomics.notify(granted, 0);
        });
      });
      worker.on("error", (error) => {
        finish([`${name} failed unexpectedly: ${error.name}: ${error.message}`, true]);
      });
      worker.on("exit", (code) => {
        finish([`${name} failed unexpectedly: its worker stopped (exit code ${code})`, true]);
      });
    });
  }
}

function cancelled(name: string): string {
  return `${name} was cancelled: the chat turn was interrupted`;
}
