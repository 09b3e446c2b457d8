/** Test helpers: the repository's paths, and the Python protocol server as a subprocess. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from node/dist/test/). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The Python interpreter of the repository's virtualenv (or PYTHON). */
export const PYTHON = process.env["PYTHON"] ?? join(REPO, ".venv", "bin", "python");
/** The token the protocol server accepts by default. */
export const TOKEN = "test-trace-token-0123456789";

/** A step or turn of the protocol server's script (see tests/support/protocol_server.py). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The scriptable protocol server, run as `python -m tests.support.protocol_server`. */
export class ProtocolServer {
  readonly url: string;
  readonly #process: ChildProcess;

  private constructor(url: string, child: ChildProcess) {
    this.url = url;
    this.#process = child;
  }

  /** Start it with `script`; resolves once it printed its URL. */
  static async start(script: Json = {}): Promise<ProtocolServer> {
    const dir = mkdtempSync(join(tmpdir(), "trace-node-server-"));
    const file = join(dir, "script.json");
    writeFileSync(file, JSON.stringify(script));
    const child = spawn(PYTHON, ["-m", "tests.support.protocol_server", "--port", "0", "--script", file], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const stdout = child.stdout;
    if (stdout === null) throw new Error("no stdout");
    const lines = createInterface({ input: stdout });
    const url = await new Promise<string>((resolveUrl, reject) => {
      lines.once("line", resolveUrl);
      child.once("exit", (code) => reject(new Error(`protocol server exited (${code})`)));
    });
    return new ProtocolServer(url.trim(), child);
  }

  /** Replace the script. */
  async script(script: Json): Promise<void> {
    const response = await fetch(`${this.url}/_control/script`, {
      method: "POST",
      body: JSON.stringify(script),
      headers: { "Content-Type": "application/json" },
    });
    if (!response.ok) throw new Error(`bad script: ${await response.text()}`);
  }

  /** What the server recorded: requests, tool results, problems. */
  async state(): Promise<ServerState> {
    const response = await fetch(`${this.url}/_control/state`);
    return (await response.json()) as ServerState;
  }

  /** Stop it. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null) return;
    const exited = new Promise((r) => this.#process.once("exit", r));
    this.#process.kill("SIGTERM");
    await exited;
  }
}

/** One recorded request. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Record<string, Json>;
  readonly text: string;
}

/** The server's recording. */
export interface ServerState {
  readonly requests: RecordedRequest[];
  readonly tool_results: Record<string, Json>[];
  readonly problems: string[];
  readonly turns_left: number;
}

/** A text_delta step. */
export const text = (content: string): Json => ({ op: "text", content });
/** The done step. */
export const done = (conversationId: string | null = "conv-test"): Json => ({ op: "done", conversation_id: conversationId });
/** A raw-bytes step. */
export const raw = (data: string): Json => ({ op: "raw", data });
/** A turn of steps with optional scripted responses first. */
export const turn = (steps: Json[], respond: Json[] = []): Json => ({ respond, steps });

/** A fresh private config directory (0700). */
export function configDir(): string {
  return mkdtempSync(join(tmpdir(), "trace-node-config-"));
}
