/**
 * Server-sent events to chat events (WHATWG framing: lines end in LF, CRLF or CR, an
 * empty line dispatches the `data:` lines gathered so far, an event cut off by the
 * end of the stream is discarded), with the Python parser's rules
 * (adapters/backend/http/sse.py): linear time however the bytes are split, every byte
 * (field names, comments and line ends included) counted toward a 24 MiB per-event cap,
 * and payloads that are not one JSON object with finite numbers, or that nest deeper
 * than 1,000 levels, refused as malformed. The shared cases (tests/shared/sse-cases.json,
 * written by the Python parser) run against both.
 *
 * Python also caps an event's decoded size (its strings may take 4 bytes a character);
 * a JavaScript string takes at most 2 bytes per UTF-8 byte it came from, so the wire cap
 * bounds it here.
 */
import { ProtocolError } from "./errors.js";
import type { BackendEvent } from "./events.js";

/**
 * One event (every byte since the last one, see `SseDecoder`) may be this large: the
 * Python client's cap. The largest legitimate event is a write of a whole design file
 * (the tools write at most 20 MiB) or a file_edit carrying a board file of a few MB.
 */
export const MAX_EVENT_BYTES = 24 * 1024 * 1024;
/**
 * The deepest nesting of arrays and objects an event may have. Python refuses what its
 * recursion limit refuses (about 995 levels inside an event); Node's JSON.parse would
 * accept a million, and masking and copying nested data recurse, so the bound is explicit.
 */
// Deeper than any event of the protocol needs; the same limit as the Python SDK (sse.py),
// so both skip the same events (tests/shared/sse-cases.json).
export const MAX_DEPTH = 64;
const LF = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];
const NEWLINE = Uint8Array.of(LF);

/** A byte buffer that grows by doubling: an event's memory is its size, whatever its lines. */
class Bytes {
  #buffer = Buffer.alloc(0);
  length = 0;

  append(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2, 256));
      this.#buffer.copy(grown, 0, 0, this.length);
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.length);
    this.length = needed;
  }

  /** A copy of the content; the buffer is emptied. */
  take(): Uint8Array {
    const out = new Uint8Array(this.length);
    out.set(this.#buffer.subarray(0, this.length));
    this.clear();
    return out;
  }

  clear(): void {
    this.#buffer = Buffer.alloc(0);
    this.length = 0;
  }
}

/** CRLF and a lone CR turned into LF (they end lines too; rare on the wire). */
function normalised(chunk: Uint8Array): Uint8Array {
  const out = new Uint8Array(chunk.length);
  let size = 0;
  for (let i = 0; i < chunk.length; i += 1) {
    const byte = chunk[i] ?? 0;
    if (byte === CR) {
      out[size] = LF;
      if (chunk[i + 1] === LF) i += 1;
    } else {
      out[size] = byte;
    }
    size += 1;
  }
  return out.subarray(0, size);
}

/**
 * Incremental SSE framing: feed byte chunks, get back each event's joined `data`
 * payload. Every byte since the last dispatched event counts toward the cap (CRLF
 * counting as one, as in Python), and so does an unfinished line: past the cap the
 * stream is refused with `ProtocolError`. An event's data is kept in one compact
 * buffer, so its memory is its size however many lines it has.
 */
export class SseDecoder {
  readonly #limit: number;
  readonly #line = new Bytes(); // the unfinished last line
  readonly #data = new Bytes();
  #hasData = false;
  #size = 0; // bytes of the open event so far (complete lines)
  #cr = false; // the last chunk ended with CR: a leading LF completes that CRLF
  #atStart = true;

  constructor(maxEventBytes = MAX_EVENT_BYTES) {
    this.#limit = maxEventBytes;
  }

  /** The payloads of the events `chunk` completes. */
  feed(input: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let chunk = input;
    if (chunk.length === 0) return out;
    if (this.#cr) {
      this.#cr = false;
      if (chunk[0] === LF) chunk = chunk.subarray(1);
    }
    if (chunk.includes(CR)) {
      this.#cr = chunk[chunk.length - 1] === CR;
      chunk = normalised(chunk);
    }
    let start = 0;
    if (this.#line.length > 0) {
      const end = chunk.indexOf(LF);
      if (end < 0) {
        this.#line.append(chunk);
        this.#checkOpen();
        return out;
      }
      this.#line.append(chunk.subarray(0, end));
      this.#endLine(this.#line.take(), out);
      start = end + 1;
    }
    for (let end = chunk.indexOf(LF, start); end >= 0; end = chunk.indexOf(LF, start)) {
      this.#endLine(chunk.subarray(start, end), out);
      start = end + 1;
    }
    if (start < chunk.length) {
      this.#line.append(chunk.subarray(start));
      this.#checkOpen();
    }
    return out;
  }

  /** End of stream: an event not ended by an empty line is discarded (WHATWG). */
  close(): void {
    this.#reset();
  }

  #reset(): void {
    this.#line.clear();
    this.#data.clear();
    this.#hasData = false;
    this.#size = 0;
  }

  #checkOpen(): void {
    if (this.#size + this.#line.length > this.#limit) throw this.#tooLarge();
  }

  #tooLarge(): ProtocolError {
    this.#reset();
    return new ProtocolError(`the Trace backend sent an event larger than ${Math.floor(this.#limit / (1024 * 1024))} MiB`);
  }

  #endLine(whole: Uint8Array, out: Uint8Array[]): void {
    let line = whole;
    if (this.#atStart) {
      this.#atStart = false;
      if (BOM.every((b, i) => line[i] === b)) line = line.subarray(3);
    }
    if (line.length === 0) {
      if (this.#hasData) out.push(this.#data.take());
      this.#hasData = false;
      this.#size = 0;
      return;
    }
    this.#size += line.length + 1;
    if (this.#size > this.#limit) throw this.#tooLarge();
    // "data" then ":" or the end of the line; comments (":..."), event/id/retry and
    // other fields ("database:") are counted only.
    if (line[0] !== 0x64 || line[1] !== 0x61 || line[2] !== 0x74 || line[3] !== 0x61) return;
    let value: Uint8Array;
    if (line.length === 4) value = line.subarray(4);
    else if (line[4] === 0x3a) value = line.subarray(line[5] === 0x20 ? 6 : 5);
    else return;
    if (this.#hasData) this.#data.append(NEWLINE);
    this.#data.append(value);
    this.#hasData = true;
  }
}

/** True when `payload` nests arrays and objects deeper than `MAX_DEPTH` (one linear scan). */
export function tooDeep(payload: Uint8Array): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < payload.length; i += 1) {
    const byte = payload[i];
    if (inString) {
      if (byte === 0x5c) i += 1;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      depth += 1;
      if (depth > MAX_DEPTH) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth -= 1;
  }
  return false;
}

export const MALFORMED = Symbol("malformed");

const decoder = new TextDecoder("utf-8", { fatal: true });

function finiteOnly(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) throw new RangeError("non-finite number");
  return value;
}

/** One payload as an event; null for an unknown type, MALFORMED for bad data. */
export function decodeEvent(payload: Uint8Array): BackendEvent | null | typeof MALFORMED {
  if (tooDeep(payload)) return MALFORMED;
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
    case "status": {
      const content = text(obj, "content") ?? text(obj, "message");
      if (content === undefined) return MALFORMED;
      return { type: kind, content };
    }
    case "error":
      return errorEvent(obj, payload);
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

const ERROR_CODE = /^[a-z][a-z0-9_]{0,39}$/;

/**
 * An `error` event with its optional `code` and `provider_status` (docs/architecture.md,
 * "the provider rejected the key"); values of the wrong shape are dropped, the event
 * stays an error. `provider_status` must be a JSON integer, as Python's `type(x) is int`
 * requires: `401.0` and `true` are not, so the number's own text is looked at.
 */
function errorEvent(obj: Record<string, unknown>, payload: Uint8Array): BackendEvent | typeof MALFORMED {
  const content = text(obj, "content") ?? text(obj, "message");
  if (content === undefined) return MALFORMED;
  const code = obj["code"];
  const status = obj["provider_status"];
  const integer =
    typeof status === "number" && status >= 100 && status <= 599 && /^-?(?:0|[1-9][0-9]*)$/.test(topLevelRaw(payload, "provider_status") ?? "");
  // Present only when sent and well-formed, so an error event without them reads as before.
  return {
    type: "error",
    content,
    ...(typeof code === "string" && ERROR_CODE.test(code) ? { code } : {}),
    ...(integer ? { providerStatus: status } : {}),
  };
}

/**
 * The source text of the last top-level member `name` of a JSON object (the one
 * `JSON.parse` keeps), or undefined. `payload` is known to be valid JSON.
 */
export function topLevelRaw(payload: Uint8Array, name: string): string | undefined {
  const source = decoder.decode(payload);
  let depth = 0;
  let found: string | undefined;
  let i = 0;
  const skipString = (at: number): number => {
    let j = at + 1;
    while (j < source.length && source[j] !== '"') j += source[j] === "\\" ? 2 : 1;
    return j + 1;
  };
  while (i < source.length) {
    const ch = source[i];
    if (ch === '"') {
      const end = skipString(i);
      if (depth === 1) {
        let after = end;
        while (/\s/.test(source[after] ?? "")) after += 1;
        if (source[after] === ":" && JSON.parse(source.slice(i, end)) === name) {
          let start = after + 1;
          while (/\s/.test(source[start] ?? "")) start += 1;
          let stop = start;
          if (source[stop] === '"') stop = skipString(stop);
          else while (stop < source.length && !/[\s,}\]]/.test(source[stop] ?? "")) stop += 1;
          found = source.slice(start, stop);
        }
      }
      i = end;
    } else {
      if (ch === "{" || ch === "[") depth += 1;
      else if (ch === "}" || ch === "]") depth -= 1;
      i += 1;
    }
  }
  return found;
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
    if (tooDeep(new TextEncoder().encode(args))) return MALFORMED;
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
