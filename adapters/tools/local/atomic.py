"""Atomic file replacement inside the sandbox, and per-file locks for concurrent calls.

A write goes to a fresh temporary file in the target's directory (``O_CREAT |
O_EXCL | O_NOFOLLOW``, so nothing already there, symlink or not, is ever opened),
is fsynced, then renamed over the target with ``os.replace``. A reader therefore
sees the old or the new content, never a mix, and a hard link or symlink that
somehow sits at the target is replaced, not written through. The new file keeps the
mode of the file it replaces; a new file gets ``0644`` minus the umask.

Writes to one file are serialised by a lock per resolved path (``PathLocks``);
reads take no lock.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from adapters._fs.atomic_file import write_all
from adapters.tools.local.arguments import ToolError
from adapters.tools.local.sandbox import CREATE_FLAGS, DirHandle, Sandbox

NEW_FILE_MODE = 0o644


class PathLocks:
    """One lock per path, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Path, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def hold(self, path: Path) -> Iterator[None]:
        """Hold the lock for ``path`` for the duration of the block."""
        with self._guard:
            lock, users = self._locks.get(path, (threading.Lock(), 0))
            self._locks[path] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[path]
                if users == 1:
                    del self._locks[path]
                else:
                    self._locks[path] = (lock, users - 1)

    def __len__(self) -> int:
        """How many paths currently have a lock (held or awaited)."""
        with self._guard:
            return len(self._locks)


def existing_file_status(parent: DirHandle, name: str, shown: str) -> os.stat_result | None:
    """The status of the regular file ``name`` in ``parent``; None if absent; else ToolError."""
    status = parent.lstat(name)
    if status is None:
        return None
    if stat.S_ISDIR(status.st_mode):
        raise ToolError(f"{shown!r} is a directory, not a file")
    if not stat.S_ISREG(status.st_mode):
        raise ToolError(f"{shown!r} is not a regular file")
    return status


def atomic_write(sandbox: Sandbox, path: Path, data: bytes) -> bool:
    """Replace (or create) the resolved file ``path`` with ``data``; True when it was created."""
    shown = sandbox.display(path)
    if path == sandbox.root:
        raise ToolError(f"{shown!r} is the project directory, not a file")
    with sandbox.directory(path.parent, create=True) as parent:
        status = existing_file_status(parent, path.name, shown)
        temp_name = f".trace-{secrets.token_hex(8)}.tmp"
        fd = parent.open(temp_name, CREATE_FLAGS, NEW_FILE_MODE if status is None else 0o600)
        try:
            try:
                if status is not None:
                    _set_mode(fd, parent, temp_name, stat.S_IMODE(status.st_mode))
                write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            parent.replace(temp_name, path.name)
        except BaseException:
            with contextlib.suppress(OSError):
                parent.unlink(temp_name)
            raise
        parent.sync()
    return status is None


def _set_mode(fd: int, parent: DirHandle, name: str, mode: int) -> None:
    """Give the temp file the replaced file's mode (the umask must not narrow it)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        (parent.path / name).chmod(mode)


def delete_file(sandbox: Sandbox, path: Path) -> None:
    """Remove the resolved regular file ``path`` (never a directory, never through a link)."""
    shown = sandbox.display(path)
    if path == sandbox.root:
        raise ToolError(f"{shown!r} is a directory, not a file")
    with sandbox.directory(path.parent) as parent:
        if existing_file_status(parent, path.name, shown) is None:
            raise ToolError(f"file {shown!r} does not exist")
        parent.unlink(path.name)
