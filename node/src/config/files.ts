/**
 * Permission-checked reads of the files the CLI writes, with the Python side's rules
 * (`adapters/_fs/atomic_file.py:read_bytes_checked`): a directory another user could
 * change is refused, a file owned by someone else is refused, and for the secrets
 * file the file must be 0600 and its directory 0700 (the fix is the chmod). Nothing
 * here writes: the Node SDK only reads what the CLI stores.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";

import {
  InsecurePermissionsError,
  StorageError,
  UnreadableFileError,
  UntrustedLocationError,
} from "../errors.js";
import { checkDirectoryChain, realpathLoose } from "./trusted.js";

const POSIX = process.platform !== "win32";
const GROUP_OTHER = 0o077;
const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** The bytes of `path`; null when it (or, for `private`, its directory) does not exist. */
export function readChecked(path: string, options: { private: boolean }): Buffer | null {
  const real = realpathLoose(path);
  if (options.private) {
    let dirStat: Stats;
    try {
      dirStat = statSync(dirname(real));
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return null;
      throw storageError(dirname(real), error);
    }
    checkPrivateDirectory(dirname(real), dirStat);
  }
  checkDirectoryChain(dirname(path));
  if (dirname(real) !== realpathLoose(dirname(path))) checkDirectoryChain(dirname(real));
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted where the file should be must not hang the open.
    fd = openSync(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    throw storageError(real, error);
  }
  try {
    const fileStat = fstatSync(fd);
    if ((fileStat.mode & S_IFMT) !== S_IFREG) {
      throw new UnreadableFileError(
        real,
        (fileStat.mode & S_IFMT) === S_IFDIR ? "it is a directory, not a file" : "it is not a regular file",
      );
    }
    checkOwner(real, fileStat);
    if (options.private && POSIX && (fileStat.mode & GROUP_OTHER) !== 0) {
      throw new InsecurePermissionsError(real, fileStat.mode & 0o7777, PRIVATE_FILE_MODE);
    }
    return readAll(fd);
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw storageError(real, error);
  } finally {
    closeSync(fd);
  }
}

function readAll(fd: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.alloc(1 << 16);
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) return Buffer.concat(chunks);
    chunks.push(chunk.subarray(0, read));
  }
}

function checkPrivateDirectory(directory: string, status: Stats): void {
  if (!POSIX) return;
  if (status.uid !== process.getuid?.()) {
    throw new UntrustedLocationError(
      directory,
      `the directory is owned by uid ${status.uid}, not you`,
      "set TRACE_CONFIG_DIR to a directory only you can write (or unset it)",
    );
  }
  if ((status.mode & GROUP_OTHER) !== 0) {
    throw new InsecurePermissionsError(directory, status.mode & 0o7777, PRIVATE_DIR_MODE);
  }
}

function checkOwner(path: string, status: Stats): void {
  if (POSIX && status.uid !== process.getuid?.()) {
    throw new UnreadableFileError(path, `it is owned by uid ${status.uid}, not you`);
  }
}

function errnoOf(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

/** Our error for a failed read of `path`: the one place an errno becomes words. */
export function storageError(path: string, error: unknown): StorageError {
  switch (errnoOf(error)) {
    case "EACCES":
    case "EPERM":
      return new UnreadableFileError(path, "permission denied");
    case "EISDIR":
      return new UnreadableFileError(path, "it is a directory, not a file");
    case "ENOTDIR":
      return new UnreadableFileError(path, "a part of the path is not a directory");
    case "ELOOP":
      return new UnreadableFileError(path, "too many levels of symbolic links");
    default: {
      const text = error instanceof Error ? error.message : String(error);
      const words = /^[A-Z]+: ([^,]+)/.exec(text)?.[1] ?? "unexpected error";
      return new UnreadableFileError(path, words.charAt(0).toUpperCase() + words.slice(1));
    }
  }
}
