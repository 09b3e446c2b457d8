/**
 * Masking secrets in everything the backend sends (domain/masking.py, the same rules):
 * every run of at least `MIN_SECRET_RUN` characters of the provider key or the Trace
 * token, raw or escaped as inside a JSON string, is replaced by `***`, in every event
 * (nested data and object keys too), in tool arguments before a tool runs and results
 * before they are posted, in the reply and in error messages. Text deltas go through a
 * `StreamMasker`, which holds back an end that could start a secret, so a key split
 * over several deltas is masked too.
 *
 * Positions are UTF-16 units where Python counts code points: for a secret with
 * characters outside the BMP a Node run of 8 units is shorter, so Node masks at least
 * what Python masks (keys and tokens are ASCII in practice; tests/shared/
 * masking-cases.json is run by both).
 */
import type { BackendEvent } from "./events.js";

export const MIN_SECRET_RUN = 8;
export const SHOWN_AT_ONCE = 3;
export const MASK = "***";

type Span = [number, number];

function jsonForm(secret: string, ascii: boolean): string {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return ascii ? escaped.replace(/[\u0080-\uffff]/g, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0")) : escaped;
}

function forms(secret: string): string[] {
  return [...new Set([secret, jsonForm(secret, true), jsonForm(secret, false)])];
}

function commonPrefix(text: string, at: number, secret: string, offset: number): number {
  let count = 0;
  const most = Math.min(text.length - at, secret.length - offset);
  while (count < most && text.charCodeAt(at + count) === secret.charCodeAt(offset + count)) count += 1;
  return count;
}

function commonSuffix(text: string, at: number, secret: string, offset: number): number {
  let count = 0;
  const most = Math.min(at, offset);
  while (count < most && text.charCodeAt(at - count - 1) === secret.charCodeAt(offset - count - 1)) count += 1;
  return count;
}

/** One form of one secret: its anchors, and how to grow a hit into the longest run. */
class Pattern {
  readonly text: string;
  readonly #run: number;
  readonly #anchors = new Map<string, number[]>();

  constructor(text: string) {
    this.text = text;
    this.#run = Math.min(MIN_SECRET_RUN, text.length);
    // Every run of `run` characters contains one of these anchors (`step` apart, each
    // `run - step + 1` long): finding the anchors finds every run.
    const step = Math.max(1, Math.floor(this.#run / 2));
    const width = this.#run - step + 1;
    for (let at = 0; at + width <= text.length; at += step) {
      const anchor = text.slice(at, at + width);
      const offsets = this.#anchors.get(anchor);
      if (offsets === undefined) this.#anchors.set(anchor, [at]);
      else offsets.push(at);
    }
  }

  /** [start, end] of every run of the secret in `haystack` (they may overlap). */
  spans(haystack: string): Span[] {
    const found: Span[] = [];
    // Per alignment (start minus offset), the run found so far: grown once per copy.
    const grown = new Map<number, Span>();
    for (const [anchor, offsets] of this.#anchors) {
      for (let at = haystack.indexOf(anchor); at >= 0; at = haystack.indexOf(anchor, at + 1)) {
        for (const offset of offsets) {
          const diagonal = at - offset;
          const known = grown.get(diagonal);
          if (known !== undefined && known[0] <= at && at + anchor.length <= known[1]) continue;
          const start = at - commonSuffix(haystack, at, this.text, offset);
          const end = at + commonPrefix(haystack, at, this.text, offset);
          grown.set(diagonal, [start, end]);
          if (end - start >= this.#run) found.push([start, end]);
        }
      }
    }
    return found;
  }
}

/** `text[start:end]` with the parts inside `spans` (sorted, apart) replaced by the mask. */
function apply(text: string, spans: readonly Span[], start = 0, end = text.length): string {
  const parts: string[] = [];
  let at = start;
  for (const [low, high] of spans) {
    const from = Math.max(low, start);
    const to = Math.min(high, end);
    if (from < to) {
      parts.push(text.slice(at, from), MASK);
      at = to;
    }
  }
  if (parts.length === 0) return start === 0 && end === text.length ? text : text.slice(start, end);
  parts.push(text.slice(at, end));
  return parts.join("");
}

/** Replaces every run of every secret with `***`. */
export class SecretMasker {
  readonly #patterns: readonly Pattern[];

  constructor(secrets: Iterable<string>) {
    const all = new Set<string>();
    for (const secret of secrets) if (secret) for (const form of forms(secret)) all.add(form);
    this.#patterns = [...all].sort().map((form) => new Pattern(form));
  }

  /** True when there is anything to mask. */
  get active(): boolean {
    return this.#patterns.length > 0;
  }

  /** The merged [start, end] spans of `text` that hold a run of a secret. */
  spans(text: string): Span[] {
    const found = this.#patterns.flatMap((pattern) => pattern.spans(text));
    found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged: Span[] = [];
    for (const [start, end] of found) {
      const last = merged.at(-1);
      if (last !== undefined && start <= last[1]) {
        if (end > last[1]) last[1] = end;
      } else {
        merged.push([start, end]);
      }
    }
    return merged;
  }

  /** `text` with every run of a secret replaced by `***`. */
  mask(text: string): string {
    if (!this.active || !text) return text;
    return apply(text, this.spans(text));
  }

  /** `value` with every string inside it masked, keys included (objects, arrays). */
  maskData<T>(value: T): T {
    if (!this.active) return value;
    return this.#data(value) as T;
  }

  #data(value: unknown): unknown {
    if (typeof value === "string") return this.mask(value);
    if (Array.isArray(value)) return value.map((item) => this.#data(item));
    if (typeof value === "object" && value !== null) {
      // fromEntries defines own properties: a "__proto__" key stays a plain key.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.mask(k), this.#data(v)]));
    }
    return value;
  }

  /** `event` with every string it shows masked (a text delta alone: see `stream`). */
  maskEvent(event: BackendEvent): BackendEvent {
    if (!this.active) return event;
    switch (event.type) {
      case "text":
      case "thinking":
      case "status":
        return { type: event.type, content: this.mask(event.content) };
      case "error":
        return { ...event, content: this.mask(event.content) }; // code and status are checked shapes
      case "tool_call":
        return {
          type: "tool_call",
          toolCallId: this.mask(event.toolCallId),
          toolName: this.mask(event.toolName),
          toolArgs: this.maskData(event.toolArgs),
        };
      case "file_edit":
      case "metrics":
        return { type: event.type, data: this.maskData(event.data) };
      case "backend_done":
        return event.conversationId === null ? event : { type: "backend_done", conversationId: this.mask(event.conversationId) };
    }
  }

  /** A masker for text that arrives in pieces (a secret may be split across them). */
  stream(): StreamMasker {
    return new StreamMasker(this);
  }

  /** The length of the longest end of `text` that is part of a secret (to hold back). */
  tailLength(text: string): number {
    let best = 0;
    for (const pattern of this.#patterns) {
      // Longer ends are only ever harder to find inside the secret: binary search.
      let low = best;
      let high = Math.min(text.length, pattern.text.length);
      while (low < high) {
        const middle = Math.floor((low + high + 1) / 2);
        if (pattern.text.includes(text.slice(text.length - middle))) low = middle;
        else high = middle - 1;
      }
      best = low;
    }
    return best;
  }
}

/**
 * Masks a text stream piece by piece, holding back an end that could start a secret.
 * `feed` returns what can be shown now; `flush` the rest once the stream ends. An end of
 * up to `SHOWN_AT_ONCE` characters is shown at once and then counts as the start of a
 * possible run, so at most that many characters of a run are ever shown.
 */
export class StreamMasker {
  readonly #masker: SecretMasker;
  #held = "";
  #context = ""; // the last characters shown: a run may continue them

  constructor(masker: SecretMasker) {
    this.#masker = masker;
  }

  /** The masked text that is safe to show now (may be empty). */
  feed(piece: string): string {
    if (!this.#masker.active) return piece;
    const context = this.#context;
    const text = context + this.#held + piece;
    const spans = this.#masker.spans(text);
    const tail = this.#masker.tailLength(text);
    let cut = tail <= SHOWN_AT_ONCE ? text.length : text.length - tail;
    for (const [start, end] of spans) {
      if (start < cut && cut < end) cut = start; // a run reaching into the held end stays whole
    }
    cut = Math.max(cut, context.length);
    this.#held = text.slice(cut);
    this.#context = text.slice(Math.max(0, cut - SHOWN_AT_ONCE), cut);
    return apply(text, spans, context.length, cut);
  }

  /** Everything still held, masked; the stream starts afresh. */
  flush(): string {
    const text = this.#context + this.#held;
    const shown = apply(text, this.#masker.spans(text), this.#context.length, text.length);
    this.#held = "";
    this.#context = "";
    return shown;
  }
}
