/** What every tool needs inside the worker that runs it: the sandbox, the limits, the lock. */
import type { Sandbox } from "./sandbox.js";

/** Shared by the tools of one call (built in the worker from the runner's options). */
export interface ToolContext {
  readonly sandbox: Sandbox;
  readonly maxResultChars: number;
  readonly maxReadBytes: number;
  readonly grepSeconds: number;
  /** Blocks until this call holds the write lock of the resolved path `key`. */
  readonly lock: (key: string) => void;
}
