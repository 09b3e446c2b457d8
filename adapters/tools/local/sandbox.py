"""The sandbox root: turning the model's path strings into paths that stay inside it.

Resolution: the raw string (relative to the root, or absolute) is joined to the root
and resolved with ``os.path.realpath``, so ``..`` and every symlink (file or parent
directory) are followed before the check; the result must be the resolved root or
lie under it. NUL bytes, over-long paths and names are refused before touching the
file system.

Opening: checking a path and then opening it by name leaves a window in which a
directory can be swapped for a symlink. Where the platform supports ``dir_fd``
(Linux, macOS, the BSDs) every open walks down from the root one directory at a time
with ``O_NOFOLLOW``, relative to the directory already opened, and opens the file
itself with ``O_NOFOLLOW``; a symlink swapped in at any step makes the call fail
instead of being followed. Where ``dir_fd`` is missing (Windows) the path is
re-resolved and re-checked right before use, which narrows but does not close that
window.

Which paths inside the root a tool may use (no hidden component, in the given path
or its target) is the path policy's to say: :mod:`adapters.tools.local.path_policy`.

Residual risks, accepted: the root itself is trusted (a user who can replace it can
write there anyway); a directory already opened and then moved outside the root by
someone else keeps being used for that one call; a hard link placed inside the root
to a file outside it reads that file's contents (writes replace the link atomically
and never modify the outside file).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from adapters.tools.local.arguments import ToolError, show
from domain.value import Value

# Common POSIX limits; checked up front so a long name is a clear refusal,
# not an OS error from halfway through a write.
MAX_PATH_CHARS = 4096
MAX_NAME_BYTES = 255

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_DIR_FLAGS = os.O_RDONLY | _DIRECTORY | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY
# O_EXCL | O_NOFOLLOW: a new file only; nothing already at the name is opened.
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY


def platform_has_dir_fd() -> bool:
    """True where opening relative to a directory descriptor is supported."""
    # os.replace is not listed in supports_dir_fd; it shares os.rename's renameat.
    needed = (os.open, os.mkdir, os.stat, os.rename, os.unlink)
    return (
        all(function in os.supports_dir_fd for function in needed)
        and bool(_NOFOLLOW)
        and bool(_DIRECTORY)
    )


@attrs.frozen(eq=False, repr=False)
class DirHandle(Value):
    """A directory inside the root, opened for operations by name (``fd`` None: by path)."""

    path: Path
    fd: int | None

    def open(self, name: str, flags: int, mode: int = 0o600) -> int:
        """``os.open`` of ``name`` in this directory."""
        if self.fd is None:
            return os.open(self.path / name, flags, mode)
        return os.open(name, flags, mode, dir_fd=self.fd)

    def lstat(self, name: str) -> os.stat_result | None:
        """The entry's own status (symlinks not followed), or None when absent."""
        try:
            if self.fd is None:
                return (self.path / name).lstat()
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def replace(self, source: str, target: str) -> None:
        """Atomically rename ``source`` over ``target``, both in this directory."""
        if self.fd is None:
            (self.path / source).replace(self.path / target)
        else:
            os.replace(source, target, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        """Remove the entry ``name`` (a symlink itself, never its target)."""
        if self.fd is None:
            (self.path / name).unlink()
        else:
            os.unlink(name, dir_fd=self.fd)

    def entries(self) -> Iterator[os.DirEntry[str]]:
        """The directory's entries (unsorted), one at a time: a huge directory is never a list."""
        if self.fd is not None and os.scandir in os.supports_fd:
            # scandir closes the descriptor it is given, so hand it a copy.
            with os.scandir(os.dup(self.fd)) as it:
                yield from it
            return
        with os.scandir(self.path) as it:
            yield from it

    def sync(self) -> None:
        """Flush the directory entry changes to disk, where the platform allows it."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self.fd)


class Sandbox:
    """Resolves and opens paths under one root directory."""

    def __init__(self, root: Path, *, use_dir_fd: bool | None = None) -> None:
        self.root = Path(os.path.realpath(root))
        self._use_dir_fd = platform_has_dir_fd() if use_dir_fd is None else use_dir_fd

    def resolve(self, raw: str) -> Path:
        """The real path ``raw`` names; ``ToolError`` unless it lies inside the root."""
        if "\x00" in raw:
            raise ToolError(f"path {show(raw)} contains a NUL character")
        if "\\" in raw:
            # Windows reads a backslash as a separator; the policies split on "/" only.
            # One rule on every platform, so the Python and Node runners agree.
            raise ToolError(f"path {show(raw)} contains a backslash; separate directories with /")
        try:
            raw.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise ToolError(f"path {show(raw)} is not valid Unicode") from None
        if len(raw) > MAX_PATH_CHARS:
            raise ToolError(f"path is too long ({len(raw)} characters; at most {MAX_PATH_CHARS})")
        for part in Path(raw).parts:
            if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
                raise ToolError(f"path {show(raw)} has a name longer than {MAX_NAME_BYTES} bytes")
        resolved = Path(os.path.realpath(self.root / raw))
        if not self.contains(resolved):
            raise ToolError(
                f"path {show(raw)} is outside the project directory; only files under "
                f"{self.root} can be used (symlinks are followed before this check)"
            )
        return resolved

    def contains(self, path: Path) -> bool:
        """True when ``path`` (already resolved) is the root or under it."""
        return path == self.root or path.is_relative_to(self.root)

    def display(self, path: Path) -> str:
        """``path`` as the model should see it: relative to the root, with ``/``."""
        return "." if path == self.root else path.relative_to(self.root).as_posix()

    @contextlib.contextmanager
    def directory(self, path: Path, *, create: bool = False) -> Iterator[DirHandle]:
        """Open the resolved directory ``path``; with ``create``, make missing ones inside."""
        if not self.contains(path):
            raise ToolError(f"{path} is outside the project directory")
        if not self._use_dir_fd:
            yield self._directory_by_path(path, create)
            return
        fd = self._walk(path, create)
        try:
            yield DirHandle(path, fd)
        finally:
            os.close(fd)

    def _walk(self, path: Path, create: bool) -> int:
        """A descriptor for ``path``, reached from the root without following any symlink."""
        try:
            fd = os.open(self.root, _DIR_FLAGS)
        except FileNotFoundError:
            raise ToolError(f"the project directory {self.root} does not exist") from None
        current = self.root
        try:
            for part in path.relative_to(self.root).parts:
                current = current / part
                child = self._open_child(fd, part, current, create)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _open_child(self, parent: int, name: str, path: Path, create: bool) -> int:
        """Open (maybe create) the directory ``name`` under ``parent``, never via a symlink."""
        shown = self.display(path)
        for _ in range(2):
            try:
                return os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    raise ToolError(f"directory {shown!r} does not exist") from None
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise ToolError(
                        f"{shown!r} is not a directory inside the project (it may have been "
                        "replaced by a symlink or a file)"
                    ) from None
                raise
            with contextlib.suppress(FileExistsError):  # another call made it first
                os.mkdir(name, 0o777, dir_fd=parent)
        raise ToolError(f"directory {shown!r} could not be created")

    def _directory_by_path(self, path: Path, create: bool) -> DirHandle:
        """Fallback without ``dir_fd``: create step by step, re-checking each step."""
        if not self.root.is_dir():
            raise ToolError(f"the project directory {self.root} does not exist")
        current = self.root
        for part in path.relative_to(self.root).parts:
            current = current / part
            if create and not current.exists():
                with contextlib.suppress(FileExistsError):
                    current.mkdir(0o777)
            if not self.contains(Path(os.path.realpath(current))) or not current.is_dir():
                raise ToolError(f"{self.display(current)!r} is not a directory inside the project")
        return DirHandle(path, None)

    @contextlib.contextmanager
    def open_regular(self, path: Path) -> Iterator[BinaryIO]:
        """Open the resolved regular file ``path`` for binary reading (no symlink, no FIFO)."""
        shown = self.display(path)
        if path == self.root:
            raise ToolError(f"{shown!r} is a directory, not a file")
        with self.directory(path.parent) as parent:
            seen = parent.lstat(path.name)
            if seen is None:
                raise ToolError(f"file {shown!r} does not exist")
            if stat.S_ISLNK(seen.st_mode):
                raise ToolError(f"{shown!r} changed to a symlink while in use")
            try:
                # O_NONBLOCK: opening a FIFO must not hang the call; fstat refuses it below.
                fd = parent.open(path.name, _READ_FLAGS)
            except FileNotFoundError:
                raise ToolError(f"file {shown!r} does not exist") from None
            except IsADirectoryError:
                raise ToolError(f"{shown!r} is a directory, not a file") from None
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise ToolError(f"{shown!r} changed to a symlink while in use") from None
                raise
        try:
            opened = os.fstat(fd)
            # Without O_NOFOLLOW (Windows) a swap after the lstat shows up as another file.
            if (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
                raise ToolError(f"{shown!r} changed while in use; try again")
            if stat.S_ISDIR(opened.st_mode):
                raise ToolError(f"{shown!r} is a directory, not a file")
            if not stat.S_ISREG(opened.st_mode):
                raise ToolError(f"{shown!r} is not a regular file")
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as file:
            yield file
