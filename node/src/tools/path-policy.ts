/**
 * The one path policy of the local tools (adapters/tools/local/path_policy.py), applied by
 * every tool to the path the model gave AND to every file it reaches on its own (a `grep`
 * walk, a `list_dir` listing, the EDA default file, the target of every symlink). A path
 * passes when, once resolved by the `Sandbox`, it is the root or under it, and no
 * component is hidden: neither a name of the path as given (below the root) nor a name
 * of the resolved path below the root (`notes.txt -> .env`, `gitdir -> .git` and
 * `.git/../board.kicad_sch` all fail).
 *
 * Names are compared by `nameKey`: NFC, case-folded, trailing dots and spaces removed. A
 * path the model named is refused with an error; a file reached in a walk is skipped; in
 * a listing a hidden entry is counted in a note and a link whose target is hidden,
 * outside or missing is shown as `name@`.
 */
import * as fs from "node:fs";
import { posix as path } from "node:path";

import { ToolError } from "./arguments.js";
import { type Sandbox, realpath } from "./sandbox.js";
import { byCodePoint, show } from "./text.js";

export const HIDDEN_REFUSAL =
  "hidden files and directories are off limits, also through links (they often " +
  "hold credentials, e.g. .env or .git/config)";

// Where Python's str.casefold() goes further than toLowerCase() (full case folding).
const FOLDS: Readonly<Record<string, string>> = { ß: "ss", ς: "σ", ſ: "s", ﬅ: "st", ﬆ: "st", ﬀ: "ff", ﬁ: "fi", ﬂ: "fl", ﬃ: "ffi", ﬄ: "ffl" };
const FOLDABLE = /[ßςſﬀ-ﬆ]/g;
const TRAILING = /[. ]+$/;

/** `name` as file systems compare it: NFC, case-folded, trailing dots and spaces removed. */
export function nameKey(name: string): string {
  const folded = name.normalize("NFC").toLowerCase().replace(FOLDABLE, (ch) => FOLDS[ch] ?? ch);
  if (folded === "." || folded === "..") return folded;
  return folded.replace(TRAILING, "");
}

/** True for a hidden name (`.env`, `.git`); `.` and `..` are not names. */
export function isHiddenName(name: string): boolean {
  if (name === "" || name === "." || name === "..") return false;
  return name.normalize("NFC").startsWith(".");
}

function hiddenBelowRoot(sandbox: Sandbox, p: string): boolean {
  if (!sandbox.contains(p) || p === sandbox.root) return false;
  return path.relative(sandbox.root, p).split("/").some(isHiddenName);
}

function givenParts(sandbox: Sandbox, raw: string): string[] {
  const parts = (value: string): string[] => value.split("/").filter((part) => part !== "" && part !== ".");
  if (!raw.startsWith("/")) return parts(raw);
  const normal = path.normalize(raw);
  // An absolute path through another spelling of the root: only the resolved path is checked.
  if (normal === sandbox.root || normal.startsWith(sandbox.root + "/")) return parts(path.relative(sandbox.root, raw));
  return [];
}

/** The resolved path `raw` names, if the policy allows it; else `ToolError`. */
export function resolve(sandbox: Sandbox, raw: string, verb: string): string {
  const p = sandbox.resolve(raw);
  if (givenParts(sandbox, raw).some(isHiddenName) || hiddenBelowRoot(sandbox, p)) {
    throw new ToolError(`refusing to ${verb} ${show(raw)}: ${HIDDEN_REFUSAL}`);
  }
  return p;
}

/** For walks and listings: the resolved path of the entry `found`, or null to skip it. */
export function reach(sandbox: Sandbox, found: string): string | null {
  if (isHiddenName(path.basename(found))) return null;
  const resolved = realpath(found);
  if (!sandbox.contains(resolved) || hiddenBelowRoot(sandbox, resolved)) return null;
  return resolved;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * [found path, resolved path] of every file the policy allows under `start` (a resolved
 * directory the policy allowed): a directory's files in name order, then its
 * subdirectories one by one. Symlinked files are yielded when their target passes;
 * symlinked directories are never entered. `check` runs before each directory and file.
 */
export function* walkFiles(sandbox: Sandbox, start: string, check: () => void): Generator<[string, string]> {
  const pending = [start];
  while (pending.length > 0) {
    const directory = pending.pop() ?? start;
    check();
    // A directory swapped for a link since it was listed: do not enter what it leads to.
    if (!sandbox.contains(realpath(directory))) continue;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(directory, { withFileTypes: true }).sort((a, b) => byCodePoint(a.name, b.name));
    } catch {
      continue;
    }
    const subdirectories: string[] = [];
    for (const entry of entries) {
      if (isHiddenName(entry.name)) continue;
      const found = path.join(directory, entry.name);
      if (entry.isDirectory()) {
        subdirectories.push(found);
        continue;
      }
      const linked = entry.isSymbolicLink();
      const resolved = reach(sandbox, found);
      if (resolved === null || (linked && !isFile(resolved))) continue;
      check();
      yield [found, resolved];
    }
    pending.push(...subdirectories.reverse());
  }
}
