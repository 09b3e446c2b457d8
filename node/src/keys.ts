/**
 * Where a provider's key lives: named keys, helper commands, and what a helper prints.
 * The rules of the Python side's `domain/keys.py`, pure (nothing runs here;
 * `helpers/subprocess.ts` runs a helper), checked case by case against
 * tests/shared/key-source-cases.json:
 *
 * - a **key reference** is a provider plus an optional name (`anthropic` or
 *   `anthropic:work`); its secret-store account is `llm:anthropic` or `llm:anthropic:work`;
 * - a **helper command** is stored in config.toml (never a key); it is split like a POSIX
 *   shell would (Python's `shlex`) and run without a shell unless stored with `shell`;
 * - a helper prints the bare key (its first line counts) or a JSON object
 *   `{"key": ..., "expires_at": RFC 3339}`; `parseHelperOutput` reads either.
 */
import { InvalidInputError, KeyHelperError } from "./errors.js";
import { type ProviderName, accountOf } from "./provider.js";
import { Secret, looksLikeSecret } from "./secret.js";
import { codePoints, isPrintable, isSpace, pyRepr, pyStrip } from "./text.js";

/** The longest key name. */
export const MAX_KEY_NAME = 32;
/** Leaves of a `[keys.<provider>]` table: a key may not be named like them. */
export const RESERVED_KEY_NAMES: readonly string[] = ["helper", "shell"];
const KEY_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const PIECES = /[^\s'"=:]+/gu; // the parts of a command a key could hide in

/** The longest helper command, in characters. */
export const MAX_HELPER_COMMAND = 4096;
/** Why a helper runs (may it prompt?): told to it in this variable. */
export const HELPER_REASON_ENV = "TRACE_KEY_HELPER_REASON";
/** The provider whose key a helper is asked for. */
export const HELPER_PROVIDER_ENV = "TRACE_KEY_HELPER_PROVIDER";
/** The key's name (empty for a provider's default key). */
export const HELPER_NAME_ENV = "TRACE_KEY_HELPER_NAME";
/** What a helper may print: a key is at most 4 KiB; anything far larger is not one. */
export const MAX_HELPER_OUTPUT = 64 * 1024;
const MAX_KEY_BYTES = 4096;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
// Python's str.splitlines() boundaries.
const LINE_BREAK = /\r\n|[\n\r\v\f\u001c\u001d\u001e\u0085\u2028\u2029]/u;

/**
 * Why a helper runs, told to it in `TRACE_KEY_HELPER_REASON`: `chat` (a person at the
 * terminal), `sdk` (a program: nobody may answer a prompt), `status`, `verify`, `doctor`.
 */
export type HelperReason = "chat" | "sdk" | "status" | "verify" | "doctor";

/** A key name: 1-32 of `a-z 0-9 -`, starting and ending with a letter or digit. */
export function parseKeyName(raw: string): string {
  const value = pyStrip(raw);
  if (KEY_NAME.test(value) && !RESERVED_KEY_NAMES.includes(value)) return value;
  let shown = looksLikeSecret(value) ? "(a value shaped like a key, not shown)" : pyRepr(value);
  if (codePoints(value) > 40) shown = `(${codePoints(value)} characters, not shown)`;
  const reason = RESERVED_KEY_NAMES.includes(value)
    ? `${pyRepr(value)} is reserved`
    : `use 1 to ${MAX_KEY_NAME} lower-case letters, digits and inner dashes`;
  throw new InvalidInputError(`invalid key name ${shown}: ${reason}`, "pass --name work (or client-a, personal...)");
}

/** One of the user's keys: a provider, and a name unless it is the provider's default key. */
export class KeyRef {
  readonly provider: ProviderName;
  readonly name: string | null;

  constructor(provider: ProviderName, name: string | null = null) {
    this.provider = provider;
    this.name = name;
  }

  /** The key for a label such as `anthropic` or `anthropic:work` (not validated). */
  static ofLabel(label: string): KeyRef {
    const at = label.indexOf(":");
    return at < 0
      ? new KeyRef(label as ProviderName)
      : new KeyRef(label.slice(0, at) as ProviderName, label.slice(at + 1) || null);
  }

  /** The secret-store account: `llm:anthropic` or `llm:anthropic:work`. */
  get account(): string {
    const base = accountOf(this.provider);
    return this.name === null ? base : `${base}:${this.name}`;
  }

  /** `anthropic` or `anthropic:work`, as status and errors show it. */
  get label(): string {
    return this.name === null ? this.provider : `${this.provider}:${this.name}`;
  }

  /** The command that stores this key. */
  get setCommand(): string {
    return `buildwithtrace byok set ${this.provider}${this.name === null ? "" : ` --name ${this.name}`}`;
  }
}

/** A command that prints a key, as stored in config.toml (not a secret itself). */
export class HelperCommand {
  readonly command: string;
  /** True: run through `/bin/sh -c` (only when the user stored it so). */
  readonly shell: boolean;

  constructor(command: string, shell = false) {
    this.command = command;
    this.shell = shell;
  }

  /**
   * Check a command as the CLI does before storing it; throws `InvalidInputError` for an
   * empty or over-long command, control characters, a quote that does not close, or any
   * word shaped like a key (config.toml never holds secrets).
   */
  static parse(raw: string, shell = false): HelperCommand {
    const command = pyStrip(raw);
    const fix = "pass the command that prints the key, e.g. --helper 'op read op://Vault/Item/credential'";
    if (command === "") throw new InvalidInputError("the helper command is empty", fix);
    if (codePoints(command) > MAX_HELPER_COMMAND) {
      throw new InvalidInputError(`the helper command is longer than ${MAX_HELPER_COMMAND} characters`, fix);
    }
    if ([...command].some((ch) => !isPrintable(ch))) {
      throw new InvalidInputError("the helper command contains control characters (newlines, tabs...)", fix);
    }
    const words = splitCommand(command);
    const pieces = command.match(PIECES) ?? [];
    if ([...words, ...pieces, command].some(looksLikeSecret)) {
      throw new InvalidInputError(
        "the helper command contains what looks like an API key; config.toml never " +
          "holds keys, the command should fetch the key from your password manager",
        fix,
      );
    }
    return new HelperCommand(command, shell);
  }

  /** The words to run without a shell (POSIX `shlex` rules); the one-word shell form. */
  argv(): string[] {
    return this.shell ? [this.command] : splitCommand(this.command);
  }

  /** The program's name, for messages (`op`, `pass`, `sh`). */
  get program(): string {
    if (this.shell) return "sh";
    const first = splitCommand(this.command)[0] ?? "";
    return first.slice(first.lastIndexOf("/") + 1);
  }
}

function splitCommand(command: string): string[] {
  const words = shlexSplit(command);
  if (words === null) {
    throw new InvalidInputError(
      "the helper command has a quote that does not close",
      "check the quotes, e.g. --helper 'vault kv get -field=key secret/anthropic'",
    );
  }
  if (words.length === 0) {
    throw new InvalidInputError(
      "the helper command is empty",
      "pass the command that prints the key, e.g. --helper 'pass show anthropic'",
    );
  }
  return words;
}

/**
 * Python's `shlex.split(text, posix=True)`: words split at ` \t\r\n`; `'...'` literal;
 * `"..."` literal except `\"` and `\\`; a backslash outside quotes takes the next
 * character as it is; quoted empty strings are words. Null for an unclosed quote or a
 * trailing backslash (Python's ValueError).
 */
export function shlexSplit(text: string): string[] | null {
  const words: string[] = [];
  let word = "";
  let inWord = false; // a word started (possibly empty, from quotes)
  let quote: "'" | '"' | null = null;
  const chars = [...text];
  for (let i = 0; i < chars.length; i += 1) {
    const ch = chars[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\") {
        i += 1;
        if (i >= chars.length) return null;
        const next = chars[i] as string;
        word += next === '"' || next === "\\" ? next : "\\" + next;
      } else word += ch;
    } else if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\") {
      i += 1;
      if (i >= chars.length) return null;
      word += chars[i] as string;
      inWord = true;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== null) return null;
  if (inWord) words.push(word);
  return words;
}

/** What a helper printed: the key, and until when it is valid (epoch seconds), if said. */
export interface HelperKey {
  readonly secret: Secret;
  readonly expiresAt: number | null;
}

/**
 * The key a helper printed; throws `KeyHelperError` (never quoting the output).
 * Surrounding whitespace is ignored; output starting with `{` or `[` is JSON and must be
 * `{"key": "...", "expires_at": "RFC 3339"}` (`expires_at` optional); otherwise the first
 * line is the key, one word of printable characters.
 */
export function parseHelperOutput(stdout: string, ref: KeyRef): HelperKey {
  const text = pyStrip(stdout);
  if (text === "") throw outputError(ref, "printed nothing");
  if (codePoints(stdout) > MAX_HELPER_OUTPUT) {
    throw outputError(ref, `printed more than ${MAX_HELPER_OUTPUT / 1024} KiB`);
  }
  if (text.startsWith("{") || text.startsWith("[")) return jsonOutput(text, ref);
  const first = pyStrip(text.split(LINE_BREAK)[0] ?? "");
  return { secret: helperSecret(first, ref), expiresAt: null };
}

function jsonOutput(text: string, ref: KeyRef): HelperKey {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw outputError(ref, "printed something that looks like JSON but is not");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw outputError(ref, 'printed JSON that is not an object {"key": ...}');
  }
  const fields = data as Record<string, unknown>;
  const key = Object.hasOwn(fields, "key") ? fields["key"] : undefined;
  if (typeof key !== "string") throw outputError(ref, 'printed JSON without a "key" string');
  const expires = Object.hasOwn(fields, "expires_at") ? fields["expires_at"] : null;
  if (expires === null || expires === undefined) return { secret: helperSecret(pyStrip(key), ref), expiresAt: null };
  if (typeof expires !== "string") {
    throw outputError(ref, 'printed an "expires_at" that is not an RFC 3339 string');
  }
  return { secret: helperSecret(pyStrip(key), ref), expiresAt: parseRfc3339(expires, ref) };
}

/** `2026-05-01T12:00:00Z` (a time zone is required) as epoch seconds. */
export function parseRfc3339(text: string, ref: KeyRef): number {
  const found = RFC3339.exec(pyStrip(text));
  if (found === null) {
    throw outputError(ref, 'printed an "expires_at" that is not RFC 3339 (e.g. 2026-05-01T12:00:00Z)');
  }
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(found[i]));
  const fraction = found[7] === undefined ? 0 : Number(found[7]);
  const zone = found[8] ?? "Z";
  let offset = zone === "Z" || zone === "z" ? 0 : Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  if (zone.startsWith("-")) offset = -offset;
  const y = year as number;
  const m = month as number;
  const d = day as number;
  // The checks of Python's datetime(...) and timezone(...): a real date, |offset| < 24 h.
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) || (hour as number) > 23 || (minute as number) > 59 || Math.abs(offset) >= 1440) {
    throw outputError(ref, 'printed an "expires_at" that is not a real date');
  }
  const seconds = Math.min(second as number, 59); // a leap second reads as :59
  const whole = daysFromCivil(y, m, d) * 86400 + (hour as number) * 3600 + (minute as number) * 60 + seconds - offset * 60;
  return whole + fraction;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (any year, unlike `Date.UTC`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function helperSecret(value: string, ref: KeyRef): Secret {
  if (value === "") throw outputError(ref, "printed an empty key");
  const chars = [...value];
  if (chars.some(isSpace)) throw outputError(ref, "printed more than one word on its first line (not a bare key)");
  if (chars.some((ch) => !isPrintable(ch))) throw outputError(ref, "printed control characters (not a bare key)");
  if (Buffer.byteLength(value, "utf8") > MAX_KEY_BYTES) {
    throw outputError(ref, `printed a key longer than ${MAX_KEY_BYTES} bytes`);
  }
  return new Secret(value);
}

function outputError(ref: KeyRef, what: string): KeyHelperError {
  return new KeyHelperError(
    ref.label,
    `the key helper ${what}`,
    'make the helper print only the key, or {"key": "...", "expires_at": "..."} ' +
      "(try it in a terminal; then: buildwithtrace byok status --run-helpers)",
  );
}
