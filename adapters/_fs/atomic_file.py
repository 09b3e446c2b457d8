"""Atomic, locked, permission-checked file I/O shared by the file-backed stores.

A write goes to a temp file in the target's directory, created with its final mode
from the first byte, fsynced, renamed over the target, and the directory fsynced:
a reader (or a crash) sees the old file or the new one, never a mix. Read-modify-write
callers hold :func:`locked` across the read and the write so that concurrent
processes never lose each other's update. A temp file that a killed writer left
behind (it may hold every secret of the file, including ones removed since) is
deleted by the next holder of the lock. Every ``OSError`` becomes one of our
``StorageError`` subclasses in :func:`storage_error`.

Other local users are kept out by :mod:`adapters._fs.trusted_paths`: every read and write
first checks that nobody else could change the directory or any directory above it,
and no write follows a link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from adapters._fs.trusted_paths import check_directory_chain, refuse_link
from domain.errors import (
    InsecurePermissionsError,
    StorageError,
    UnreadableFileError,
    UntrustedLocationError,
)

LOCK_TIMEOUT_SECONDS = 10.0
# filelock retried a held lock every 50 ms by default; a waiter that sleeps through the
# moments the lock is free can starve. With 32 writers on 2 cores the slowest command
# waited ~8 s of the 10 s timeout at 50 ms, ~4 s at 5 ms (tests/reliability, soak).
LOCK_POLL_SECONDS = 0.005
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_GROUP_OTHER = 0o077
_TEMP_HEX_BYTES = 6
# Permission bits and ownership mean nothing on Windows; the checks apply on POSIX only.
_POSIX = os.name == "posix"


def lock_path(path: Path) -> Path:
    """The sibling lock file that guards read-modify-write of ``path``."""
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def locked(path: Path, *, private: bool, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the cross-process lock for ``path`` (creating its directory if needed).

    Raises ``StorageError`` when another process keeps the lock for ``timeout`` seconds.
    """
    # Imported here: fcntl is a shared library to load, and a read never takes the lock.
    from adapters._fs.process_lock import LockTimeoutError, hold

    ensure_directory(path.parent, private=private)
    guard = lock_path(path)
    refuse_link(guard)  # the lock file is opened for writing: never through a link
    held = contextlib.ExitStack()
    try:
        held.enter_context(
            hold(guard, timeout=timeout, poll=LOCK_POLL_SECONDS, mode=PRIVATE_FILE_MODE)
        )
    except LockTimeoutError:
        raise StorageError(
            f"{path} is locked by another buildwithtrace process (waited {timeout:g} s)",
            f"wait for the other command to finish and try again; if none is running, rm {guard}",
        ) from None
    except OSError as exc:
        # A lock file that does not exist yet could not be created: the directory is the cause.
        failed = guard if guard.exists() else None
        raise (storage_error(failed, exc) if failed else creation_error(guard, exc)) from None
    with held:
        _remove_stale_temps(path)
        yield


def _temp_name(target: Path) -> str:
    # os.urandom, as secrets.token_hex uses, without importing hashlib, hmac and random.
    return f".{target.name}.{os.urandom(_TEMP_HEX_BYTES).hex()}.tmp"


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files of ``path`` left by writers that died (every writer holds the lock)."""
    stale = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{{2 * _TEMP_HEX_BYTES}}}\.tmp")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return  # the write that follows reports what is wrong with the directory
    for entry in entries:
        if stale.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                Path(entry.path).unlink()


def read_bytes_checked(path: Path, *, private: bool) -> bytes | None:
    """The bytes of ``path``; None when it (or its directory) does not exist.

    Refuses a directory, FIFO or other non-regular file, an unreadable file and a file
    owned by another user (``UnreadableFileError``: someone else's settings could send
    your keys to their server), and a directory another user could change
    (``UntrustedLocationError``), both the link's and, for a link, its target's. With
    ``private``, also refuses a file wider than 0600 or a directory wider than 0700
    (``InsecurePermissionsError``, with the chmod fix).
    """
    real = _real(path)
    if private:
        try:
            dir_stat = real.parent.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise storage_error(real.parent, exc) from None
        _check_private_directory(real.parent, dir_stat)
    check_directory_chain(path.parent)
    if real.parent != _real(path.parent):
        check_directory_chain(real.parent)  # a link's target must be as safe as the link
    try:
        # O_NONBLOCK: opening a FIFO planted where the file should be must not hang.
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise storage_error(real, exc) from None
    try:
        file_stat = os.fstat(fd)
        if not stat.S_ISREG(file_stat.st_mode):
            raise UnreadableFileError(str(real), _not_a_file(file_stat.st_mode))
        if private:
            _check_private_file(real, file_stat)
        else:
            _check_owner(real, file_stat)
        return _read_all(fd)
    except OSError as exc:
        raise storage_error(real, exc) from None
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, mode: int = PRIVATE_FILE_MODE, *, private: bool = True
) -> None:
    """Replace ``path`` with ``data`` atomically; the file has ``mode`` from its first byte.

    Call it inside :func:`locked` for ``path``: the lock's next holder deletes temp
    files it finds, taking their writer for dead. Creates the directory 0700 if
    missing; refuses a directory another user could change and, with ``private``, an
    existing directory wider than 0700. A ``path`` that is a link is refused
    (``UntrustedLocationError``), never written through. On failure the old file is
    intact, the temp file is removed and a ``StorageError`` says why (disk full,
    permission denied, ...).
    """
    real = path
    ensure_directory(real.parent, private=private)
    refuse_link(real)
    temp = real.with_name(_temp_name(real))
    try:
        # O_EXCL: never write through a file or link someone else placed at the temp name.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(temp, flags | getattr(os, "O_NOFOLLOW", 0), mode)
    except OSError as exc:
        raise creation_error(real, exc) from None
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        temp.replace(real)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise storage_error(real, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(real.parent)


def ensure_directory(directory: Path, *, private: bool) -> None:
    """Create ``directory`` (mode 0700) if missing, then check that only we can change it.

    Missing parents are created 0700 too (as XDG asks of ~/.config): ``mkdir -p`` would
    give them 0777 minus the umask, a world-writable directory under umask 000. The
    chain above is checked before anything is created in it, and the whole chain again
    after; with ``private`` the directory must also be 0700.
    """
    try:
        try:
            dir_stat = directory.stat()
        except FileNotFoundError:
            check_directory_chain(directory)  # what we are about to create things in
            try:
                _make_directories(directory)
            except OSError as exc:
                raise creation_error(directory, exc) from None
            dir_stat = directory.stat()
    except OSError as exc:
        raise storage_error(directory, exc) from None
    if not stat.S_ISDIR(dir_stat.st_mode):
        raise UnreadableFileError(str(directory), "it is not a directory")
    if private:
        _check_private_directory(directory, dir_stat)
    check_directory_chain(directory)


def _make_directories(directory: Path) -> None:
    missing: list[Path] = []
    current = directory
    while not current.is_dir() and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            path.mkdir(mode=PRIVATE_DIR_MODE)


def creation_error(path: Path, exc: OSError) -> StorageError:
    """Our error for failing to create ``path`` (or its lock or temp file) in its directory.

    Permission denied there is about the directory, not the file: the file may not even
    exist, so "check the file" would send the user looking for nothing.
    """
    if exc.errno in (errno.EACCES, errno.EPERM):
        return unwritable_directory(path.parent)
    return storage_error(path, exc)


def unwritable_directory(directory: Path) -> StorageError:
    """The config directory cannot be written: the error ``doctor`` and every write give."""
    return UnreadableFileError(
        str(directory),
        "permission denied, so no file can be created in it (config.toml, credentials.json "
        "and their .lock files go there)",
        f"chmod u+w {directory}   (or set TRACE_CONFIG_DIR to a directory you can write)",
    )


def writable_directory_problem(directory: Path) -> StorageError | None:
    """The error a write would meet because ``directory`` exists but is not writable, else None."""
    if _POSIX and directory.is_dir() and not os.access(directory, os.W_OK | os.X_OK):
        return unwritable_directory(directory)
    return None


def storage_error(path: Path, exc: OSError) -> StorageError:
    """Our error for an ``OSError`` on ``path``; the one place errno becomes words and a fix."""
    where = str(path)
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        what = "the disk is full" if code == errno.ENOSPC else "the disk quota is exceeded"
        return StorageError(
            f"cannot write {where}: {what}; the old file was left unchanged",
            f"free some disk space (df -h {path.parent}) and run the command again",
        )
    if code == errno.EFBIG:
        return StorageError(
            f"cannot write {where}: the file size limit was exceeded; the old file was left "
            "unchanged",
            "raise the file size limit (ulimit -f) and run the command again",
        )
    if code == errno.EROFS:
        return StorageError(
            f"cannot write {where}: the file system is read-only",
            "set TRACE_CONFIG_DIR to a writable directory",
        )
    if code in (errno.EACCES, errno.EPERM):
        return UnreadableFileError(where, "permission denied")
    if code == errno.EISDIR:
        return UnreadableFileError(where, "it is a directory, not a file")
    if code == errno.ENOTDIR:
        return UnreadableFileError(where, "a part of the path is not a directory")
    if code == errno.ELOOP:
        return UnreadableFileError(where, "too many levels of symbolic links")
    return UnreadableFileError(where, exc.strerror or type(exc).__name__)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _check_private_directory(directory: Path, dir_stat: os.stat_result) -> None:
    if not _POSIX:
        return
    if dir_stat.st_uid != os.getuid():
        raise UntrustedLocationError(
            str(directory),
            f"the directory is owned by uid {dir_stat.st_uid}, not you",
            "set TRACE_CONFIG_DIR to a directory only you can write (or unset it)",
        )
    if dir_stat.st_mode & _GROUP_OTHER:
        raise InsecurePermissionsError(
            str(directory), stat.S_IMODE(dir_stat.st_mode), PRIVATE_DIR_MODE
        )


def _check_owner(path: Path, file_stat: os.stat_result) -> None:
    if _POSIX and file_stat.st_uid != os.getuid():
        raise UnreadableFileError(str(path), f"it is owned by uid {file_stat.st_uid}, not you")


def _check_private_file(path: Path, file_stat: os.stat_result) -> None:
    if not _POSIX:
        return
    _check_owner(path, file_stat)
    if file_stat.st_mode & _GROUP_OTHER:
        raise InsecurePermissionsError(
            str(path), stat.S_IMODE(file_stat.st_mode), PRIVATE_FILE_MODE
        )


def _not_a_file(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "it is a directory, not a file"
    return "it is not a regular file"


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write only part of it)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return  # Windows: directories cannot be opened; the rename is as durable as it gets
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise storage_error(directory, exc) from None
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems (FUSE, network mounts) cannot fsync a directory; the
        # rename already happened, so that is only a weaker durability promise.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise storage_error(directory, exc) from None
    finally:
        os.close(fd)
