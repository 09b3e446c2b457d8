/**
 * Atomic file replacement inside the sandbox (adapters/tools/local/atomic.py). A write goes
 * to a fresh temporary file in the target's directory (`O_CREAT | O_EXCL | O_NOFOLLOW`,
 * so nothing already there, link or not, is opened), is fsynced, then renamed over the
 * target: a reader sees the old or the new content, never a mix, and a link at the
 * target is replaced, not written through. The new file keeps the replaced file's mode;
 * a new file gets 0644 minus the umask. Writes to one file are serialised by the
 * runner (one lock per resolved path, held in the main thread).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { posix as path } from "node:path";

import { ToolError } from "./arguments.js";
import { CREATE_FLAGS, type DirHandle, type Sandbox } from "./sandbox.js";
import { pyRepr } from "../text.js";

export const NEW_FILE_MODE = 0o644;

/** The status of the regular file `name` in `parent`; null if absent; else `ToolError`. */
export function existingFileStatus(parent: DirHandle, name: string, shown: string): fs.Stats | null {
  const status = parent.lstat(name);
  if (status === null) return null;
  if (status.isDirectory()) throw new ToolError(`${shown} is a directory, not a file`);
  if (!status.isFile()) throw new ToolError(`${shown} is not a regular file`);
  return status;
}

function writeAll(fd: number, data: Uint8Array): void {
  let at = 0;
  while (at < data.length) at += fs.writeSync(fd, data, at, data.length - at);
}

/** Replace (or create) the resolved file `p` with `data`; true when it was created. */
export function atomicWrite(sandbox: Sandbox, p: string, data: Uint8Array): boolean {
  const shown = pyRepr(sandbox.display(p));
  if (p === sandbox.root) throw new ToolError(`${shown} is the project directory, not a file`);
  const name = path.basename(p);
  return sandbox.directory(path.dirname(p), true, (parent) => {
    const status = existingFileStatus(parent, name, shown);
    const temp = `.trace-${randomBytes(8).toString("hex")}.tmp`;
    const fd = parent.open(temp, CREATE_FLAGS, status === null ? NEW_FILE_MODE : 0o600);
    try {
      try {
        // The umask must not narrow the mode of the file being replaced.
        if (status !== null) fs.fchmodSync(fd, status.mode & 0o7777);
        writeAll(fd, data);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      parent.replace(temp, name);
    } catch (error) {
      try {
        parent.unlink(temp);
      } catch {
        // already gone
      }
      throw error;
    }
    parent.sync();
    return status === null;
  });
}

/** Remove the resolved regular file `p` (never a directory, never through a link). */
export function deleteFile(sandbox: Sandbox, p: string): void {
  const shown = pyRepr(sandbox.display(p));
  if (p === sandbox.root) throw new ToolError(`${shown} is a directory, not a file`);
  const name = path.basename(p);
  sandbox.directory(path.dirname(p), false, (parent) => {
    if (existingFileStatus(parent, name, shown) === null) throw new ToolError(`file ${shown} does not exist`);
    parent.unlink(name);
  });
}
