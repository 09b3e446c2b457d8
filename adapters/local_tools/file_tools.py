"""The read-only file tools: ``read_file`` and ``list_dir``, plus loading a whole file.

``read_file`` output: one line per file line, ``f"{number:>6}|{text}"`` (the 1-based
line number right-aligned in six columns, a ``|``, then the line without its line
ending), e.g. ``     1|(kicad_sch (version 20231120)``. Lines are read lazily, so a
range deep inside a large schematic costs a fast newline scan, not a full decode.
Notes in square brackets follow the lines: ``[more lines follow: continue with
offset=K]`` when ``limit`` stopped early, ``[output truncated: N more characters]``
when the result cap cut it, ``[empty file]`` for an empty file. Refused: binary
files (a NUL byte in the first 8 KiB), and hidden files or anything under a hidden
directory (after resolving links), since ``.env``, ``.git/config`` and the like
often hold credentials that must not reach a model. At most ``max_read_bytes`` of a
file are read.

``list_dir`` output: the directory's entries sorted by name, one a line, directories
with a trailing ``/``; a symlink that leads outside the project (or nowhere) is shown
with a trailing ``@`` since no tool will follow it. ``[empty directory]`` when empty.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from adapters.local_tools.arguments import Arguments, ToolError
from adapters.local_tools.context import ToolContext
from adapters.local_tools.output import CappedText

BINARY_PROBE_BYTES = 8192
MAX_LIST_ENTRIES = 1000
_SKIP_CHUNK = 1 << 20


class BinaryFileError(ToolError):
    """The file looks binary (NUL bytes), so no text tool will show or edit it."""


class TooLargeError(ToolError):
    """The file is larger than the runner's ``max_read_bytes``."""


def numbered(number: int, text: str) -> str:
    """One ``read_file`` output line."""
    return f"{number:>6}|{text}"


def _without_ending(raw: bytes) -> bytes:
    """A raw line without its ``\n`` or ``\r\n``."""
    return raw.removesuffix(b"\n").removesuffix(b"\r")


def _line_text(raw: bytes) -> str:
    """A raw line without its ending, decoded leniently."""
    return _without_ending(raw).decode("utf-8", "replace")


def _numbered_length(number: int, raw: bytes) -> int:
    """``len(numbered(number, _line_text(raw)))`` plus its separating newline, but cheaper."""
    text = _without_ending(raw)
    chars = len(text) if text.isascii() else len(text.decode("utf-8", "replace"))
    return max(len(str(number)), 6) + 1 + chars + 1


def refuse_hidden(ctx: ToolContext, path: Path, verb: str) -> None:
    """``ToolError`` for a hidden file or directory: they often hold credentials."""
    if ctx.sandbox.hidden(path):
        raise ToolError(
            f"refusing to {verb} {ctx.sandbox.display(path)!r}: hidden files and directories "
            "are off limits (they often hold credentials, e.g. .env or .git/config)"
        )


def refuse_binary(head: bytes, shown: str) -> None:
    """``BinaryFileError`` when ``head`` (a file's first bytes) contains a NUL byte."""
    if b"\x00" in head[:BINARY_PROBE_BYTES]:
        raise BinaryFileError(f"{shown!r} is a binary file; only text files can be read or edited")


def load(ctx: ToolContext, path: Path) -> bytes:
    """The whole text file ``path`` (resolved); refuses binary and over-large files."""
    shown = ctx.sandbox.display(path)
    with ctx.sandbox.open_regular(path) as file:
        data = file.read(ctx.max_read_bytes + 1)
    if len(data) > ctx.max_read_bytes:
        raise TooLargeError(
            f"{shown!r} is larger than {ctx.max_read_bytes} bytes, the most this tool reads"
        )
    refuse_binary(data, shown)
    return data


def read_file(ctx: ToolContext, args: Arguments) -> str:
    """``read_file``: numbered lines of a text file, optionally from ``offset`` for ``limit``."""
    raw = args.text("target_file", "file_path")
    offset = args.optional_int("offset", minimum=1) or 1
    limit = args.optional_int("limit", minimum=1)
    path = ctx.sandbox.resolve(raw)
    shown = ctx.sandbox.display(path)
    refuse_hidden(ctx, path, "read")
    with ctx.sandbox.open_regular(path) as file:
        refuse_binary(file.read(BINARY_PROBE_BYTES), shown)
        file.seek(0)
        return _read_lines(ctx, file, shown, offset, limit)


def _read_lines(
    ctx: ToolContext, file: BinaryIO, shown: str, offset: int, limit: int | None
) -> str:
    """Format lines ``offset`` .. ``offset + limit - 1`` of ``file``, with notes."""
    budget = ctx.max_read_bytes
    skipped, scanned = _skip_lines(file, offset - 1, budget)
    number = skipped
    end = None if limit is None else offset + limit
    out = CappedText(ctx.max_result_chars)
    notes: list[str] = []
    while True:
        raw = file.readline(budget - scanned + 1)
        if not raw:
            break
        scanned += len(raw)
        if scanned > budget:
            notes.append(f"[stopped at the read limit of {budget} bytes: later lines not shown]")
            break
        number += 1
        if end is not None and number >= end:
            notes.append(f"[more lines follow: continue with offset={end}]")
            break
        if out.full:
            # Only the size matters now; skip building the line.
            out.count(_numbered_length(number, raw))
        else:
            out.add(numbered(number, _line_text(raw)))
    if out.empty:
        if scanned > budget:
            raise ToolError(
                f"offset {offset} of {shown!r} lies beyond the first {budget} bytes, "
                "the most this tool reads"
            )
        if offset > 1:
            lines = "1 line" if number == 1 else f"{number} lines"
            raise ToolError(f"offset {offset} is past the end of {shown!r} ({lines})")
        return "[empty file]"
    return out.text(*notes)


def _skip_lines(file: BinaryIO, count: int, budget: int) -> tuple[int, int]:
    """Move past ``count`` lines by scanning for newlines; returns (lines passed, bytes read).

    At the end of the file a last line without a newline counts as passed too.
    """
    skipped = scanned = 0
    ends_mid_line = False
    while skipped < count and scanned < budget:
        chunk = file.read(min(_SKIP_CHUNK, budget - scanned))
        if not chunk:
            return skipped + int(ends_mid_line), scanned
        ends_mid_line = not chunk.endswith(b"\n")
        newlines = chunk.count(b"\n")
        if skipped + newlines < count:
            skipped += newlines
            scanned += len(chunk)
            continue
        position = -1
        for _ in range(count - skipped):
            position = chunk.index(b"\n", position + 1)
        unread = len(chunk) - position - 1
        file.seek(-unread, os.SEEK_CUR)
        return count, scanned + position + 1
    return skipped, scanned


def list_dir(ctx: ToolContext, args: Arguments) -> str:
    """``list_dir``: the entries of a directory (default: the project root)."""
    raw = args.optional_text("path", "target_directory")
    path = ctx.sandbox.resolve(raw or ".")
    shown = ctx.sandbox.display(path)
    if path.is_file():
        raise ToolError(f"{shown!r} is a file, not a directory; use read_file to read it")
    with ctx.sandbox.directory(path) as directory:
        entries = sorted(directory.entries(), key=lambda entry: entry.name)
    if not entries:
        return "[empty directory]"
    out = CappedText(ctx.max_result_chars)
    for entry in entries[:MAX_LIST_ENTRIES]:
        out.add(_entry_line(ctx, path, entry))
    notes = []
    if len(entries) > MAX_LIST_ENTRIES:
        notes.append(f"[{len(entries) - MAX_LIST_ENTRIES} more entries not shown]")
    return out.text(*notes)


def _entry_line(ctx: ToolContext, directory: Path, entry: os.DirEntry[str]) -> str:
    """One ``list_dir`` line: ``name``, ``name/`` or ``name@``."""
    if entry.is_symlink():
        # entry.path is only the name when scandir was given a descriptor.
        target = Path(os.path.realpath(directory / entry.name))
        if not ctx.sandbox.contains(target) or not target.exists():
            return f"{entry.name}@"
        return f"{entry.name}/" if target.is_dir() else entry.name
    return f"{entry.name}/" if entry.is_dir(follow_symlinks=False) else entry.name
