/** A key or token that never shows itself, and the rules a key must follow. */
import { InvalidKeyError, InvalidModelError, InvalidTokenError } from "./errors.js";
import { codePoints, isPrintable, isSpace, pyStrip } from "./text.js";

const MAX_SECRET_BYTES = 4096;
const MASK_MIN_LENGTH = 12; // below this, even four characters reveal too much
const KEY_PREFIXES = ["sk-", "sk_", "AIza", "ghp_", "gho_", "xox", "trace_", "eyJ"];
const TOKENISH = /^[A-Za-z0-9_\-+/=]{32,}$/;
const MAX_MODEL_ID_LENGTH = 200;

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, "0");
/** Python's surrogate escapes: U+DC80..U+DCFF stand for bytes 0x80..0xFF that were not UTF-8. */
const escapedByte = (ch: string): number | null => {
  const code = ch.codePointAt(0) ?? 0;
  return code >= 0xdc80 && code <= 0xdcff ? code - 0xdc00 : null;
};

/** Why `value` (already trimmed) cannot be a key or token, in the Python domain's words. */
export function refusal(value: string): string | null {
  if (value === "") return "it is empty";
  const chars = [...value];
  const escaped = chars.map(escapedByte).filter((b): b is number => b !== null);
  if (escaped.length > 0) {
    const head = chars.slice(0, 2).map(escapedByte);
    const bom = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
    if (bom) {
      return `it is UTF-16 text (it starts with the bytes ${hex2(head[0] ?? 0)} ${hex2(head[1] ?? 0)}), not UTF-8; save it as UTF-8`;
    }
    return `it is not UTF-8 text (byte ${hex2(escaped[0] ?? 0)})`;
  }
  if (value.includes("\u0000")) {
    return "it contains NUL characters (U+0000), as UTF-16 text does; save it as UTF-8";
  }
  if (Buffer.byteLength(value, "utf8") > MAX_SECRET_BYTES) return `it is longer than ${MAX_SECRET_BYTES} bytes`;
  if (chars.some(isSpace)) return "it contains whitespace";
  const hidden = chars.find((ch) => !isPrintable(ch));
  if (hidden !== undefined) {
    const kind = /^\p{Cc}$/u.test(hidden) ? "control" : "invisible";
    const code = (hidden.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    return `it contains the ${kind} character U+${code}`;
  }
  return null;
}

/** An API key or token; `String()`, JSON and `util.inspect` show only its masked form. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** Trim and validate a provider key; throws `InvalidKeyError` (never echoing the key). */
  static parse(raw: string, provider: string | null = null): Secret {
    const value = pyStrip(raw);
    const reason = refusal(value);
    if (reason !== null) throw new InvalidKeyError(reason, provider);
    return new Secret(value);
  }

  /** Trim and validate a Trace token; throws `InvalidTokenError` (never echoing it). */
  static parseToken(raw: string): Secret {
    const value = pyStrip(raw);
    const reason = refusal(value);
    if (reason !== null) throw new InvalidTokenError(reason);
    return new Secret(value);
  }

  /** The plain text; only where the secret is sent. */
  reveal(): string {
    return this.#value;
  }

  /** At most the last four characters, after an ellipsis. */
  masked(): string {
    const chars = [...this.#value];
    return chars.length < MASK_MIN_LENGTH ? "…" : "…" + chars.slice(-4).join("");
  }

  /** The masked form. */
  toString(): string {
    return this.masked();
  }

  /** The masked form. */
  toJSON(): string {
    return this.masked();
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Secret(${this.masked()})`;
  }
}

/** True for values shaped like an API key or token. */
export function looksLikeSecret(value: string): boolean {
  const text = pyStrip(value);
  if (KEY_PREFIXES.some((p) => text.startsWith(p)) && codePoints(text) >= 16) return true;
  if (TOKENISH.test(text)) {
    return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text);
  }
  return false;
}

/** Trim and validate a model id; throws `InvalidModelError`. */
export function parseModelId(raw: string): string {
  const value = pyStrip(raw);
  if (value === "") throw new InvalidModelError("it is empty");
  if (codePoints(value) > MAX_MODEL_ID_LENGTH) {
    throw new InvalidModelError(`it is longer than ${MAX_MODEL_ID_LENGTH} characters`);
  }
  if ([...value].some((ch) => isSpace(ch) || !isPrintable(ch))) {
    throw new InvalidModelError("it contains whitespace or control characters");
  }
  if (looksLikeSecret(value)) {
    throw new InvalidModelError("it looks like an API key, not a model id (keys go in with byok set)");
  }
  return value;
}
