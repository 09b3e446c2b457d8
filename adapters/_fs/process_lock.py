"""A cross-process lock held on a lock file: ``flock(2)`` where the OS has it, else filelock.

``filelock`` 4 costs more to import than the interpreter takes to start (it loads
``decimal``, ``dataclasses``, ``secrets`` and some twenty modules of its own), and every
``byok use`` / ``model`` / ``set`` takes this lock once. On POSIX filelock's own lock is
``flock(LOCK_EX | LOCK_NB)`` on the lock file, polled until a deadline, so this module
does the same with ``fcntl``: an older CLI that locks through filelock and this one
exclude each other on the same file. On Windows, or where the file system refuses
``flock`` (filelock then falls back to a marker file), filelock is used.

A lock belongs to the open file: each :func:`hold` opens its own descriptor, so two
threads of one process exclude each other too, as two processes do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

if sys.platform != "win32":
    import fcntl

_BUSY = frozenset({errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK})
_OPEN_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO planted as the lock file must not hang the open
)


class LockTimeoutError(Exception):
    """Another holder kept the lock until the deadline."""


@contextlib.contextmanager
def hold(path: Path, *, timeout: float, poll: float, mode: int) -> Iterator[None]:
    """Hold the lock on ``path`` (created with ``mode``) for the ``with`` block.

    Raises ``LockTimeoutError`` after ``timeout`` seconds of waiting, ``OSError`` when
    the lock file cannot be opened.
    """
    if sys.platform == "win32":
        with _filelock(path, timeout=timeout, poll=poll, mode=mode):
            yield
        return
    fd = os.open(path, _OPEN_FLAGS, mode)
    try:
        if not _flock(fd, timeout, poll):
            os.close(fd)
            fd = -1
            with _filelock(path, timeout=timeout, poll=poll, mode=mode):
                yield
            return
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        if fd >= 0:
            os.close(fd)


def _flock(fd: int, timeout: float, poll: float) -> bool:
    """Take the lock on ``fd`` by the deadline; False when the file system has no flock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in _BUSY:
                if exc.errno in (errno.ENOSYS, errno.ENOTSUP, errno.ENOLCK):
                    return False
                raise
        else:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            raise LockTimeoutError(str(fd))
        time.sleep(min(poll, left))


@contextlib.contextmanager
def _filelock(path: Path, *, timeout: float, poll: float, mode: int) -> Iterator[None]:
    import filelock  # where flock is missing only; see the module docstring

    # thread_local=False: the lock is about processes; a thread pool handing work
    # between threads must not see a held lock as free.
    lock = filelock.FileLock(path, timeout=timeout, mode=mode, thread_local=False)
    try:
        lock.acquire(poll_interval=poll)
    except filelock.Timeout:
        raise LockTimeoutError(str(path)) from None
    try:
        yield
    finally:
        lock.release()
