/**
 * Tool calls the model asks for run locally, through a `ToolRunner` (DESIGN section 6).
 * The default runner is `LocalToolRunner` (local-runner.ts), the Python runner's twin; a
 * program may pass its own. Whatever runner is used, `ModeGuard` applies the mode rule.
 */
import type { ToolCallEvent, ToolResult } from "../events.js";
import { READ_ONLY_TOOL_NAMES } from "./policy-data.js";
import { cpLength, cpSlice } from "./text.js";
import { pyRepr } from "../text.js";

/** The chat mode: `ask` (default) and `plan` run read-only tools only; `agent` may write. */
export type ChatMode = "ask" | "agent" | "plan";

/** The tools that only read, and so run in every mode (an unknown name is not one of them). */
export const READ_ONLY_TOOLS: ReadonlySet<string> = new Set(READ_ONLY_TOOL_NAMES);

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

/** A runner that runs nothing and says so (for programs that want no local tools at all). */
export class NoLocalToolsRunner implements ToolRunner {
  /** An error result naming the tool. */
  async run(call: ToolCallEvent): Promise<ToolResult> {
    return {
      toolCallId: call.toolCallId,
      result: `the tool ${JSON.stringify(call.toolName)} was not run: this program runs no local tools`,
      isError: true,
    };
  }
}

const SHOWN_NAME = 60;

/** The tool name as quoted in a message (domain/tools.py `shown_tool_name`). */
export function shownToolName(name: string): string {
  return cpLength(name) <= SHOWN_NAME ? pyRepr(name) : pyRepr(cpSlice(name, 0, SHOWN_NAME)) + "…";
}

/** The error result for a tool `mode` does not run (domain/chat.py `ChatMode.refusal`). */
export function modeRefusal(mode: ChatMode, name: string): string {
  return (
    `tool ${shownToolName(name)} was not run: ${mode} mode runs read-only tools only ` +
    `(${[...READ_ONLY_TOOL_NAMES].sort().join(", ")}); to let the model edit design files, ` +
    'run again with --mode agent (SDK: mode="agent")'
  );
}

/**
 * The mode rule, applied whatever runner is used and whatever the backend sends: in
 * `ask` and `plan` a writing or unknown tool gets an error result naming the mode.
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
      return { toolCallId: call.toolCallId, result: modeRefusal(this.#mode, call.toolName), isError: true };
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
