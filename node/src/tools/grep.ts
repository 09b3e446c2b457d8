/**
 * The `grep` tool (adapters/tools/local/grep_tool.py): an RE2 regular expression over the
 * project's text files, streamed; the same output, modes, context, caps and notes.
 *
 * Output by `output_mode`: `content` (default) `path:line:text`, context lines
 * `path-line-text` and `--` between groups that are not adjacent (at most 100 context
 * lines each way; a line over 2,000 characters is cut with `…`); `files_with_matches`
 * one path a line; `count` `path:N`. `head_limit` keeps the first N lines; `no matches`
 * when nothing matched. Which files: the path policy, as in every tool; a walk skips
 * binary files and files over `maxReadBytes` (counted in a note).
 *
 * Engine: RE2's syntax and linear-time matching through `re2js`, a JavaScript port of
 * RE2 (the Python runner uses Google's RE2 itself): no backreferences, lookaround,
 * atomic groups, possessive quantifiers or `\Z`. Each call runs in its own worker
 * thread (see local-runner.ts), so even a slow search never blocks the event loop; it
 * stops itself after `grepSeconds` with what it found and a note, and the runner
 * terminates a worker that overruns that by more than a grace period, or whose turn is
 * cancelled. Files are read in 64 KiB chunks; a line over 128 KiB is searched in its
 * first 128 KiB only; whole chunks are searched in multi-line mode first and only
 * matching ones line by line (unless `\A`, `\z`, `\Q` or a flag group clearing `m`
 * makes that unsound).
 */
import * as fs from "node:fs";

import { RE2JS } from "re2js";

import { pyRepr } from "../text.js";
import { type Arguments, ToolError } from "./arguments.js";
import type { ToolContext } from "./context.js";
import { BINARY_PROBE_BYTES } from "./file-tools.js";
import { CappedText } from "./output.js";
import * as pathPolicy from "./path-policy.js";
import { cpLength, cpSlice, show } from "./text.js";

export const OUTPUT_MODES = ["content", "files_with_matches", "count"] as const;
export const MAX_LINE_CHARS = 2000;
export const MAX_LINE_BYTES = 128 * 1024;
export const MAX_CONTEXT = 100;
export const MAX_PATTERN_CHARS = 4096;
const READ_CHUNK = 64 * 1024;
const BLOCK_BYTES = 4096;
const SHOWN_BYTES = 4 * MAX_LINE_CHARS + 4;
const LF = 0x0a;
const CR = 0x0d;
const CLEARS_MULTILINE = /\(\?[A-Za-z]*-[A-Za-z]*m/;
export const RE2_LIMITS =
  "grep uses RE2 syntax, like Python's re without backreferences (\\1), lookaround " +
  "((?=...), (?!...), (?<=...), (?<!...)), atomic groups ((?>...)), possessive " +
  "quantifiers (a++) or \\Z (use \\z)";
const utf8 = new TextDecoder("utf-8");

// re2js words its parse errors after Go's regexp; these are RE2's (C++) words for them.
const RE2_WORDS: readonly [RegExp, string][] = [
  [/^invalid or unsupported Perl syntax/, "invalid perl operator"],
  [/^invalid nested repetition operator/, "bad repetition operator"],
  [/^invalid repeat count/, "invalid repetition size"],
  [/^missing closing \]/, "missing ]"],
  [/^missing closing \)/, "missing )"],
  [/^unexpected \)/, "unexpected )"],
];

class HeadLimitReached extends Error {}
class DeadlineReached extends Error {}
class FileDone extends Error {}
class TooLarge extends ToolError {}
class Binary extends ToolError {}

/** A compiled pattern: where the next match at or after `from` lies, in bytes. */
interface Regex {
  search(text: Uint8Array, from?: number): [number, number] | null;
}

function multilineIsSound(pattern: string): boolean {
  if (pattern.includes("\\Q") || CLEARS_MULTILINE.test(pattern)) return false;
  for (let i = 0; i < pattern.length; i += 1) {
    if (pattern[i] === "\\") {
      const next = pattern[i + 1];
      if (next === "A" || next === "z") return false;
      i += 1;
    }
  }
  return true;
}

function re2Detail(error: unknown): string {
  let detail = error instanceof Error ? error.message.replace(/^error parsing regexp: /, "") : "invalid";
  detail = detail.replace(/`([^`]*)`$/, "$1");
  for (const [words, re2] of RE2_WORDS) detail = detail.replace(words, re2);
  return detail;
}

/** The compiled pattern, and whether whole chunks may be searched at once. */
export function compilePattern(pattern: string, ignoreCase: boolean): [Regex, boolean] {
  if (cpLength(pattern) > MAX_PATTERN_CHARS) {
    throw new ToolError(`grep: the pattern is too long (at most ${MAX_PATTERN_CHARS} characters)`);
  }
  const whole = multilineIsSound(pattern);
  const flags = ignoreCase ? RE2JS.CASE_INSENSITIVE : 0;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(whole ? `(?m)${pattern}` : pattern, flags);
  } catch {
    let detail = "invalid";
    try {
      RE2JS.compile(pattern, flags);
    } catch (error) {
      detail = re2Detail(error);
    }
    throw new ToolError(`grep: invalid regular expression ${show(pattern)} (${detail}); ${RE2_LIMITS}`);
  }
  const regex: Regex = {
    search(text, from = 0) {
      const matcher = compiled.matcher(text);
      if (!matcher.find(from)) return null;
      return [matcher.start(), matcher.end()];
    },
  };
  return [regex, whole];
}

class Results {
  readonly out: CappedText;
  lines = 0;
  readonly headLimit: number | undefined;

  constructor(ctx: ToolContext, headLimit: number | undefined) {
    this.out = new CappedText(ctx.maxResultChars);
    this.headLimit = headLimit;
  }

  emit(line: string): void {
    if (this.headLimit !== undefined && this.lines >= this.headLimit) throw new HeadLimitReached();
    this.out.add(line);
    this.lines += 1;
  }
}

/** `grep`: search file contents for `pattern`. */
export function grep(ctx: ToolContext, args: Arguments): string {
  const pattern = args.text(["pattern"]);
  const ignoreCase = args.flag(["i", "-i"]);
  const mode = args.choice("output_mode", OUTPUT_MODES);
  const context = args.optionalInt(["C", "-C", "context"], 0) || 0;
  let after = args.optionalInt(["A", "-A"], 0);
  let before = args.optionalInt(["B", "-B"], 0);
  const headLimit = args.optionalInt(["head_limit"], 0) || undefined;
  const [regex, whole] = compilePattern(pattern, ignoreCase);
  const start = pathPolicy.resolve(ctx.sandbox, args.optionalText(["path"]) ?? ".", "search");
  before ??= context;
  after ??= context;
  const notes: string[] = [];
  if (Math.max(before, after) > MAX_CONTEXT) notes.push(`[context limited to ${MAX_CONTEXT} lines]`);
  const search = new Search(ctx, regex, whole, mode, Math.min(before, MAX_CONTEXT), Math.min(after, MAX_CONTEXT), new Results(ctx, headLimit));
  try {
    if (isDirectory(start)) {
      for (const [found, resolved] of pathPolicy.walkFiles(ctx.sandbox, start, () => search.check())) {
        search.file(ctx.sandbox.display(found), resolved, false);
      }
    } else {
      search.file(ctx.sandbox.display(start), start, true);
    }
  } catch (error) {
    if (error instanceof HeadLimitReached) notes.push(`[head_limit ${headLimit} reached: more results may exist]`);
    else if (error instanceof DeadlineReached) {
      notes.push(
        `[search stopped after ${ctx.grepSeconds} s: results are incomplete; search a narrower path or use a simpler pattern]`,
      );
    } else throw error;
  }
  if (search.tooLarge > 0) notes.push(`[skipped ${search.tooLarge} files larger than ${ctx.maxReadBytes} bytes]`);
  if (search.longLines > 0) {
    notes.push(`[${search.longLines} lines longer than ${MAX_LINE_BYTES} bytes were searched in their beginning only]`);
  }
  if (search.results.out.empty) return ["no matches", ...notes].join("\n");
  return search.results.out.text(...notes);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function shownText(line: Uint8Array): string {
  const text = utf8.decode(line.subarray(0, SHOWN_BYTES));
  if (cpLength(text) > MAX_LINE_CHARS || line.length > SHOWN_BYTES) return cpSlice(text, 0, MAX_LINE_CHARS) + "…";
  return text;
}

class Search {
  readonly deadline: number;
  tooLarge = 0;
  longLines = 0;
  groups = 0;

  constructor(
    readonly ctx: ToolContext,
    readonly regex: Regex,
    readonly whole: boolean,
    readonly mode: string,
    readonly before: number,
    readonly after: number,
    readonly results: Results,
  ) {
    this.deadline = performance.now() + ctx.grepSeconds * 1000;
  }

  /** Stop when the time is up (cancellation terminates the worker instead). */
  check(): void {
    if (performance.now() > this.deadline) throw new DeadlineReached();
  }

  file(shown: string, p: string, explicit: boolean): void {
    try {
      const fd = this.ctx.sandbox.openRegular(p);
      try {
        if (fs.fstatSync(fd).size > this.ctx.maxReadBytes) {
          throw new TooLarge(`${pyRepr(shown)} is larger than ${this.ctx.maxReadBytes} bytes, the most this tool reads`);
        }
        new FileSearch(this, shown).run(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if (error instanceof FileDone) return;
      if (error instanceof TooLarge) {
        if (explicit) throw error;
        this.tooLarge += 1;
        return;
      }
      if (error instanceof HeadLimitReached || error instanceof DeadlineReached) throw error;
      if (explicit || !(error instanceof ToolError || isOsError(error))) throw error;
    }
  }
}

function isOsError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

function normalised(region: Buffer): Buffer {
  if (!region.includes(CR)) return region;
  const out = Buffer.allocUnsafe(region.length);
  let size = 0;
  for (let i = 0; i < region.length; i += 1) {
    const byte = region[i] ?? 0;
    if (byte === CR && region[i + 1] === LF) continue;
    out[size] = byte;
    size += 1;
  }
  return out.subarray(0, size);
}

function* blocks(region: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < region.length) {
    const cut = region.indexOf(LF, Math.min(start + BLOCK_BYTES, region.length - 1));
    const end = cut < 0 ? region.length : cut + 1;
    yield region.subarray(start, end);
    start = end;
  }
}

function splitLines(block: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let at = block.indexOf(LF); at >= 0; at = block.indexOf(LF, start)) {
    lines.push(block.subarray(start, at));
    start = at + 1;
  }
  return lines; // the part after the last newline (empty: blocks end with one) is dropped
}

function countLf(block: Buffer, start = 0, end = block.length): number {
  let count = 0;
  for (let at = block.indexOf(LF, start); at >= 0 && at < end; at = block.indexOf(LF, at + 1)) count += 1;
  return count;
}

/** Indices of the matching lines of `block`, from searches of the block itself (or null). */
function hitsInBlock(regex: Regex, block: Buffer): number[] | null {
  const hits: number[] = [];
  let index = 0;
  let start = 0;
  while (start < block.length) {
    const match = regex.search(block, start);
    if (match === null) break;
    const [begin, end] = match;
    if (begin === block.length) break; // an empty match after the last newline: not a line
    const newline = block.indexOf(LF, begin);
    if (newline >= 0 && newline < end) return null;
    index += countLf(block, start, begin);
    hits.push(index);
    start = newline + 1;
    index += 1;
  }
  return hits;
}

class FileSearch {
  number = 0;
  matches = 0;
  pendingAfter = 0;
  lastShown = -1;
  recent: [number, Buffer][] = [];

  constructor(
    readonly search: Search,
    readonly shown: string,
  ) {}

  run(fd: number): void {
    const search = this.search;
    for (const region of this.regions(fd)) {
      search.check();
      if (search.whole && search.regex.search(region) === null) {
        this.pass(region);
        continue;
      }
      for (const block of blocks(region)) {
        search.check();
        if (search.whole && block.length < region.length && search.regex.search(block) === null) this.pass(block);
        else this.scan(block);
      }
    }
    if (search.mode === "count" && this.matches > 0) search.results.emit(`${this.shown}:${this.matches}`);
  }

  /** Complete lines, CRLF turned into LF, each region ending in LF. */
  *regions(fd: number): Generator<Buffer> {
    let pending = Buffer.alloc(0);
    let skipping = false;
    let budget = this.search.ctx.maxReadBytes;
    let first = true;
    let position = 0;
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    while (budget > 0) {
      const count = fs.readSync(fd, chunk, 0, Math.min(READ_CHUNK, budget), position);
      if (count === 0) break;
      position += count;
      budget -= count;
      const data = Buffer.from(chunk.subarray(0, count));
      if (first && data.subarray(0, BINARY_PROBE_BYTES).includes(0)) throw new Binary(`${pyRepr(this.shown)} is a binary file`);
      first = false;
      let start = 0;
      if (skipping) {
        start = data.indexOf(LF) + 1;
        if (start === 0) continue;
        skipping = false;
      }
      const end = data.indexOf(LF, start);
      if (end < 0) {
        const room = MAX_LINE_BYTES - pending.length;
        if (data.length - start > room) {
          this.search.longLines += 1;
          yield normalised(Buffer.concat([pending, data.subarray(start, start + room), Buffer.of(LF)]));
          pending = Buffer.alloc(0);
          skipping = true;
        } else {
          pending = Buffer.concat([pending, data.subarray(start)]);
        }
        continue;
      }
      let head = Buffer.concat([pending, data.subarray(start, end)]);
      if (head.length > MAX_LINE_BYTES) {
        this.search.longLines += 1;
        head = head.subarray(0, MAX_LINE_BYTES);
      }
      const last = data.lastIndexOf(LF);
      pending = Buffer.from(data.subarray(last + 1));
      yield normalised(Buffer.concat([head, Buffer.of(LF), data.subarray(end + 1, last + 1)]));
    }
    if (pending.length > 0) yield normalised(Buffer.concat([pending, Buffer.of(LF)]));
  }

  pass(block: Buffer): void {
    const search = this.search;
    if (search.mode === "content" && (this.pendingAfter > 0 || search.before > 0)) this.context(splitLines(block), this.number);
    this.number += countLf(block);
  }

  scan(block: Buffer): void {
    const search = this.search;
    const lines = splitLines(block);
    let hits = search.whole ? hitsInBlock(search.regex, block) : null;
    if (hits === null) {
      hits = [];
      lines.forEach((line, index) => {
        if (search.regex.search(line) !== null) hits?.push(index);
      });
    }
    const base = this.number;
    this.number += lines.length;
    if (hits.length === 0) {
      if (search.mode === "content") this.context(lines, base);
      return;
    }
    this.matches += hits.length;
    if (search.mode === "files_with_matches") {
      search.results.emit(this.shown);
      throw new FileDone();
    }
    if (search.mode !== "content") return;
    let previous = 0;
    for (const index of hits) {
      this.context(lines.slice(previous, index), base + previous);
      this.match(base + index + 1, lines[index] ?? Buffer.alloc(0));
      previous = index + 1;
    }
    this.context(lines.slice(previous), base + previous);
  }

  context(lines: Buffer[], base: number): void {
    const shown = Math.min(this.pendingAfter, lines.length);
    for (let index = 0; index < shown; index += 1) this.emit(base + index + 1, lines[index] ?? Buffer.alloc(0), "-");
    this.pendingAfter -= shown;
    const keep = this.search.before;
    for (let index = Math.max(shown, lines.length - keep); index < lines.length; index += 1) {
      this.recent.push([base + index + 1, (lines[index] ?? Buffer.alloc(0)).subarray(0, SHOWN_BYTES)]);
      if (this.recent.length > keep) this.recent.shift();
    }
  }

  match(number: number, line: Buffer): void {
    const search = this.search;
    const first = this.recent[0]?.[0] ?? number;
    if (first > this.lastShown + 1) {
      if (search.groups > 0 && (search.before > 0 || search.after > 0)) search.results.emit("--");
      search.groups += 1;
    }
    for (const [keptNumber, kept] of this.recent) this.emit(keptNumber, kept, "-");
    this.recent = [];
    this.emit(number, line, ":");
    this.pendingAfter = search.after;
  }

  emit(number: number, line: Uint8Array, mark: string): void {
    this.search.results.emit(`${this.shown}${mark}${number}${mark}${shownText(line)}`);
    this.lastShown = number;
  }
}
