/**
 * Server-sent events to chat events (WHATWG framing: lines end in LF, CRLF or CR, an
 * empty line dispatches the `data:` lines gathered so far, an event cut off by the
 * end of the stream is discarded), with the Python parser's rules: linear time however
 * the bytes are split, every byte (field names, comments and line ends included)
 * counted toward a per-event cap, and payloads that are not one JSON object with
 * finite numbers refused as malformed.
 */
import { ProtocolError } from "./errors.js";
import type { BackendEvent } from "./events.js";

/** Far above any real event (a whole board file in a file_edit), far below memory trouble. */
export const MAX_EVENT_BYTES = 64 * 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const DATA = [0x64, 0x61, 0x74, 0x61]; // "data"

/** Incremental SSE framing: feed byte chunks, get back each event's joined `data` payload. */
export class SseDecoder {
  readonly #limit: number;
  #line: Uint8Array[] = []; // the unfinished line, as chunks: joined once it ends
  #data: Uint8Array[] = [];
  #hasData = false;
  #eventBytes = 0; // every byte since the last dispatch
  #afterCR = false; // the last byte was a CR: a LF first in the next chunk ends nothing
  #atStart = true;

  constructor(maxEventBytes = MAX_EVENT_BYTES) {
    this.#limit = maxEventBytes;
  }

  /** The payloads of the events `chunk` completes. */
  feed(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    let index = 0;
    if (this.#afterCR && chunk.length > 0 && chunk[0] === LF) {
      start = index = 1;
      this.#count(1);
    }
    this.#afterCR = false;
    while (index < chunk.length) {
      const byte = chunk[index];
      if (byte === LF || byte === CR) {
        this.#count(index - start + 1);
        this.#line.push(chunk.subarray(start, index));
        this.#endLine(out);
        if (byte === CR) {
          if (index + 1 < chunk.length) {
            if (chunk[index + 1] === LF) {
              index += 1;
              this.#count(1);
            }
          } else {
            this.#afterCR = true;
          }
        }
        start = index + 1;
      }
      index += 1;
    }
    if (start < chunk.length) {
      this.#count(chunk.length - start);
      this.#line.push(chunk.subarray(start));
    }
    return out;
  }

  /** End of stream: an unfinished event is dropped. */
  close(): void {
    this.#line = [];
    this.#data = [];
    this.#hasData = false;
  }

  #count(bytes: number): void {
    this.#eventBytes += bytes;
    if (this.#eventBytes > this.#limit) {
      this.#line = [];
      this.#data = [];
      throw new ProtocolError(
        `the Trace backend sent an event larger than ${Math.floor(this.#limit / (1024 * 1024))} MiB`,
      );
    }
  }

  #endLine(out: Uint8Array[]): void {
    let line = this.#line.length === 1 ? (this.#line[0] ?? new Uint8Array()) : concat(this.#line);
    this.#line = [];
    if (this.#atStart) {
      this.#atStart = false;
      if (line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) line = line.subarray(3);
    }
    if (line.length === 0) {
      if (this.#hasData) out.push(concatLines(this.#data));
      this.#data = [];
      this.#hasData = false;
      this.#eventBytes = 0;
      return;
    }
    if (!startsWithData(line)) return; // comments, event/id/retry and unknown fields
    if (line.length === 4) {
      this.#data.push(new Uint8Array());
    } else if (line[4] === 0x3a) {
      const value = line.subarray(5);
      this.#data.push(value[0] === 0x20 ? value.subarray(1) : value);
    } else {
      return; // "dataX": another field
    }
    this.#hasData = true;
  }
}

function startsWithData(line: Uint8Array): boolean {
  return line.length >= 4 && DATA.every((b, i) => line[i] === b);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function concatLines(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] ?? new Uint8Array();
  const joined: Uint8Array[] = [];
  parts.forEach((part, i) => {
    if (i > 0) joined.push(Uint8Array.of(LF));
    joined.push(part);
  });
  return concat(joined);
}

/** A payload that is not a valid event. */
export const MALFORMED = Symbol("malformed");

const decoder = new TextDecoder("utf-8", { fatal: true });

function finiteOnly(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) throw new RangeError("non-finite number");
  return value;
}

/** One payload as an event; null for an unknown type, MALFORMED for bad data. */
export function decodeEvent(payload: Uint8Array): BackendEvent | null | typeof MALFORMED {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(payload), finiteOnly);
  } catch {
    return MALFORMED;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return MALFORMED;
  const obj = parsed as Record<string, unknown>;
  const kind = obj["type"];
  if (typeof kind !== "string") return MALFORMED;
  switch (kind) {
    case "text_delta":
      return typeof obj["content"] === "string" ? { type: "text", content: obj["content"] } : MALFORMED;
    case "thinking":
    case "status":
    case "error": {
      const content = text(obj, "content") ?? text(obj, "message");
      if (content === undefined) return MALFORMED;
      return { type: kind, content };
    }
    case "tool_call":
      return toolCall(obj);
    case "file_edit":
      return { type: "file_edit", data: rest(obj) };
    case "metrics":
      return { type: "metrics", data: rest(obj) };
    case "done": {
      const id = obj["conversation_id"];
      if (id === undefined || id === null) return { type: "backend_done", conversationId: null };
      return typeof id === "string" ? { type: "backend_done", conversationId: id } : MALFORMED;
    }
    default:
      return null;
  }
}

function text(obj: Record<string, unknown>, name: string): string | undefined {
  const value = obj[name];
  return typeof value === "string" ? value : undefined;
}

function rest(obj: Record<string, unknown>): Record<string, unknown> {
  // fromEntries defines own properties: a "__proto__" key stays a plain key.
  return Object.fromEntries(Object.entries(obj).filter(([k]) => k !== "type"));
}

function toolCall(obj: Record<string, unknown>): BackendEvent | typeof MALFORMED {
  const id = obj["tool_call_id"];
  const name = obj["tool_name"];
  let args: unknown = obj["tool_args"] ?? {};
  if (typeof args === "string") {
    // Some model APIs hand arguments over as a JSON string; accept it when it is an object.
    try {
      args = args.trim() === "" ? {} : JSON.parse(args, finiteOnly);
    } catch {
      return MALFORMED;
    }
  }
  if (args === null) args = {};
  if (typeof id !== "string" || id === "" || typeof name !== "string" || name === "") return MALFORMED;
  if (typeof args !== "object" || Array.isArray(args)) return MALFORMED;
  return { type: "tool_call", toolCallId: id, toolName: name, toolArgs: args as Record<string, unknown> };
}
