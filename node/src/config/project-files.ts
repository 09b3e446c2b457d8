/**
 * Finding and reading the project file (`trace.toml`) for a directory, with the Python
 * side's rules (`adapters/project/files.py`). The walk goes up from the directory (links
 * resolved) and stops at the file system's root or at the first directory another user
 * owns: a `trace.toml` in `/home` or a shared directory above the user's own is never
 * considered. The file must be a regular file (not a link) the user owns, at most 64 KiB;
 * it is opened without following links, and its SHA-256 is taken over the bytes read,
 * so the content allowed (`buildwithtrace project allow`) is the content checked.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { getSystemErrorMap } from "node:util";
import { parse, TomlError } from "smol-toml";

import { ProjectFileError } from "../errors.js";
import {
  MAX_PROJECT_FILE_BYTES,
  PROJECT_FILE_NAME,
  type ProjectFile,
  parseProjectDocument,
} from "../project.js";
import { realpathLoose } from "./trusted.js";

/** Finds the project file that applies to a directory. */
export interface ProjectFileFinder {
  /** The nearest project file at or above `start`, or null; throws `ProjectFileError`. */
  find(start: string): Promise<ProjectFile | null>;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/** Project files on the local file system (see the module comment for the rules). */
export class LocalProjectFiles implements ProjectFileFinder {
  readonly #name: string;

  constructor(name: string = PROJECT_FILE_NAME) {
    this.#name = name;
  }

  /** The nearest project file at or above `start`; null when there is none. */
  async find(start: string): Promise<ProjectFile | null> {
    const me = process.geteuid?.();
    let directory = realpathLoose(start);
    for (;;) {
      let owner: number;
      try {
        owner = statSync(directory).uid;
      } catch {
        return null;
      }
      if (me !== undefined && owner !== me) return null; // another user's: neither it nor anything above counts
      const candidate = join(directory, this.#name);
      let status: Stats | null = null;
      try {
        status = lstatSync(candidate);
      } catch (error) {
        if (errnoOf(error) !== "ENOENT") {
          throw new ProjectFileError(candidate, `cannot be read (${strerror(error)})`);
        }
      }
      if (status !== null) return read(candidate, status, me);
      const parent = dirname(directory);
      if (parent === directory) return null;
      directory = parent;
    }
  }
}

function read(path: string, status: Stats, me: number | undefined): ProjectFile {
  if ((status.mode & S_IFMT) === S_IFLNK) {
    throw new ProjectFileError(path, "is a symbolic link; a project file must be a regular file of its own");
  }
  if ((status.mode & S_IFMT) !== S_IFREG) throw new ProjectFileError(path, "is not a regular file");
  if (me !== undefined && status.uid !== me) {
    throw new ProjectFileError(path, `belongs to uid ${status.uid}, not you; only your own files count`);
  }
  const tooLarge = `is larger than ${MAX_PROJECT_FILE_BYTES / 1024} KiB`;
  if (status.size > MAX_PROJECT_FILE_BYTES) throw new ProjectFileError(path, tooLarge);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new ProjectFileError(path, `cannot be read (${strerror(error)})`);
  }
  let data: Buffer;
  try {
    const opened = fstatSync(fd);
    if (opened.dev !== status.dev || opened.ino !== status.ino) {
      throw new ProjectFileError(path, "changed while it was being read; try again");
    }
    data = readUpTo(fd, MAX_PROJECT_FILE_BYTES + 1);
  } finally {
    closeSync(fd);
  }
  if (data.length > MAX_PROJECT_FILE_BYTES) throw new ProjectFileError(path, tooLarge);
  const digest = "sha256:" + createHash("sha256").update(data).digest("hex");
  return { path, digest, selection: parseProjectDocument(parseToml(data, path), path) };
}

function readUpTo(fd: number, most: number): Buffer {
  const buffer = Buffer.alloc(most);
  let filled = 0;
  while (filled < most) {
    const count = readSync(fd, buffer, filled, most - filled, null);
    if (count === 0) break;
    filled += count;
  }
  return buffer.subarray(0, filled);
}

function parseToml(data: Buffer, path: string): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a BOM as a character, as Python's utf-8 codec does.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new ProjectFileError(path, "is not UTF-8 text");
  }
  // Python's tomllib refuses a leading BOM where smol-toml skips it: one file, one verdict.
  if (text.startsWith("\ufeff")) throw new ProjectFileError(path, "is not valid TOML at line 1, column 1");
  try {
    return parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (error) {
    // Position only: parser messages quote the file.
    const at = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : "";
    throw new ProjectFileError(path, `is not valid TOML${at}`);
  }
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** An OS error in the C library's words (`Permission denied`), as Python's `strerror` shows it. */
export function strerror(error: unknown): string {
  const errno = error instanceof Error && "errno" in error && typeof error.errno === "number" ? error.errno : undefined;
  const words = errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1];
  if (words === undefined) return errnoOf(error) ?? "unknown error";
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Project files held in memory by directory (tests, and programs that must not touch disk). */
export class MemoryProjectFiles implements ProjectFileFinder {
  readonly #files = new Map<string, ProjectFile | ProjectFileError>();

  constructor(files: Readonly<Record<string, ProjectFile | ProjectFileError>> = {}) {
    for (const [directory, found] of Object.entries(files)) this.#files.set(directory, found);
  }

  /** What `find` answers for `directory` exactly (null: no file). */
  put(directory: string, found: ProjectFile | ProjectFileError | null): void {
    if (found === null) this.#files.delete(directory);
    else this.#files.set(directory, found);
  }

  /** The file put for `start` exactly; throws the error put for it. */
  async find(start: string): Promise<ProjectFile | null> {
    const found = this.#files.get(start);
    if (found instanceof ProjectFileError) throw found;
    return found ?? null;
  }
}
