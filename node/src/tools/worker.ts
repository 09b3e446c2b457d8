/**
 * The worker thread one file tool call runs in (local-runner.ts starts one per call): the
 * tools are synchronous like the Python runner's, and here they block only this thread,
 * never the event loop that carries the chat streams. The runner terminates the worker
 * on cancellation or when a `grep` overruns its deadline.
 */
import { parentPort, workerData } from "node:worker_threads";

import { Arguments, ToolError } from "./arguments.js";
import type { ToolContext } from "./context.js";
import { deleteTraceFile, searchReplace, write } from "./edit-tools.js";
import { listDir, readFile } from "./file-tools.js";
import { grep } from "./grep.js";
import { describeOsError } from "./os-errors.js";
import { Sandbox } from "./sandbox.js";

/** What the runner hands a worker. */
export interface WorkerInput {
  readonly root: string;
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly maxResultChars: number;
  readonly maxReadBytes: number;
  readonly grepSeconds: number;
  /** Int32 0 until the runner grants the write lock the worker asked for. */
  readonly lock: SharedArrayBuffer;
}

/** What a worker posts: a lock request, then its result. */
export type WorkerMessage =
  | { readonly type: "lock"; readonly key: string }
  | { readonly type: "result"; readonly text: string; readonly isError: boolean };

type Tool = (ctx: ToolContext, args: Arguments) => string;

const TOOLS: Readonly<Record<string, Tool>> = {
  read_file: readFile,
  write,
  search_replace: searchReplace,
  list_dir: listDir,
  grep,
  delete_trace_file: deleteTraceFile,
};

function post(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

function main(input: WorkerInput): void {
  const granted = new Int32Array(input.lock);
  const sandbox = new Sandbox(input.root);
  const ctx: ToolContext = {
    sandbox,
    maxResultChars: input.maxResultChars,
    maxReadBytes: input.maxReadBytes,
    grepSeconds: input.grepSeconds,
    lock(key) {
      post({ type: "lock", key });
      Atomics.wait(granted, 0, 0);
    },
  };
  const tool = TOOLS[input.tool];
  if (tool === undefined) {
    post({ type: "result", text: `unknown tool ${input.tool}`, isError: true });
    return;
  }
  try {
    post({ type: "result", text: tool(ctx, new Arguments(input.tool, input.args)), isError: false });
  } catch (error) {
    if (error instanceof ToolError) post({ type: "result", text: error.message, isError: true });
    else if (error instanceof Error && typeof (error as { code?: unknown }).code === "string") {
      post({ type: "result", text: `${input.tool} failed: ${describeOsError(error, sandbox)}`, isError: true });
    } else {
      const name = error instanceof Error ? error.name : "Error";
      const message = error instanceof Error ? error.message : String(error);
      post({ type: "result", text: `${input.tool} failed unexpectedly: ${name}: ${message}`, isError: true });
    }
  }
}

main(workerData as WorkerInput);
