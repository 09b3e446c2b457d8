/**
 * The tools that change files (adapters/tools/local/edit_tools.py): `write`,
 * `search_replace` and `delete_trace_file`. Which names may be written: write-policy.ts;
 * which paths: path-policy.ts; both apply to the name the model gave and to the resolved
 * target, so a link named `x.json` cannot lead to a script. `delete_trace_file` deletes
 * only Trace's scratch files (`.trace_sch`, `.trace_pcb`). Every change goes through
 * `atomicWrite` under the file's lock; edits work on the file's bytes, so bytes that are
 * not UTF-8 survive unchanged.
 */
import { posix as path } from "node:path";

import { pyRepr } from "../text.js";
import { type Arguments, ToolError } from "./arguments.js";
import { atomicWrite, deleteFile } from "./atomic.js";
import type { ToolContext } from "./context.js";
import { load } from "./file-tools.js";
import * as pathPolicy from "./path-policy.js";
import { hasLoneSurrogate, show } from "./text.js";
import * as writePolicy from "./write-policy.js";

/** Python's `PurePath(raw).name`. */
function givenName(raw: string): string {
  const parts = raw.split("/").filter((part) => part !== "" && part !== ".");
  return parts.at(-1) ?? "";
}

/** The resolved path `raw` names, if the model may change that file. */
export function writableTarget(ctx: ToolContext, raw: string): string {
  const p = pathPolicy.resolve(ctx.sandbox, raw, "change");
  const names = [givenName(raw), path.basename(p)];
  const colon = raw.split("/").some((part) => part.includes(":"));
  if (colon || !names.every(writePolicy.writableName)) {
    const refusal = names.some(writePolicy.refused)
      ? "it is a file that package managers, build tools or editors execute or trust"
      : `only design files can be written (${writePolicy.allowedDescription()})`;
    throw new ToolError(`refusing to change ${show(raw)}: ${refusal}`);
  }
  return p;
}

/**
 * `text` as file bytes: UTF-8, with Python's `surrogateescape` (a lone U+DC80..U+DCFF
 * stands for the byte it escapes), so a needle copied from an undecodable file matches.
 */
function encode(text: string, argument: string, escapes: boolean): Buffer {
  if (!hasLoneSurrogate(text)) return Buffer.from(text, "utf8");
  const parts: Buffer[] = [];
  let run = "";
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const nextLow = i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff;
    if (high && nextLow) {
      run += text.slice(i, i + 2);
      i += 1;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      if (!escapes || unit < 0xdc80 || unit > 0xdcff) throw new ToolError(`argument '${argument}' is not valid Unicode text`);
      parts.push(Buffer.from(run, "utf8"), Buffer.of(unit - 0xdc00));
      run = "";
    } else {
      run += text[i];
    }
  }
  parts.push(Buffer.from(run, "utf8"));
  return Buffer.concat(parts);
}

/** `write`: create or replace a design file with `contents`. */
export function write(ctx: ToolContext, args: Arguments): string {
  const raw = args.text(["file_path", "target_file"]);
  const data = encode(args.text(["contents", "content"], true), "contents", false);
  if (data.length > ctx.maxReadBytes) {
    throw new ToolError(`contents are ${data.length} bytes; at most ${ctx.maxReadBytes} can be written`);
  }
  const p = writableTarget(ctx, raw);
  ctx.lock(p);
  const created = atomicWrite(ctx.sandbox, p, data);
  return `${created ? "created" : "replaced"} ${ctx.sandbox.display(p)} (${data.length} bytes)`;
}

function occurrences(content: Buffer, needle: Buffer): number[] {
  const found: number[] = [];
  for (let at = content.indexOf(needle); at >= 0; at = content.indexOf(needle, at + needle.length)) found.push(at);
  return found;
}

const CRLF = Buffer.from("\r\n");
const LF = Buffer.from("\n");

function withCrlf(value: Buffer): Buffer {
  return Buffer.from(value.toString("latin1").replaceAll("\n", "\r\n"), "latin1");
}

/** `search_replace`: replace one exact occurrence (or all, with `replace_all`). */
export function searchReplace(ctx: ToolContext, args: Arguments): string {
  const raw = args.text(["file_path", "target_file"]);
  const oldText = args.text(["old_string"]);
  const newText = args.text(["new_string"], true);
  const replaceAll = args.flag(["replace_all"]);
  if (oldText === newText) throw new ToolError("old_string and new_string are identical; nothing would change");
  const p = writableTarget(ctx, raw);
  const shown = ctx.sandbox.display(p);
  ctx.lock(p);
  const data = load(ctx, p);
  let old = encode(oldText, "old_string", true);
  let replacement = encode(newText, "new_string", true);
  let found = occurrences(data, old);
  if (found.length === 0 && data.includes(CRLF) && old.includes(LF) && !old.includes(CRLF)) {
    // The model writes "\n"; a file saved on Windows has "\r\n".
    old = withCrlf(old);
    replacement = withCrlf(replacement);
    found = occurrences(data, old);
  }
  if (found.length === 0) {
    throw new ToolError(
      `old_string was not found in ${pyRepr(shown)}; read the file again and copy the text exactly, including whitespace`,
    );
  }
  if (found.length > 1 && !replaceAll) {
    throw new ToolError(
      `old_string occurs ${found.length} times in ${pyRepr(shown)}; include more surrounding text to make it unique, or set replace_all to true`,
    );
  }
  const parts: Buffer[] = [];
  let at = 0;
  for (const start of replaceAll ? found : found.slice(0, 1)) {
    parts.push(data.subarray(at, start), replacement);
    at = start + old.length;
  }
  parts.push(data.subarray(at));
  atomicWrite(ctx.sandbox, p, Buffer.concat(parts));
  const count = replaceAll ? found.length : 1;
  return `replaced ${count} occurrence${count > 1 ? "s" : ""} in ${shown}`;
}

/** `delete_trace_file`: delete one of Trace's scratch files. */
export function deleteTraceFile(ctx: ToolContext, args: Arguments): string {
  const raw = args.text(["filename", "file_name"]);
  const p = pathPolicy.resolve(ctx.sandbox, raw, "delete");
  for (const name of [givenName(raw), path.basename(p)]) {
    if (!writePolicy.deletableName(name)) {
      throw new ToolError(
        `refusing to delete ${show(raw)}: only Trace scratch files (${writePolicy.deletableDescription()}) can be deleted`,
      );
    }
  }
  ctx.lock(p);
  deleteFile(ctx.sandbox, p);
  return `deleted ${ctx.sandbox.display(p)}`;
}
