"""``LocalProjectFiles``: find and read the project file (``trace.toml``) for a directory.

The walk goes up from the directory (links resolved) and stops at the file system's
root or at the first directory another user owns: a ``trace.toml`` in ``/home`` or in
a shared directory above the user's own is never considered. The file itself must be
a regular file (not a link), owned by the user, at most 64 KiB; it is read without
following links and its SHA-256 is taken over the bytes read, so the content that is
allowed (``project allow``) is the content that was checked. What it may say is
``domain.project``'s rule; anything else is refused with ``ProjectFileError``.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from application.ports import ProjectFiles
from domain.errors import ProjectFileError
from domain.project import (
    MAX_PROJECT_FILE_BYTES,
    PROJECT_FILE_NAME,
    ProjectFile,
    parse_project_document,
)

_POSITION = r"\(at line (\d+), column (\d+)\)"  # compiled in the error path only


class LocalProjectFiles(ProjectFiles):
    """Project files on the local file system (see the module docstring for the rules)."""

    def __init__(self, name: str = PROJECT_FILE_NAME) -> None:
        self._name = name

    def find(self, start: str) -> ProjectFile | None:
        """The nearest project file at or above ``start``; None when there is none."""
        me = _uid()
        # Plain strings, not Path objects: the SDK walks this on every request.
        directory = os.path.realpath(start)
        while True:
            try:
                owner = os.stat(directory).st_uid  # noqa: PTH116 - strings, see above
            except OSError:
                return None
            if me is not None and owner != me:
                return None  # another user's directory: neither it nor anything above counts
            candidate = os.path.join(directory, self._name)  # noqa: PTH118
            try:
                status = os.lstat(candidate)
            except FileNotFoundError:
                status = None
            except OSError as exc:
                raise ProjectFileError(candidate, f"cannot be read ({exc.strerror})") from None
            if status is not None:
                return self._read(Path(candidate), status, me)
            parent = os.path.dirname(directory)  # noqa: PTH120
            if parent == directory:
                return None
            directory = parent

    def _read(self, path: Path, status: os.stat_result, me: int | None) -> ProjectFile:
        where = str(path)
        if stat.S_ISLNK(status.st_mode):
            raise ProjectFileError(
                where, "is a symbolic link; a project file must be a regular file of its own"
            )
        if not stat.S_ISREG(status.st_mode):
            raise ProjectFileError(where, "is not a regular file")
        if me is not None and status.st_uid != me:
            raise ProjectFileError(
                where, f"belongs to uid {status.st_uid}, not you; only your own files count"
            )
        if status.st_size > MAX_PROJECT_FILE_BYTES:
            raise ProjectFileError(where, f"is larger than {MAX_PROJECT_FILE_BYTES // 1024} KiB")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise ProjectFileError(where, f"cannot be read ({exc.strerror})") from None
        try:
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != (status.st_dev, status.st_ino):
                raise ProjectFileError(where, "changed while it was being read; try again")
            data = os.read(fd, MAX_PROJECT_FILE_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > MAX_PROJECT_FILE_BYTES:
            raise ProjectFileError(where, f"is larger than {MAX_PROJECT_FILE_BYTES // 1024} KiB")
        import hashlib  # only when a project file is found (it loads OpenSSL's libcrypto)

        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        return ProjectFile(where, digest, parse_project_document(_parse(data, where), where))


def _parse(data: bytes, where: str) -> dict[str, Any]:
    import tomllib

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectFileError(where, "is not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        # Position only: parser messages quote the file.
        found = re.search(_POSITION, str(exc))
        at = f" at line {found[1]}, column {found[2]}" if found else ""
        raise ProjectFileError(where, f"is not valid TOML{at}") from None


def _uid() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return geteuid() if geteuid is not None else None


class InMemoryProjectFiles(ProjectFiles):
    """Project files by directory, for tests and the shared resolution table (no walking)."""

    def __init__(self, files: dict[str, ProjectFile | ProjectFileError] | None = None) -> None:
        self._files = dict(files or {})

    def put(self, directory: str, found: ProjectFile | ProjectFileError | None) -> None:
        """What :meth:`find` answers for ``directory`` (None: no file)."""
        if found is None:
            self._files.pop(directory, None)
        else:
            self._files[directory] = found

    def find(self, start: str) -> ProjectFile | None:
        """The file put for ``start`` exactly; raises the error put for it."""
        found = self._files.get(start)
        if isinstance(found, ProjectFileError):
            raise found
        return found
