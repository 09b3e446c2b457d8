/**
 * The sandbox root (adapters/tools/local/sandbox.py): turning the model's path strings
 * into paths that stay inside it, and opening them without following a swapped-in link.
 *
 * Resolution: the raw string (relative to the root, or absolute) is joined to the root
 * and resolved like Python's `os.path.realpath` (component by component: `..` applies to
 * where a link led, every symlink followed, a missing tail kept as written); the result
 * must be the resolved root or lie under it. NUL bytes, over-long paths and names are
 * refused before touching the file system.
 *
 * Opening: Node's `fs` has no `openat`/`dir_fd`. On Linux the same walk is done through
 * `/proc/self/fd/N/name`: the kernel resolves `/proc/self/fd/N` to the directory already
 * open (not to a name), so every step opens one name relative to the directory before
 * it, with `O_NOFOLLOW | O_DIRECTORY`, and the file itself with `O_NOFOLLOW`; a symlink
 * swapped in at any step makes the call fail instead of being followed. Creating,
 * renaming and deleting go through the same descriptor paths. Without `/proc` (macOS,
 * Windows) the path is re-resolved and re-checked right before use and the file opened
 * with `O_NOFOLLOW` where the platform has it, which narrows but does not close the
 * window in which a parent directory can be swapped for a link (the Python runner has
 * the same fallback on Windows).
 *
 * Residual risks, accepted (as in Python): the root itself is trusted; a directory
 * already opened and then moved outside the root keeps being used for that one call; a
 * hard link inside the root to a file outside it reads that file's contents (writes
 * replace the link atomically and never modify the outside file).
 */
import * as fs from "node:fs";
import { posix as path } from "node:path";

import { ToolError } from "./arguments.js";
import { pyRepr } from "../text.js";
import { cpLength, hasLoneSurrogate, show } from "./text.js";

export const MAX_PATH_CHARS = 4096;
export const MAX_NAME_BYTES = 255;

const C = fs.constants;
const NOFOLLOW = C.O_NOFOLLOW ?? 0;
const DIRECTORY = C.O_DIRECTORY ?? 0;
const NONBLOCK = C.O_NONBLOCK ?? 0;
const DIR_FLAGS = C.O_RDONLY | DIRECTORY;
const READ_FLAGS = C.O_RDONLY | NOFOLLOW | NONBLOCK;
/** A new file only: nothing already at the name (symlink or not) is opened. */
export const CREATE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | NOFOLLOW;

/** True where directories can be walked by descriptor (Linux with /proc). */
export function platformHasDirFd(): boolean {
  return process.platform === "linux" && NOFOLLOW !== 0 && DIRECTORY !== 0 && fs.existsSync("/proc/self/fd");
}

const HAS_DIR_FD = platformHasDirFd();

function errno(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
}

/** Python's `os.path.realpath(p)` (non-strict): links followed, a missing tail kept. */
export function realpath(p: string): string {
  const seen = new Map<string, string | null>();
  return joinReal("/", p, seen);
}

function joinReal(start: string, rest: string, seen: Map<string, string | null>): string {
  let current = rest.startsWith("/") ? "/" : start;
  const parts = rest.split("/").filter((part) => part !== "" && part !== ".");
  for (let i = 0; i < parts.length; i += 1) {
    const name = parts[i] ?? "";
    if (name === "..") {
      current = path.dirname(current);
      continue;
    }
    const next = current === "/" ? `/${name}` : `${current}/${name}`;
    const known = seen.get(next);
    if (known !== undefined) {
      if (known === null) {
        // A symlink loop: keep the rest as written, as Python's non-strict realpath does.
        return path.join(next, ...parts.slice(i + 1));
      }
      current = known;
      continue;
    }
    let target: string;
    try {
      target = fs.readlinkSync(next);
    } catch (error) {
      // Not a link, or missing: keep the name as it is.
      void errno(error);
      current = next;
      continue;
    }
    seen.set(next, null);
    current = joinReal(current, target, seen);
    seen.set(next, current);
  }
  return current;
}

/** A directory inside the root, opened for operations by name (`fd` null: by path). */
export class DirHandle {
  constructor(
    readonly path: string,
    readonly fd: number | null,
  ) {}

  /** The path through which `name` in this directory is reached. */
  at(name: string): string {
    return this.fd === null ? path.join(this.path, name) : `/proc/self/fd/${this.fd}/${name}`;
  }

  /** `open(2)` of `name` in this directory. */
  open(name: string, flags: number, mode = 0o600): number {
    return fs.openSync(this.at(name), flags, mode);
  }

  /** The entry's own status (symlinks not followed), or null when absent. */
  lstat(name: string): fs.Stats | null {
    try {
      return fs.lstatSync(this.at(name));
    } catch (error) {
      if (errno(error) === "ENOENT") return null;
      throw error;
    }
  }

  /** Atomically rename `source` over `target`, both in this directory. */
  replace(source: string, target: string): void {
    fs.renameSync(this.at(source), this.at(target));
  }

  /** Remove the entry `name` (a symlink itself, never its target). */
  unlink(name: string): void {
    fs.unlinkSync(this.at(name));
  }

  /** The directory's entries, one at a time: a huge directory is never a list. */
  *entries(): Generator<fs.Dirent> {
    const dir = fs.opendirSync(this.fd === null ? this.path : `/proc/self/fd/${this.fd}`);
    try {
      for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) yield entry;
    } finally {
      dir.closeSync();
    }
  }

  /** Flush the directory's entry changes to disk, where the platform allows it. */
  sync(): void {
    if (this.fd === null) return;
    try {
      fs.fsyncSync(this.fd);
    } catch {
      // some file systems refuse fsync on a directory; the rename itself is done
    }
  }
}

/** Resolves and opens paths under one root directory. */
export class Sandbox {
  readonly root: string;
  readonly #useDirFd: boolean;

  constructor(root: string, useDirFd: boolean = HAS_DIR_FD) {
    this.root = realpath(path.resolve(root));
    this.#useDirFd = useDirFd;
  }

  /** The real path `raw` names; `ToolError` unless it lies inside the root. */
  resolve(raw: string): string {
    if (raw.includes("\0")) throw new ToolError(`path ${show(raw)} contains a NUL character`);
    // Windows' fs reads a backslash as a separator while these checks split on "/" only:
    // refused on every platform, as the Python runner does.
    if (raw.includes("\\")) {
      throw new ToolError(`path ${show(raw)} contains a backslash; separate directories with /`);
    }
    if (hasLoneSurrogate(raw)) throw new ToolError(`path ${show(raw)} is not valid Unicode`);
    const length = cpLength(raw);
    if (length > MAX_PATH_CHARS) {
      throw new ToolError(`path is too long (${length} characters; at most ${MAX_PATH_CHARS})`);
    }
    for (const part of raw.split("/")) {
      if (Buffer.byteLength(part, "utf8") > MAX_NAME_BYTES) {
        throw new ToolError(`path ${show(raw)} has a name longer than ${MAX_NAME_BYTES} bytes`);
      }
    }
    const resolved = raw.startsWith("/") ? realpath(raw) : joinReal(this.root, raw, new Map());
    if (!this.contains(resolved)) {
      throw new ToolError(
        `path ${show(raw)} is outside the project directory; only files under ` +
          `${this.root} can be used (symlinks are followed before this check)`,
      );
    }
    return resolved;
  }

  /** True when `p` (already resolved) is the root or under it. */
  contains(p: string): boolean {
    return p === this.root || p.startsWith(this.root === "/" ? "/" : this.root + "/");
  }

  /** `p` as the model should see it: relative to the root, with `/`. */
  display(p: string): string {
    return p === this.root ? "." : path.relative(this.root, p);
  }

  /** Run `use` with the resolved directory `p` open; with `create`, make missing ones inside. */
  directory<T>(p: string, create: boolean, use: (dir: DirHandle) => T): T {
    if (!this.contains(p)) throw new ToolError(`${p} is outside the project directory`);
    if (!this.#useDirFd) return use(this.#directoryByPath(p, create));
    const fd = this.#walk(p, create);
    try {
      return use(new DirHandle(p, fd));
    } finally {
      fs.closeSync(fd);
    }
  }

  #walk(p: string, create: boolean): number {
    let fd: number;
    try {
      fd = fs.openSync(this.root, DIR_FLAGS);
    } catch (error) {
      if (errno(error) === "ENOENT") throw new ToolError(`the project directory ${this.root} does not exist`);
      throw error;
    }
    let current = this.root;
    try {
      for (const part of this.#partsBelow(p)) {
        current = path.join(current, part);
        const child = this.#openChild(fd, part, current, create);
        fs.closeSync(fd);
        fd = child;
      }
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return fd;
  }

  #partsBelow(p: string): string[] {
    return p === this.root ? [] : path.relative(this.root, p).split("/");
  }

  #openChild(parent: number, name: string, p: string, create: boolean): number {
    const shown = pyRepr(this.display(p));
    const at = `/proc/self/fd/${parent}/${name}`;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        return fs.openSync(at, DIR_FLAGS | NOFOLLOW);
      } catch (error) {
        const code = errno(error);
        if (code === "ENOENT") {
          if (!create) throw new ToolError(`directory ${shown} does not exist`);
        } else if (code === "ELOOP" || code === "ENOTDIR" || code === "EMLINK") {
          throw new ToolError(
            `${shown} is not a directory inside the project (it may have been replaced by a symlink or a file)`,
          );
        } else {
          throw error;
        }
      }
      try {
        fs.mkdirSync(at, 0o777);
      } catch (error) {
        if (errno(error) !== "EEXIST") throw error; // another call made it first
      }
    }
    throw new ToolError(`directory ${shown} could not be created`);
  }

  #directoryByPath(p: string, create: boolean): DirHandle {
    let isDir = false;
    try {
      isDir = fs.statSync(this.root).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new ToolError(`the project directory ${this.root} does not exist`);
    let current = this.root;
    for (const part of this.#partsBelow(p)) {
      current = path.join(current, part);
      if (create && !fs.existsSync(current)) {
        try {
          fs.mkdirSync(current, 0o777);
        } catch (error) {
          if (errno(error) !== "EEXIST") throw error;
        }
      }
      let ok = false;
      try {
        ok = this.contains(realpath(current)) && fs.statSync(current).isDirectory();
      } catch {
        ok = false;
      }
      if (!ok) throw new ToolError(`${pyRepr(this.display(current))} is not a directory inside the project`);
    }
    return new DirHandle(p, null);
  }

  /** A descriptor of the resolved regular file `p`, open for reading (no symlink, no FIFO). */
  openRegular(p: string): number {
    const shown = pyRepr(this.display(p));
    if (p === this.root) throw new ToolError(`${shown} is a directory, not a file`);
    const name = path.basename(p);
    const [seen, fd] = this.directory(path.dirname(p), false, (parent): [fs.Stats, number] => {
      const status = parent.lstat(name);
      if (status === null) throw new ToolError(`file ${shown} does not exist`);
      if (status.isSymbolicLink()) throw new ToolError(`${shown} changed to a symlink while in use`);
      try {
        // O_NONBLOCK: opening a FIFO must not hang the call; fstat refuses it below.
        return [status, parent.open(name, READ_FLAGS)];
      } catch (error) {
        const code = errno(error);
        if (code === "ENOENT") throw new ToolError(`file ${shown} does not exist`);
        if (code === "EISDIR") throw new ToolError(`${shown} is a directory, not a file`);
        if (code === "ELOOP") throw new ToolError(`${shown} changed to a symlink while in use`);
        throw error;
      }
    });
    try {
      const opened = fs.fstatSync(fd);
      if (opened.dev !== seen.dev || opened.ino !== seen.ino) throw new ToolError(`${shown} changed while in use; try again`);
      if (opened.isDirectory()) throw new ToolError(`${shown} is a directory, not a file`);
      if (!opened.isFile()) throw new ToolError(`${shown} is not a regular file`);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return fd;
  }
}
