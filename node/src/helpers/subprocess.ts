/**
 * `SubprocessKeyHelper`: runs a key helper command (1Password `op`, `pass`, Vault...),
 * with the Python side's rules (`adapters/helpers/subprocess_helper.py`):
 *
 * - **No shell** unless the command was stored with `shell = true`: its words are split
 *   like a POSIX shell would and executed directly (`$VAR`, `;`, `|`, backticks mean
 *   nothing); with `shell` it runs as `/bin/sh -c COMMAND`.
 * - **The user's environment** (password managers need their session variables), plus
 *   `TRACE_KEY_HELPER_REASON`, `TRACE_KEY_HELPER_PROVIDER` and `TRACE_KEY_HELPER_NAME`.
 * - **Standard input closed** (`/dev/null`) and **its own process group** (detached), so
 *   past its time it and everything it started are stopped together: SIGTERM, then
 *   SIGKILL half a second later.
 * - **Bounded**: `keys.helper_timeout` seconds, at most 64 KiB of output read; once the
 *   helper exited, something it started that keeps the output open is waited for one
 *   more second, no longer.
 * - **Its stderr**, trimmed to one printable line of at most 300 characters, explains a
 *   failure; it is masked against what the helper printed on stdout and anything shaped
 *   like a key, so the error never carries the key.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";

import { KeyHelperError } from "../errors.js";
import {
  HELPER_NAME_ENV,
  HELPER_PROVIDER_ENV,
  HELPER_REASON_ENV,
  type HelperCommand,
  type HelperReason,
  type KeyRef,
  MAX_HELPER_OUTPUT,
} from "../keys.js";
import { SecretMasker } from "../masking.js";
import { looksLikeSecret } from "../secret.js";
import { isPrintable, pyRepr, pyStrip } from "../text.js";
import { strerror } from "../config/project-files.js";

/** Runs a helper command and returns what it printed on stdout. */
export interface KeyHelper {
  /** The helper's stdout (UTF-8 text); throws `KeyHelperError` when it fails, times out or cannot start. */
  run(helper: HelperCommand, ref: KeyRef, reason: HelperReason): Promise<string>;
}

const STDERR_KEPT = 8 * 1024;
const STDERR_SHOWN = 300;
const AFTER_EXIT_MS = 1000;
const TERM_GRACE_MS = 500;
// Python's str.split() separators (Unicode whitespace) and \S+.
const WHITESPACE = /[\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const WORD = /[^\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;

type Env = Readonly<Record<string, string | undefined>>;

interface Exit {
  readonly code: number;
}

/** Runs helpers as child processes with the user's environment (see the module comment). */
export class SubprocessKeyHelper implements KeyHelper {
  readonly #env: Env;
  readonly #timeoutSeconds: number;

  constructor(env: Env, options: { timeoutSeconds: number }) {
    this.#env = env;
    this.#timeoutSeconds = options.timeoutSeconds;
  }

  /** Run `helper`; its stdout, or `KeyHelperError`. */
  async run(helper: HelperCommand, ref: KeyRef, reason: HelperReason): Promise<string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#env)) if (value !== undefined) env[name] = value;
    env[HELPER_REASON_ENV] = reason;
    env[HELPER_PROVIDER_ENV] = ref.provider;
    env[HELPER_NAME_ENV] = ref.name ?? "";
    const argv = helper.shell ? ["/bin/sh", "-c", helper.command] : helper.argv();
    const child = spawn(argv[0] as string, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      env,
      detached: true,
      shell: false,
      windowsHide: true,
    });
    const started = await new Promise<Error | null>((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", resolve);
    });
    if (started !== null) throw startError(started, helper, ref);
    return this.#collect(child, helper, ref);
  }

  async #collect(child: ChildProcess, helper: HelperCommand, ref: KeyRef): Promise<string> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // Mutated by the child's callbacks (a plain `let` would be narrowed away by tsc).
    const state = { outBytes: 0, errBytes: 0, tooMuch: false, exit: null as Exit | null, reading: true, outputOpen: false };
    const exited = new Promise<Exit>((resolve) => {
      child.once("exit", (code, signal) => {
        const number = signal === null ? 0 : (constants.signals[signal] ?? 0);
        state.exit = { code: code ?? -number }; // Python's returncode: minus the signal's number
        resolve(state.exit);
      });
    });
    const { stdout, stderr } = child;
    if (stdout === null || stderr === null) throw new Error("the helper has no pipes");
    const deadline = Date.now() + this.#timeoutSeconds * 1000;
    await new Promise<void>((done) => {
      let open = 2;
      const timers: NodeJS.Timeout[] = [];
      const finish = (): void => {
        state.reading = false;
        state.outputOpen = open > 0;
        for (const timer of timers) clearTimeout(timer);
        done();
      };
      const closed = (): void => {
        open -= 1;
        if (open === 0) finish();
      };
      stdout.on("data", (chunk: Buffer) => {
        if (!state.reading) return;
        out.push(chunk);
        state.outBytes += chunk.length;
        if (state.outBytes > MAX_HELPER_OUTPUT) {
          state.tooMuch = true;
          finish();
        }
      });
      stderr.on("data", (chunk: Buffer) => {
        if (!state.reading || state.errBytes >= STDERR_KEPT) return;
        const kept = chunk.subarray(0, STDERR_KEPT - state.errBytes);
        err.push(kept);
        state.errBytes += kept.length;
      });
      stdout.once("close", closed);
      stderr.once("close", closed);
      timers.push(setTimeout(finish, Math.max(0, deadline - Date.now())));
      void exited.then(() => {
        if (state.reading) timers.push(setTimeout(finish, Math.min(AFTER_EXIT_MS, Math.max(0, deadline - Date.now()))));
      });
    });
    if (state.outputOpen && state.exit !== null && child.pid !== undefined && process.platform !== "win32") {
      // It exited, but something it started still holds its output: stop that too (it is
      // in the helper's process group) rather than leave it running.
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is already gone
      }
    }
    if (!state.tooMuch && state.exit === null) {
      // Its output ended but it did not exit (yet): wait for it, up to the deadline.
      await Promise.race([exited, sleep(Math.max(0, deadline - Date.now()))]);
    }
    const timedOut = !state.tooMuch && state.exit === null;
    if (state.exit === null) await stop(child, exited);
    stdout.destroy();
    stderr.destroy();
    const { code } = await exited;
    const limit = `${MAX_HELPER_OUTPUT / 1024} KiB`;
    if (state.tooMuch) throw helperError(ref, `the key helper printed more than ${limit}`);
    if (timedOut) {
      throw helperError(
        ref,
        `the key helper ${pyRepr(helper.program)} did not finish within ${this.#timeoutSeconds} s and was stopped`,
        "check that it does not wait for input (it runs without a terminal), or raise " +
          "the limit: buildwithtrace config set keys.helper_timeout 120",
      );
    }
    const printed = Buffer.concat(out);
    if (code !== 0) {
      const why = excerpt(Buffer.concat(err), printed);
      throw helperError(ref, `the key helper ${pyRepr(helper.program)} exited with status ${code}${why ? `: ${why}` : ""}`);
    }
    try {
      // ignoreBOM: a BOM stays a character, as Python's utf-8 codec leaves it.
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(printed);
    } catch {
      throw helperError(ref, "the key helper printed bytes that are not UTF-8 text");
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
}

/** Stop the helper and everything it started (its own process group): SIGTERM, then SIGKILL. */
async function stop(child: ChildProcess, exited: Promise<Exit>): Promise<void> {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      if (child.pid !== undefined && process.platform !== "win32") process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // already gone
    }
    const gone = await Promise.race([exited.then(() => true), sleep(TERM_GRACE_MS).then(() => false)]);
    if (gone) return;
  }
}

function startError(error: Error, helper: HelperCommand, ref: KeyRef): KeyHelperError {
  const code = "code" in error ? error.code : undefined;
  if (code === "ENOENT") {
    return helperError(
      ref,
      `the key helper program ${pyRepr(helper.program)} was not found`,
      `install it, or fix the command: ${ref.setCommand} --helper '...'`,
    );
  }
  return helperError(
    ref,
    `the key helper ${pyRepr(helper.program)} could not start (${strerror(error)})`,
    `check the command: ${ref.setCommand} --helper '...'`,
  );
}

/** One printable line of stderr, without anything stdout held or shaped like a key. */
export function excerpt(stderr: Buffer, stdout: Buffer): string {
  let text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(stderr);
  const printed = new TextDecoder("utf-8", { ignoreBOM: true }).decode(stdout);
  const secrets = [pyStrip(printed), ...(printed.match(WORD) ?? [])].filter((s) => s !== "");
  text = new SecretMasker(secrets).mask(text);
  text = text.replace(WORD, (word) => (looksLikeSecret(word) ? "***" : word));
  text = [...text].map((ch) => (isPrintable(ch) ? ch : " ")).join("");
  text = text.split(WHITESPACE).filter((w) => w !== "").join(" ");
  const chars = [...text];
  return chars.length <= STDERR_SHOWN ? text : chars.slice(0, STDERR_SHOWN - 1).join("") + "…";
}

function helperError(ref: KeyRef, problem: string, fix?: string): KeyHelperError {
  return new KeyHelperError(
    ref.label,
    problem,
    fix ??
      "run the helper command in a terminal to see what it does, then: buildwithtrace byok status --run-helpers",
  );
}
