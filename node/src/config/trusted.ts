/**
 * Who else could change a path: the same checks as the Python side's
 * `adapters/_fs/trusted_paths.py`. A config directory is only as safe as the directories
 * above it: every directory up to the root, on the path as given and with links
 * resolved, must belong to the user or root and not be writable by others (unless
 * sticky, like /tmp); the config directory itself must belong to the user. Group
 * write counts as safe only for the user's private group. POSIX only.
 */
import { lstatSync, readFileSync, realpathSync, type Stats } from "node:fs";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";

import { UntrustedLocationError } from "../errors.js";

const POSIX = process.platform !== "win32";
const ROOT = 0;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IWOTH = 0o002;
const S_IWGRP = 0o020;
const S_ISVTX = 0o1000;
const USE_OWN_DIRECTORY =
  "set TRACE_CONFIG_DIR to a directory only you can write (or unset it to use the default)";

/** `path` with links resolved as far as it exists (Python's non-strict `os.path.realpath`). */
export function realpathLoose(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    if (parent === absolute) return absolute;
    return resolve(realpathLoose(parent), absolute.slice(parent.length).replace(/^[/\\]+/, ""));
  }
}

function* withParents(path: string): Generator<string> {
  let current = path;
  for (;;) {
    yield current;
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** Refuse `directory` when another local user could change it or anything above it. */
export function checkDirectoryChain(directory: string): void {
  if (!POSIX) return;
  const me = process.getuid?.() ?? 0;
  const lexical = resolve(directory);
  const real = realpathLoose(directory);
  const checked = new Set<string>();
  for (const path of [...withParents(lexical), ...withParents(real)]) {
    if (checked.has(path)) continue;
    checked.add(path);
    let status: Stats;
    try {
      status = lstatSync(path);
    } catch {
      continue; // absent (created later) or unreadable (the read reports it)
    }
    checkOne(path, status, me, path === real);
  }
}

function checkOne(path: string, status: Stats, me: number, target: boolean): void {
  if ((status.mode & S_IFMT) === S_IFLNK) {
    if (status.uid !== me && status.uid !== ROOT) {
      throw new UntrustedLocationError(
        path,
        `it is a link owned by uid ${status.uid}, who could point it elsewhere`,
        USE_OWN_DIRECTORY,
      );
    }
    return;
  }
  if (target && status.uid !== me) {
    throw new UntrustedLocationError(
      path,
      `the directory is owned by uid ${status.uid}, not you; that user could ` +
        "change your settings or plant links in it",
      USE_OWN_DIRECTORY,
    );
  }
  if (!target && status.uid !== me && status.uid !== ROOT) {
    throw new UntrustedLocationError(
      path,
      `a directory above the config directory is owned by uid ${status.uid}, ` +
        "who could replace what is inside it",
      USE_OWN_DIRECTORY,
    );
  }
  const othersWrite = (status.mode & S_IWOTH) !== 0;
  const groupWrite = (status.mode & S_IWGRP) !== 0 && !privateGroup(status.gid, me);
  if (!othersWrite && !groupWrite) return;
  if (!target && (status.mode & S_ISVTX) !== 0) return;
  const who = othersWrite ? "other users" : "its group";
  const where = target ? "it" : "this directory above the config directory";
  throw new UntrustedLocationError(
    path,
    `${who} can write to ${where}, so they could replace your settings or plant links`,
    target ? `chmod 700 ${path}` : `chmod go-w ${path}`,
  );
}

/** True for the user's own private group: their primary group, named like them, alone. */
function privateGroup(gid: number, me: number): boolean {
  let user: { uid: number; gid: number; username: string };
  try {
    user = userInfo();
  } catch {
    return false;
  }
  if (user.uid !== me || gid !== user.gid) return false;
  let groups: string;
  try {
    groups = readFileSync("/etc/group", "utf8");
  } catch {
    return false;
  }
  for (const line of groups.split("\n")) {
    const [name, , id, members] = line.split(":");
    if (id !== undefined && Number(id) === gid) {
      const others = (members ?? "").split(",").filter((m) => m !== "" && m !== user.username);
      return name === user.username && others.length === 0;
    }
  }
  return false;
}
