/** Python's string rules, where the two SDKs must agree on words and on what counts as blank. */

// Python's str.isspace(): \s without U+FEFF, plus the information separators and NEL.
const SPACE = /[\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const STRIP = /^[\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/gu;
// Python's str.isprintable() is false for these categories (a plain space excepted).
const NOT_PRINTABLE = /[\p{C}\p{Z}]/u;

/** `value.strip()` as Python does it. */
export function pyStrip(value: string): string {
  return value.replace(STRIP, "");
}

/** True when `ch` (one code point) is whitespace to Python. */
export function isSpace(ch: string): boolean {
  return SPACE.test(ch);
}

/** True when `ch` (one code point) is printable to Python. */
export function isPrintable(ch: string): boolean {
  return ch === " " || !NOT_PRINTABLE.test(ch);
}

/** The number of code points (Python's `len`). */
export function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

/** Python's `repr()` of a string, so messages read the same from both SDKs. */
export function pyRepr(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of value) {
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (isPrintable(ch)) out += ch;
    else {
      const code = ch.codePointAt(0) ?? 0;
      if (code < 0x100) out += "\\x" + code.toString(16).padStart(2, "0");
      else if (code < 0x10000) out += "\\u" + code.toString(16).padStart(4, "0");
      else out += "\\U" + code.toString(16).padStart(8, "0");
    }
  }
  return out + quote;
}

/** The value when set and not blank, trimmed; undefined otherwise (DESIGN section 3). */
export function nonBlank(value: string | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  const stripped = pyStrip(value);
  return stripped === "" ? undefined : stripped;
}
