/** A key or token that never shows itself, and the rules a key must follow. */
import { InvalidKeyError, InvalidModelError } from "./errors.js";
import { codePoints, isPrintable, isSpace, pyStrip } from "./text.js";

const MAX_SECRET_BYTES = 4096;
const MASK_MIN_LENGTH = 12; // below this, even four characters reveal too much
const KEY_PREFIXES = ["sk-", "sk_", "AIza", "ghp_", "gho_", "xox", "trace_", "eyJ"];
const TOKENISH = /^[A-Za-z0-9_\-+/=]{32,}$/;
const MAX_MODEL_ID_LENGTH = 200;

/** An API key or token; `String()`, JSON and `util.inspect` show only its masked form. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** Trim and validate user input; throws `InvalidKeyError` (never echoing the key). */
  static parse(raw: string, provider: string | null = null): Secret {
    const value = pyStrip(raw);
    if (value === "") throw new InvalidKeyError("the key is empty", provider);
    if (Buffer.byteLength(value, "utf8") > MAX_SECRET_BYTES) {
      throw new InvalidKeyError(`the key is longer than ${MAX_SECRET_BYTES} bytes`, provider);
    }
    const chars = [...value];
    if (chars.some(isSpace)) throw new InvalidKeyError("the key contains whitespace", provider);
    if (chars.some((ch) => !isPrintable(ch))) {
      throw new InvalidKeyError("the key contains control characters", provider);
    }
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
    throw new InvalidModelError("it looks like an API key; keys go in with byok set");
  }
  return value;
}
