/**
 * Tool calls the model asks for run locally, through a `ToolRunner` (DESIGN section 6).
 *
 * This release ships the dispatch, the mode rule and the interface; the local file
 * and EDA tools with the Python runner's sandbox policy come in the next phase (the
 * default runner says so in every result, and a program can pass its own runner).
 */
import type { ToolCallEvent, ToolResult } from "../events.js";

/** The chat mode: `ask` (default) and `plan` run read-only tools only; `agent` may write. */
export type ChatMode = "ask" | "agent" | "plan";

/** The tools that only read, and so run in every mode. */
export const READ_ONLY_TOOLS: ReadonlySet<string> = new Set([
  "read_file",
  "list_dir",
  "grep",
  "get_erc_violations",
  "get_drc_violations",
]);

/** Runs one tool call inside a sandbox root; failures are error results, never exceptions. */
export interface ToolRunner {
  /** The result for `call`; `signal` aborts when the turn ends early. */
  run(call: ToolCallEvent, signal: AbortSignal): Promise<ToolResult>;
}

/** What a runner is built from for one turn. */
export interface ToolContext {
  /** The sandbox root (the project directory), absolute. */
  readonly projectDir: string;
  readonly mode: ChatMode;
}

/** The runner used when the program passes none: it runs nothing, and says so. */
export class NoLocalToolsRunner implements ToolRunner {
  /** An error result naming the tool and what to do instead. */
  async run(call: ToolCallEvent): Promise<ToolResult> {
    return {
      toolCallId: call.toolCallId,
      result:
        `the tool ${JSON.stringify(call.toolName)} was not run: this version of the Node SDK does ` +
        "not run local tools yet; pass toolRunner to new Trace({...}) or use the Python SDK",
      isError: true,
    };
  }
}

/**
 * The mode rule, applied whatever runner is used and whatever the backend sends: in
 * `ask` and `plan` a writing tool gets an error result naming the mode.
 */
export class ModeGuard implements ToolRunner {
  readonly #inner: ToolRunner;
  readonly #mode: ChatMode;

  constructor(inner: ToolRunner, mode: ChatMode) {
    this.#inner = inner;
    this.#mode = mode;
  }

  /** The inner runner's result, or a refusal for a writing tool outside `agent`. */
  async run(call: ToolCallEvent, signal: AbortSignal): Promise<ToolResult> {
    if (this.#mode !== "agent" && !READ_ONLY_TOOLS.has(call.toolName)) {
      return {
        toolCallId: call.toolCallId,
        result:
          `the tool ${JSON.stringify(call.toolName)} is not allowed in ${this.#mode} mode: only ` +
          `read-only tools run there (${[...READ_ONLY_TOOLS].join(", ")}); ` +
          'use mode "agent" to let the model change files',
        isError: true,
      };
    }
    try {
      return await this.#inner.run(call, signal);
    } catch (error) {
      // A runner's bug must not end the turn: the model gets it as the tool's result.
      const name = error instanceof Error ? error.name : "error";
      return { toolCallId: call.toolCallId, result: `the tool failed unexpectedly (${name})`, isError: true };
    }
  }
}
