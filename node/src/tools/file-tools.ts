/**
 * The read-only file tools (adapters/tools/local/file_tools.py): `read_file` and
 * `list_dir`, plus loading a whole file for an edit.
 *
 * `read_file`: one line per file line, `${number.padStart(6)}|${text}` (the line without
 * its ending), then notes: `[more lines follow: continue with offset=K]`,
 * `[output truncated: N more characters]`, `[stopped at the read limit of N bytes: ...]`;
 * `[empty file]` for an empty file. Binary files (a NUL in the first 8 KiB) and what the
 * path policy refuses are errors; at most `maxReadBytes` of a file are read.
 *
 * `list_dir`: the visible entries sorted by name (at most 1,000; `[N more entries not
 * shown]`), directories with `/`, a link whose target is outside, hidden or missing with
 * `@`; hidden entries are left out and counted (`[2 hidden entries not shown]`);
 * `[empty directory]` when there is nothing at all.
 */
import * as fs from "node:fs";
import { posix as path } from "node:path";

import { pyRepr } from "../text.js";
import { type Arguments, ToolError } from "./arguments.js";
import type { ToolContext } from "./context.js";
import { CappedText } from "./output.js";
import * as pathPolicy from "./path-policy.js";
import { byCodePoint } from "./text.js";

export const BINARY_PROBE_BYTES = 8192;
export const MAX_LIST_ENTRIES = 1000;
const LF = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder("utf-8");

/** One `read_file` output line. */
export function numbered(number: number, text: string): string {
  return `${String(number).padStart(6)}|${text}`;
}

/** A raw line without its `\n` or `\r\n`, decoded leniently. */
export function lineText(raw: Uint8Array): string {
  let end = raw.length;
  if (end > 0 && raw[end - 1] === LF) end -= 1;
  if (end > 0 && raw[end - 1] === CR) end -= 1;
  return utf8.decode(raw.subarray(0, end));
}

/** `ToolError` when `head` (a file's first bytes) holds a NUL byte. */
export function refuseBinary(head: Uint8Array, shown: string): void {
  if (head.subarray(0, BINARY_PROBE_BYTES).includes(0)) {
    throw new ToolError(`${pyRepr(shown)} is a binary file; only text files can be read or edited`);
  }
}

/** Up to `length` bytes of `fd` from `position` (fewer at the end of the file). */
export function readUpTo(fd: number, length: number, position = 0): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < length) {
    const chunk = Buffer.allocUnsafe(Math.min(length - total, 1 << 20));
    const count = fs.readSync(fd, chunk, 0, chunk.length, position + total);
    if (count === 0) break;
    chunks.push(count === chunk.length ? chunk : chunk.subarray(0, count));
    total += count;
  }
  return chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks, total);
}

/** The whole text file `p` (resolved); refuses binary and over-large files. */
export function load(ctx: ToolContext, p: string): Buffer {
  const shown = ctx.sandbox.display(p);
  const fd = ctx.sandbox.openRegular(p);
  let data: Buffer;
  try {
    data = readUpTo(fd, ctx.maxReadBytes + 1);
  } finally {
    fs.closeSync(fd);
  }
  if (data.length > ctx.maxReadBytes) {
    throw new ToolError(`${pyRepr(shown)} is larger than ${ctx.maxReadBytes} bytes, the most this tool reads`);
  }
  refuseBinary(data, shown);
  return data;
}

/** `read_file`: numbered lines of a text file, optionally from `offset` for `limit`. */
export function readFile(ctx: ToolContext, args: Arguments): string {
  const raw = args.text(["target_file", "file_path"]);
  const offset = args.optionalInt(["offset"], 1) || 1;
  const limit = args.optionalInt(["limit"], 1);
  const p = pathPolicy.resolve(ctx.sandbox, raw, "read");
  const shown = ctx.sandbox.display(p);
  const fd = ctx.sandbox.openRegular(p);
  let data: Buffer;
  try {
    refuseBinary(readUpTo(fd, BINARY_PROBE_BYTES), shown);
    data = readUpTo(fd, ctx.maxReadBytes + 1);
  } finally {
    fs.closeSync(fd);
  }
  return readLines(ctx, data, shown, offset, limit);
}

function skipLines(data: Buffer, count: number, budget: number): [number, number] {
  if (count === 0) return [0, 0];
  const within = data.subarray(0, Math.min(data.length, budget));
  let skipped = 0;
  let at = -1;
  while (skipped < count) {
    const next = within.indexOf(LF, at + 1);
    if (next < 0) break;
    skipped += 1;
    at = next;
  }
  if (skipped === count) return [count, at + 1];
  // Out of newlines: at the end of the file a last line without one counts as passed.
  const atEnd = data.length < budget;
  const endsMidLine = within.length > 0 && within[within.length - 1] !== LF;
  return [skipped + (atEnd && endsMidLine ? 1 : 0), within.length];
}

function readLines(ctx: ToolContext, data: Buffer, shown: string, offset: number, limit: number | undefined): string {
  const budget = ctx.maxReadBytes;
  let [number, scanned] = skipLines(data, offset - 1, budget);
  const end = limit === undefined ? undefined : offset + limit;
  const out = new CappedText(ctx.maxResultChars);
  const notes: string[] = [];
  let position = scanned;
  for (;;) {
    if (position >= data.length) break;
    const newline = data.indexOf(LF, position);
    const lineEnd = Math.min(newline < 0 ? data.length : newline + 1, position + budget - scanned + 1);
    const raw = data.subarray(position, lineEnd);
    position = lineEnd;
    scanned += raw.length;
    if (scanned > budget) {
      notes.push(`[stopped at the read limit of ${budget} bytes: later lines not shown]`);
      break;
    }
    number += 1;
    if (end !== undefined && number >= end) {
      notes.push(`[more lines follow: continue with offset=${end}]`);
      break;
    }
    out.add(numbered(number, lineText(raw)));
  }
  if (out.empty) {
    if (scanned > budget) {
      throw new ToolError(
        `offset ${offset} of ${pyRepr(shown)} lies beyond the first ${budget} bytes, the most this tool reads`,
      );
    }
    if (offset > 1) {
      const lines = number === 1 ? "1 line" : `${number} lines`;
      throw new ToolError(`offset ${offset} is past the end of ${pyRepr(shown)} (${lines})`);
    }
    return "[empty file]";
  }
  return out.text(...notes);
}

function kind(p: string): "file" | "dir" | "other" | null {
  try {
    const status = fs.statSync(p);
    return status.isFile() ? "file" : status.isDirectory() ? "dir" : "other";
  } catch {
    return null;
  }
}

/** `list_dir`: the visible entries of a directory (default: the project root). */
export function listDir(ctx: ToolContext, args: Arguments): string {
  const raw = args.optionalText(["path", "target_directory"]) ?? ".";
  const p = pathPolicy.resolve(ctx.sandbox, raw, "list");
  const shown = ctx.sandbox.display(p);
  if (kind(p) === "file") throw new ToolError(`${pyRepr(shown)} is a file, not a directory; use read_file to read it`);
  let hidden = 0;
  let visible = 0;
  let first: { name: string; line: string }[] = [];
  const keep = (kept: typeof first): typeof first => kept.sort((a, b) => byCodePoint(a.name, b.name)).slice(0, MAX_LIST_ENTRIES);
  ctx.sandbox.directory(p, false, (directory) => {
    for (const entry of directory.entries()) {
      if (pathPolicy.isHiddenName(entry.name)) {
        hidden += 1;
        continue;
      }
      visible += 1;
      first.push({ name: entry.name, line: "" });
      // Only the first 1,000 names are kept, however large the directory.
      if (first.length >= 2 * MAX_LIST_ENTRIES) first = keep(first);
      if (entry.isSymbolicLink()) {
        const target = pathPolicy.reach(ctx.sandbox, path.join(p, entry.name));
        const found = target === null ? null : kind(target);
        first[first.length - 1] = { name: entry.name, line: found === null ? `${entry.name}@` : found === "dir" ? `${entry.name}/` : entry.name };
      } else {
        first[first.length - 1] = { name: entry.name, line: entry.isDirectory() ? `${entry.name}/` : entry.name };
      }
    }
  });
  const lines = keep(first).map((entry) => entry.line);
  const notes: string[] = [];
  if (visible > MAX_LIST_ENTRIES) notes.push(`[${visible - MAX_LIST_ENTRIES} more entries not shown]`);
  if (hidden > 0) notes.push(`[${hidden} hidden ${hidden === 1 ? "entry" : "entries"} not shown]`);
  if (lines.length === 0) return notes.join("\n") || "[empty directory]";
  const out = new CappedText(ctx.maxResultChars);
  for (const line of lines) out.add(line);
  return out.text(...notes);
}
