/** Local tool execution: the interface, the mode rule, and the local runner. */
export { LocalToolRunner, TOOL_NAMES } from "./local-runner.js";
export type { LocalToolRunnerOptions } from "./local-runner.js";
export { ModeGuard, NoLocalToolsRunner, READ_ONLY_TOOLS, modeRefusal } from "./runner.js";
export type { ChatMode, ToolContext, ToolRunner } from "./runner.js";
