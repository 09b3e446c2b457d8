/**
 * The Trace backend over HTTP with the platform's `fetch` (injectable): the chat
 * stream, tool results, the Python client's retry policy and status mapping.
 *
 * Requests before a stream starts are retried on 429/502/503 and network failures;
 * a stream that breaks after its 200 answer is never retried, because the backend may
 * already be running tools whose writes a second request would repeat. Redirects are
 * refused (a credential must never follow one), and no message carries a secret.
 */
import {
  BackendError,
  BackendUnavailableError,
  ProtocolError,
  type TraceError,
} from "../errors.js";
import type { BackendEvent, ToolResult } from "../events.js";
import type { Secret } from "../secret.js";
import { MALFORMED, SseDecoder, decodeEvent } from "../sse.js";
import { RETRYABLE_STATUS, RetryPolicy, parseRetryAfter } from "./retry.js";
import { checkApiVersion, checkTransport, pinLocalhost } from "./urls.js";
import type { ProviderName } from "../provider.js";
import { statusError } from "./wire.js";

/** The `fetch` signature the SDK needs (the platform's, or a caller's own). */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** How the backend is reached. */
export interface BackendOptions {
  readonly baseUrl: string;
  readonly apiVersion?: string;
  readonly fetch?: Fetch;
  /** Longest silence inside a stream (and wait for an answer), in milliseconds. */
  readonly readTimeoutMs?: number;
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told about malformed events that were skipped. */
  readonly onWarning?: (text: string) => void;
}

/** What the status mapping and the masking need to know about one request. */
export interface RequestContext {
  readonly what: string;
  readonly mode?: string | undefined;
  /** The provider in effect (`trace` without a key): a 402 says who pays for it. */
  readonly provider?: ProviderName | undefined;
  readonly secrets: readonly string[];
}

const ERROR_BODY_BYTES = 16384;
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** The Trace backend: `POST /chat/stream` as events, `POST /tools/result`. */
export class HttpBackend {
  readonly #options: BackendOptions;
  readonly #fetch: Fetch;
  readonly #retry: RetryPolicy;
  #prefix: Promise<string> | null = null;

  constructor(options: BackendOptions) {
    checkTransport(options.baseUrl);
    checkApiVersion(options.apiVersion ?? "latest");
    this.#options = options;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#retry = options.retry ?? new RetryPolicy();
  }

  /** The events of one chat turn, until the backend's `done`. */
  async *streamChat(
    body: Readonly<Record<string, unknown>>,
    token: Secret,
    context: RequestContext,
    signal: AbortSignal,
  ): AsyncGenerator<BackendEvent, void, undefined> {
    const url = `${await this.#urlPrefix()}/chat/stream`;
    const response = await this.#send(url, token, body, context, signal, true);
    const stream = response.body;
    if (stream === null) throw new ProtocolError("the Trace backend answered without a body");
    const reader = stream.getReader();
    const decoder = new SseDecoder();
    let malformed = 0;
    let failure: TraceError | null = null;
    try {
      for (;;) {
        let chunk: ReadResult;
        try {
          chunk = await this.#read(reader, signal);
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          if (error instanceof BackendError) throw error;
          failure = new BackendUnavailableError(
            `the Trace backend's stream broke off: ${networkFailure(error)}; ` +
              "not retried, because tools may already have run",
          );
          break;
        }
        if (chunk.done) break;
        for (const payload of decoder.feed(chunk.value)) {
          const event = decodeEvent(payload);
          if (event === null) continue;
          if (event === MALFORMED) {
            malformed += 1;
            continue;
          }
          yield event;
          if (event.type === "backend_done") return;
        }
      }
    } finally {
      decoder.close();
      if (malformed > 0) this.#options.onWarning?.(`skipped ${malformed} malformed event(s) in the Trace backend's stream`);
      await reader.cancel().catch(() => undefined);
    }
    throw failure ?? new ProtocolError("the Trace backend ended the stream without a 'done' event");
  }

  /** `POST /tools/result`; retried like the rest (the backend dedupes by tool_call_id). */
  async postToolResult(
    sessionId: string,
    result: ToolResult,
    token: Secret,
    context: RequestContext,
    signal: AbortSignal,
  ): Promise<void> {
    const body: Record<string, unknown> = {
      session_id: sessionId,
      tool_call_id: result.toolCallId,
      result: result.result,
    };
    if (result.isError) body["is_error"] = true;
    const url = `${await this.#urlPrefix()}/tools/result`;
    const response = await this.#send(url, token, body, { ...context, what: "tool result" }, signal, false);
    // The acknowledgement is a few bytes: read a bounded part and drop the rest, so a
    // hostile backend cannot fill memory with it (as in the Python client).
    await readSome(response, ANSWER_BYTES);
  }

  #urlPrefix(): Promise<string> {
    this.#prefix ??= pinLocalhost(this.#options.baseUrl).then(
      (base) => `${base}/api/${this.#options.apiVersion ?? "latest"}`,
    );
    return this.#prefix;
  }

  async #read(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    signal: AbortSignal,
  ): Promise<ReadResult> {
    const limit = this.#options.readTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new BackendUnavailableError(
          `the Trace backend's stream went silent for ${limit / 1000} s; not retried, because tools may already have run`,
        ));
      }, limit);
    });
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    try {
      return await Promise.race([reader.read(), timeout, aborted]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #send(
    url: string,
    token: Secret,
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
    signal: AbortSignal,
    stream: boolean,
  ): Promise<Response> {
    checkTransport(url);
    const plain = token.reveal();
    if (!/^[\x20-\x7e]*$/.test(plain)) {
      throw new BackendError(
        "the Trace token contains non-ASCII characters and cannot be sent",
        "buildwithtrace auth login",
      );
    }
    const headers = {
      Authorization: `Bearer ${plain}`,
      Accept: stream ? "text/event-stream" : "application/json",
      "Content-Type": "application/json",
    };
    const payload = JSON.stringify(body);
    const sleep = this.#options.sleep ?? realSleep;
    let attempt = 0;
    let waited = 0;
    for (;;) {
      attempt += 1;
      let reason: string;
      let retryAfter: string | null = null;
      let response: Response | undefined;
      try {
        response = await this.#fetch(url, { method: "POST", headers, body: payload, redirect: "error", signal });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (isRedirect(error)) {
          throw new BackendError(
            `the Trace backend's ${context.what} request was redirected; credentials never follow a redirect`,
            "set TRACE_BASE_URL to the backend's final https:// address",
          );
        }
        reason = networkFailure(error);
      }
      if (response !== undefined) {
        const status = response.status;
        if (status >= 200 && status < 300) {
          if (stream) checkEventStream(response);
          return response;
        }
        const excerpt = await readSome(response, ERROR_BODY_BYTES);
        if (!RETRYABLE_STATUS.has(status)) {
          throw statusError(status, excerpt, context.secrets, context);
        }
        reason = `HTTP ${status}`;
        retryAfter = response.headers.get("retry-after");
      } else {
        reason ??= "network error";
      }
      const wait = this.#retry.waitBefore(attempt, retryAfter, waited);
      if (wait === null) {
        const asked = parseRetryAfter(retryAfter, Date.now());
        if (asked !== null && attempt <= this.#retry.maxRetries) {
          reason += `, which asked us to wait ${Math.round(asked)} s, beyond our limit`;
        }
        throw new BackendUnavailableError(
          `the Trace backend's ${context.what} request failed after ${attempt} ` +
            `attempt${attempt === 1 ? "" : "s"} (last: ${reason})`,
        );
      }
      await sleep(wait * 1000);
      waited += wait;
    }
  }
}

function checkEventStream(response: Response): void {
  const kind = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (kind !== "text/event-stream") {
    void response.body?.cancel().catch(() => undefined);
    throw new ProtocolError(
      `the Trace backend answered ${kind.slice(0, 60) || "no content type"} instead of an event stream`,
    );
  }
}

/** The most read of any answer but the event stream (they are a few hundred bytes). */
const ANSWER_BYTES = 64 * 1024;

async function readSome(response: Response, limit: number): Promise<Uint8Array> {
  const body = response.body;
  if (body === null) return new Uint8Array();
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } catch {
    // a broken error body is just shorter
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(Math.min(size, limit));
  let at = 0;
  for (const part of parts) {
    const take = part.subarray(0, out.length - at);
    out.set(take, at);
    at += take.length;
  }
  return out;
}

function causeOf(error: unknown): unknown {
  return error instanceof Error && "cause" in error ? error.cause : undefined;
}

function isRedirect(error: unknown): boolean {
  const cause = causeOf(error);
  return cause instanceof Error && /redirect/i.test(cause.message);
}

/** A short, secret-free description of a network failure (no URL, no headers). */
function networkFailure(error: unknown): string {
  const cause = causeOf(error);
  const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ECONNRESET") {
    return `could not connect (${code})`;
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT") return "connecting timed out";
  if (code === "UND_ERR_SOCKET") return "the connection closed before a complete answer";
  if (code !== undefined) return `network error (${code})`;
  return `network error (${error instanceof Error ? error.name : "unknown"})`;
}
