/** Python's string measures for tool output: lengths and slices in code points, `repr` quoting. */
import { pyRepr } from "../text.js";

const SURROGATE = /[\uD800-\uDFFF]/;
const MAX_SHOWN = 80;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `len(value)` as Python counts it (code points, not UTF-16 units). */
export function cpLength(value: string): number {
  if (!SURROGATE.test(value)) return value.length;
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

/** `value[start:end]` in code points. */
export function cpSlice(value: string, start: number, end?: number): string {
  if (!SURROGATE.test(value)) return value.slice(start, end);
  return [...value].slice(start, end).join("");
}

/** A value quoted for an error message: Python's `repr`, shortened when long. */
export function show(value: string): string {
  return pyRepr(cpLength(value) <= MAX_SHOWN ? value : cpSlice(value, 0, MAX_SHOWN) + "…");
}

/** Python's ordering of strings (by code point), for sorted listings. */
export function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) {
    // Below U+D800 UTF-16 order is code point order; above it only surrogates differ.
    return a < b ? -1 : 1;
  }
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    const p = x[i]?.codePointAt(0) ?? 0;
    const q = y[i]?.codePointAt(0) ?? 0;
    if (p !== q) return p - q;
  }
  return x.length - y.length;
}

/** True when `value` holds a lone surrogate (not text a file can hold as UTF-8). */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}
