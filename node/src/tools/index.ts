/** Local tool execution: the interface, the mode rule, and the runners shipped so far. */
export { ModeGuard, NoLocalToolsRunner, READ_ONLY_TOOLS } from "./runner.js";
export type { ChatMode, ToolContext, ToolRunner } from "./runner.js";
