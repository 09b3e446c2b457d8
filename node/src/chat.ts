/**
 * One chat turn: the backend's stream read as it arrives, the model's tool calls
 * dispatched to the `ToolRunner` (at most `maxParallel` at once, each posting its own
 * result so the backend can resume while other tools still run), then the reply.
 */
import { BackendError } from "./errors.js";
import type { ChatEvent, ChatReply, ToolCallEvent, ToolResultEvent } from "./events.js";
import type { HttpBackend, RequestContext } from "./http/backend.js";
import type { Resolution } from "./resolution.js";
import type { Secret } from "./secret.js";
import type { ToolRunner } from "./tools/runner.js";

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
}

type Outcome = ToolResultEvent | { readonly failure: unknown };

/** The turn's events as they arrive, tool outcomes as tools finish, then `done`. */
export async function* runTurn(turn: Turn): AsyncGenerator<ChatEvent, void, undefined> {
  const stop = new AbortController();
  const signal = turn.signal ? AbortSignal.any([stop.signal, turn.signal]) : stop.signal;
  const reply = new ReplyBuilder(turn.resolution);
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  const slots = new Slots(turn.maxParallel);
  let finished = false;

  const runTool = async (call: ToolCallEvent): Promise<void> => {
    await slots.take();
    try {
      const result = await turn.runner.run(call, signal);
      await turn.backend.postToolResult(turn.sessionId, result, turn.token, turn.context, signal);
      outcomes.push({ type: "tool_result", call, result });
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
    for await (const event of turn.backend.streamChat(turn.body, turn.token, turn.context, signal)) {
      yield* drain();
      if (event.type === "backend_done") {
        reply.conversationId = event.conversationId;
        continue;
      }
      if (event.type === "tool_call") {
        const task = runTool(event);
        pending.add(task);
        void task.finally(() => pending.delete(task));
      }
      reply.record(event);
      yield event;
    }
    await Promise.all([...pending]);
    yield* drain();
    finished = true;
  } finally {
    if (!finished) stop.abort(new Error("the chat turn ended early")); // break, error or abort
    await Promise.allSettled([...pending]);
  }
  yield { type: "done", reply: reply.build() };
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

/** Accumulates a turn's text, usage, tool runs and errors. */
class ReplyBuilder {
  readonly #resolution: Resolution;
  readonly #text: string[] = [];
  readonly #tools: ToolResultEvent[] = [];
  readonly #errors: string[] = [];
  #usage: Readonly<Record<string, unknown>> | null = null;
  conversationId: string | null = null;

  constructor(resolution: Resolution) {
    this.#resolution = resolution;
  }

  record(event: ChatEvent): void {
    if (event.type === "text") this.#text.push(event.content);
    else if (event.type === "metrics") this.#usage = event.data;
    else if (event.type === "error") this.#errors.push(event.content);
    else if (event.type === "tool_result") this.#tools.push(event);
  }

  build(): ChatReply {
    const r = this.#resolution;
    return {
      text: this.#text.join(""),
      conversationId: this.conversationId,
      usage: this.#usage,
      provider: r.provider,
      model: r.model,
      keySource: r.keySource,
      maskedKey: r.maskedKey,
      billing: r.billing,
      toolRuns: [...this.#tools],
      errors: [...this.#errors],
    };
  }
}
