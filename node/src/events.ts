/** What a chat turn produces: the backend's events, local tool outcomes, and the reply. */
import type { Notice } from "./notices.js";
import type { BillingMode, ProviderName } from "./provider.js";

/** A piece of the answer's text. */
export interface TextEvent {
  readonly type: "text";
  readonly content: string;
}

/** Reasoning text the model chose to show. */
export interface ThinkingEvent {
  readonly type: "thinking";
  readonly content: string;
}

/** A progress note from the backend. */
export interface StatusEvent {
  readonly type: "status";
  readonly content: string;
}

/** The model asks for a tool to run locally (emitted before it runs). */
export interface ToolCallEvent {
  readonly type: "tool_call";
  readonly toolCallId: string;
  readonly toolName: string;
  readonly toolArgs: Readonly<Record<string, unknown>>;
}

/** What a local tool answered (posted back to the backend). */
export interface ToolResult {
  readonly toolCallId: string;
  readonly result: string;
  readonly isError: boolean;
}

/** A tool call ran locally and its result was posted back. */
export interface ToolResultEvent {
  readonly type: "tool_result";
  readonly call: ToolCallEvent;
  readonly result: ToolResult;
}

/**
 * What a reply keeps of one tool run: a summary, not the texts (a turn may run
 * thousands). `target` is the path or pattern the call worked on, shortened.
 */
export interface ToolRun {
  readonly toolCallId: string;
  readonly toolName: string;
  readonly isError: boolean;
  /** The length of the result posted back, in characters. */
  readonly resultChars: number;
  readonly target: string | null;
}

/** The backend reports a file edit (informational). */
export interface FileEditEvent {
  readonly type: "file_edit";
  readonly data: Readonly<Record<string, unknown>>;
}

/** Token and cost figures the backend reports. */
export interface MetricsEvent {
  readonly type: "metrics";
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * The backend reports an error inside the stream (the turn goes on). `code` is a
 * machine-readable kind when the backend sends one (absent otherwise): `provider_auth`
 * means the model provider rejected the request's key (`providerStatus`: its HTTP status).
 */
export interface StreamErrorEvent {
  readonly type: "error";
  readonly content: string;
  readonly code?: string;
  readonly providerStatus?: number;
}

/** The end of the backend's stream (internal: `stream()` yields `DoneEvent` instead). */
export interface BackendDone {
  readonly type: "backend_done";
  readonly conversationId: string | null;
}

/** The outcome of a turn: the answer, and which provider, key source and model answered. */
export interface ChatReply {
  readonly text: string;
  readonly conversationId: string | null;
  readonly usage: Readonly<Record<string, unknown>> | null;
  readonly provider: ProviderName;
  readonly model: string | null;
  /**
   * `argument`, `env:NAME`, `helper`, `keychain`, `file`, `memory` (`helper:NAME`,
   * `keychain:NAME`... for a named key); null for Trace-hosted.
   */
  readonly keySource: string | null;
  /** At most the key's last four characters; the key itself is never in a reply. */
  readonly maskedKey: string | null;
  readonly billing: BillingMode;
  /** One summary per tool run (the full call and result were streamed as `tool_result`). */
  readonly toolRuns: readonly ToolRun[];
  readonly errors: readonly string[];
  /** The project file (trace.toml) that chose the provider, key or model, if one applied. */
  readonly projectFile: string | null;
  /** What the client told before (or during) the turn, whether or not it was told this time. */
  readonly notices: readonly Notice[];
}

/** The last event of a stream: the whole reply. */
export interface DoneEvent {
  readonly type: "done";
  readonly reply: ChatReply;
}

/** An event from the backend's stream. */
export type BackendEvent =
  | TextEvent
  | ThinkingEvent
  | StatusEvent
  | ToolCallEvent
  | FileEditEvent
  | MetricsEvent
  | StreamErrorEvent
  | BackendDone;

/** An event of `trace.stream(...)`. */
export type ChatEvent =
  | TextEvent
  | ThinkingEvent
  | StatusEvent
  | ToolCallEvent
  | ToolResultEvent
  | FileEditEvent
  | MetricsEvent
  | StreamErrorEvent
  | DoneEvent;
