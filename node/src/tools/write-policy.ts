/**
 * Which files the model may write (adapters/tools/local/write_policy.py): design files,
 * never what other tools execute or trust. The lists are generated from the Python
 * module (policy-data.ts); the rules are the same: a name qualifies when its key
 * (`nameKey`: NFC, case-folded, trailing dots and spaces removed) has a design-file
 * suffix or is a KiCad library table, holds no `:` (an NTFS stream), and is not a
 * refused manifest (by name or pattern, in any directory, in any case). Both the name
 * the model gave and the resolved target must qualify.
 */
import { nameKey } from "./path-policy.js";
import {
  DELETABLE_SUFFIXES,
  REFUSED_NAMES,
  REFUSED_PATTERNS,
  WRITABLE_NAMES,
  WRITABLE_SUFFIXES,
} from "./policy-data.js";

const refusedNames = new Set(REFUSED_NAMES);
const writableNames = new Set(WRITABLE_NAMES);
const writableSuffixes = new Set(WRITABLE_SUFFIXES);
const deletableSuffixes = new Set(DELETABLE_SUFFIXES);
// fnmatch.fnmatchcase: `*` is any run, `?` one character, the rest literal.
const refusedPatterns = REFUSED_PATTERNS.map(
  (pattern) =>
    new RegExp(
      "^" +
        [...pattern]
          .map((ch) => (ch === "*" ? "[\\s\\S]*" : ch === "?" ? "[\\s\\S]" : ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
          .join("") +
        "$",
      "u",
    ),
);

/** Python's `PurePath(name).suffix`. */
export function suffixOf(name: string): string {
  const at = name.lastIndexOf(".");
  return at > 0 && at < name.length - 1 ? name.slice(at) : "";
}

/** True for a file that tools execute or trust (compared by key). */
export function refused(name: string): boolean {
  const key = nameKey(name);
  return refusedNames.has(key) || refusedPatterns.some((pattern) => pattern.test(key));
}

/** True for a design file's name that is not refused. */
export function writableName(name: string): boolean {
  // A backslash separates directories on Windows: judge the last part, or refuse.
  if (name.includes("\\")) return false;
  if (name.includes(":") || refused(name)) return false;
  const key = nameKey(name);
  return writableNames.has(key) || writableSuffixes.has(suffixOf(key));
}

/** True for a Trace scratch file's name. */
export function deletableName(name: string): boolean {
  return !name.includes(":") && deletableSuffixes.has(suffixOf(nameKey(name)));
}

/** The writable suffixes and names, for error messages. */
export function allowedDescription(): string {
  return [...WRITABLE_SUFFIXES, ...WRITABLE_NAMES].sort().join(", ");
}

/** The deletable suffixes, for error messages. */
export function deletableDescription(): string {
  return [...DELETABLE_SUFFIXES].sort().join(", ");
}
