/**
 * One chat turn (application/chat.py): the backend's stream read as it arrives, the
 * model's tool calls dispatched to the `ToolRunner` (at most `maxParallel` at once, each
 * posting its own result so the backend can resume while other tools still run), then
 * the reply.
 *
 * The backend is not trusted: every string that comes from it is masked against the
 * secrets of the request (the provider key and the Trace token) before anyone sees it
 * (masking.ts): the events yielded, the arguments a tool runs with, the results posted
 * back, the reply and its errors, and the message of an error that ends the turn. The
 * reply keeps a summary of each tool run, not its texts, and bounded text and errors.
 *
 * When the key came from a key helper and the provider rejected it (an `error` event
 * with `code` `provider_auth`) before any text or tool call, the stream is closed, the
 * helper runs once more and the request is sent once more with the new key (a new
 * session id); both keys are masked from then on. Never a second retry, never for a
 * stored or environment key, never after text or a tool call.
 */
import { BackendError, ProtocolError, TraceError } from "./errors.js";
import type { BackendEvent, ChatEvent, ChatReply, ToolCallEvent, ToolResultEvent, ToolRun } from "./events.js";
import type { HttpBackend, RequestContext } from "./http/backend.js";
import { SecretMasker, type StreamMasker } from "./masking.js";
import { type Notice, refreshedNotice } from "./notices.js";
import type { Credential, Resolution } from "./resolution.js";
import type { Secret } from "./secret.js";
import { TARGET_ARGUMENTS } from "./tools/policy-data.js";
import type { ToolRunner } from "./tools/runner.js";
import { cpLength, cpSlice } from "./tools/text.js";

// What a reply keeps (the stream yields everything): a hostile backend can send text,
// errors and tool calls without end, and the reply must not grow with them.
export const MAX_REPLY_TEXT = 8 * 1024 * 1024;
export const MAX_REPLY_ERRORS = 100;
export const MAX_ERROR_CHARS = 2000;
export const MAX_DELTA_CHARS = 65536; // a larger text delta is passed on in pieces
const SHOWN_NAME = 200;
const SHOWN_TARGET = 200;

/** Everything one turn needs, already resolved and validated. */
export interface Turn {
  readonly backend: HttpBackend;
  readonly body: Readonly<Record<string, unknown>>;
  readonly sessionId: string;
  readonly token: Secret;
  readonly resolution: Resolution;
  readonly runner: ToolRunner;
  readonly context: RequestContext;
  readonly maxParallel: number;
  readonly signal?: AbortSignal | undefined;
  /** The notices told before the request (kept by the reply). */
  readonly notices?: readonly Notice[] | undefined;
  /** How to try once more after the provider rejected a helper's key (absent: never). */
  readonly retry?: Retry | undefined;
}

/** The one retry a helper's rejected key allows. */
export interface Retry {
  /** Run the helper again; throws `KeyHelperError`. */
  readonly refresh: () => Promise<Credential>;
  readonly newSessionId: () => string;
  /** Told (once per client) that the key was fetched again. */
  readonly tell: (notice: Notice) => void;
}

type Outcome = ToolResultEvent | { readonly failure: unknown };

/** Calls waiting or running at once, as a multiple of the parallel ones (as in Python). */
export const MAX_PENDING_TOOLS_FACTOR = 2;
/** No real turn comes near this; a backend that goes past it is broken or hostile. */
export const MAX_TOOL_CALLS_PER_TURN = 10_000;

/** The turn's events as they arrive (masked), tool outcomes as tools finish, then `done`. */
export async function* runTurn(turn: Turn): AsyncGenerator<ChatEvent, void, undefined> {
  const stop = new AbortController();
  const signal = turn.signal ? AbortSignal.any([stop.signal, turn.signal]) : stop.signal;
  let secrets = [...turn.context.secrets];
  let masker = new SecretMasker(secrets);
  let text = masker.stream();
  let body = turn.body;
  let sessionId = turn.sessionId;
  let context = turn.context;
  let retry = turn.retry;
  const reply = new ReplyBuilder(turn.resolution, turn.notices ?? []);
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  const slots = new Slots(turn.maxParallel);
  let submitted = 0;
  let finished = false;

  // `call` is masked (the runner never sees the key: the model cannot make the client
  // write it into a project file); the result is posted under the backend's own id.
  const runTool = async (call: ToolCallEvent, wireId: string): Promise<void> => {
    await slots.take();
    try {
      const ran = await turn.runner.run(call, signal);
      const result = { toolCallId: wireId, result: masker.mask(ran.result), isError: ran.isError };
      if (signal.aborted) return; // the turn is over: nobody waits for this result
      // Queued before the post: the backend streams what follows a result before its
      // answer to the post comes back, and the caller must see the result first.
      outcomes.push({ type: "tool_result", call, result: { ...result, toolCallId: call.toolCallId } });
      await turn.backend.postToolResult(sessionId, result, turn.token, context, signal);
    } catch (error) {
      outcomes.push({ failure: error });
    } finally {
      slots.give();
    }
  };

  function* drain(): Generator<ToolResultEvent> {
    while (outcomes.length > 0) {
      const item = outcomes.shift();
      if (item === undefined) return;
      if ("failure" in item) {
        if (signal.aborted && !(item.failure instanceof BackendError)) throw signal.reason;
        throw item.failure;
      }
      reply.record(item);
      yield item;
    }
  }

  try {
    try {
      for (;;) {
        let rejected = false;
        for await (const event of turn.backend.streamChat(body, turn.token, context, signal)) {
          yield* drain();
          if (retry !== undefined && !reply.started && event.type === "error" && event.code === PROVIDER_AUTH) {
            rejected = true; // leaving the loop closes this stream's connection
            break;
          }
          for (const shown of shownEvents(event, masker, text)) {
            if (shown.type === "backend_done") {
              reply.conversationId = shown.conversationId;
              continue;
            }
            if (shown.type === "tool_call" && event.type === "tool_call") {
              if (submitted >= MAX_TOOL_CALLS_PER_TURN) {
                throw new ProtocolError(
                  `the Trace backend asked for more than ${MAX_TOOL_CALLS_PER_TURN.toLocaleString("en-US")} tool calls in one turn; stopped`,
                );
              }
              // Backpressure: while this many calls are unanswered the stream is not read,
              // so a flood of calls (or stalled results) cannot fill memory.
              while (pending.size >= MAX_PENDING_TOOLS_FACTOR * turn.maxParallel) {
                await Promise.race([...pending]);
                yield* drain();
              }
              submitted += 1;
              const task = runTool(shown, event.toolCallId);
              pending.add(task);
              void task.finally(() => pending.delete(task));
            }
            reply.record(shown);
            yield shown;
          }
        }
        if (!rejected || retry === undefined) break;
        // The provider rejected a helper's key before anything ran: fetch it again, once.
        const again = retry;
        retry = undefined;
        const credential = await again.refresh();
        const notice = refreshedNotice(credential.provider, credential.source);
        again.tell(notice);
        reply.restart(credential, notice);
        // Both keys stay masked: the rejected one may still be quoted back.
        secrets = [...secrets, credential.secret.reveal()];
        masker = new SecretMasker(secrets);
        text = masker.stream();
        sessionId = again.newSessionId();
        context = { ...context, secrets };
        body = { ...body, session_id: sessionId, llm_api_key: credential.secret.reveal() };
      }
      await Promise.all([...pending]);
      yield* drain();
      finished = true;
    } catch (error) {
      if (error instanceof TraceError) {
        // Our own messages may quote the backend (an HTTP error body, a bad event).
        error.redact((value) => masker.mask(value));
        const rest = text.flush(); // the text held back is shown, masked, before the error
        if (rest) {
          reply.record({ type: "text", content: rest });
          yield { type: "text", content: rest };
        }
      }
      throw error;
    }
  } finally {
    if (!finished) stop.abort(new Error("the chat turn ended early")); // break, error or abort
    await Promise.allSettled([...pending]);
  }
  yield { type: "done", reply: reply.build() };
}

/** The `code` of an `error` event saying the model provider rejected the request's key. */
export const PROVIDER_AUTH = "provider_auth";

/** The masked events to pass on for one event from the backend (none, one or two). */
function* shownEvents(event: BackendEvent, masker: SecretMasker, text: StreamMasker): Generator<BackendEvent> {
  if (event.type === "text") {
    // A secret split over several deltas: the masker holds back an end that could start
    // one. A huge delta goes on in pieces.
    for (let start = 0; start < event.content.length; start += MAX_DELTA_CHARS) {
      const content = text.feed(event.content.slice(start, start + MAX_DELTA_CHARS));
      if (content) yield { type: "text", content };
    }
    return;
  }
  if (event.type === "backend_done") {
    const rest = text.flush();
    if (rest) yield { type: "text", content: rest };
  }
  yield masker.maskEvent(event);
}

/** A counting semaphore for the tools of one turn. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(count: number) {
    this.#free = Math.max(1, count);
  }

  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free += 1;
  }
}

function shorten(value: string, most: number): string {
  return cpLength(value) <= most ? value : cpSlice(value, 0, most - 1) + "…";
}

/** What a call works on (its path or pattern), shortened; null if none (domain/tools.py). */
export function callTarget(args: Readonly<Record<string, unknown>>): string | null {
  for (const name of TARGET_ARGUMENTS) {
    const value = Object.hasOwn(args, name) ? args[name] : undefined;
    if (typeof value === "string" && value !== "") return shorten(value, SHOWN_TARGET);
  }
  return null;
}

/** The summary a reply keeps of a finished run (application/chat.py `ToolRun.of`). */
export function toolRunOf(finished: ToolResultEvent): ToolRun {
  return {
    toolCallId: cpSlice(finished.call.toolCallId, 0, SHOWN_NAME),
    toolName: shorten(finished.call.toolName, SHOWN_NAME),
    isError: finished.result.isError,
    resultChars: cpLength(finished.result.result),
    target: callTarget(finished.call.toolArgs),
  };
}

/** Accumulates a turn's text, usage, tool summaries and errors, each bounded. */
class ReplyBuilder {
  readonly #resolution: Resolution;
  #credential: Credential | null;
  #notices: Notice[];
  /** A text delta or a tool call went out: no retry any more. */
  started = false;
  readonly #text: string[] = [];
  #textChars = 0;
  #textDropped = 0;
  readonly #tools: ToolRun[] = [];
  readonly #errors: string[] = [];
  #usage: Readonly<Record<string, unknown>> | null = null;
  conversationId: string | null = null;

  constructor(resolution: Resolution, notices: readonly Notice[]) {
    this.#resolution = resolution;
    this.#credential = resolution.credential;
    this.#notices = [...notices];
  }

  /** A retry with a fresh key: the reply says which key answered, and why. */
  restart(credential: Credential, notice: Notice): void {
    this.#credential = credential;
    this.#notices.push(notice);
  }

  record(event: ChatEvent): void {
    if (event.type === "text" || event.type === "tool_call") this.started = true;
    if (event.type === "text") this.#addText(event.content);
    else if (event.type === "metrics") this.#usage = event.data;
    else if (event.type === "error") {
      if (this.#errors.length < MAX_REPLY_ERRORS) this.#errors.push(shorten(event.content, MAX_ERROR_CHARS));
    } else if (event.type === "tool_result") this.#tools.push(toolRunOf(event));
  }

  #addText(content: string): void {
    const room = MAX_REPLY_TEXT - this.#textChars;
    const length = cpLength(content);
    let kept = content;
    if (length > room) {
      this.#textDropped += length - Math.max(room, 0);
      kept = cpSlice(content, 0, Math.max(room, 0));
    }
    if (kept) {
      this.#text.push(kept);
      this.#textChars += cpLength(kept);
    }
  }

  build(): ChatReply {
    const r = this.#resolution;
    let text = this.#text.join("");
    if (this.#textDropped > 0) text += `\n[reply text truncated: ${this.#textDropped} more characters were streamed]`;
    return {
      text,
      conversationId: this.conversationId,
      usage: this.#usage,
      provider: r.provider,
      model: r.model,
      keySource: this.#credential?.source ?? null,
      maskedKey: this.#credential?.secret.masked() ?? null,
      billing: r.billing,
      toolRuns: [...this.#tools],
      errors: [...this.#errors],
      projectFile: r.project !== null && r.project.state === "allowed" ? r.project.path : null,
      notices: [...this.#notices],
    };
  }
}
