"""The read-only file tools: ``read_file`` and ``list_dir``, plus loading a whole file.

``read_file`` output: one line per file line, ``f"{number:>6}|{text}"`` (the 1-based
line number right-aligned in six columns, a ``|``, then the line without its line
ending), e.g. ``     1|(kicad_sch (version 20231120)``. Lines are read lazily, so a
range deep inside a large schematic costs a fast newline scan, not a full decode.
Notes in square brackets follow the lines: ``[more lines follow: continue with
offset=K]`` when ``limit`` stopped early, ``[output truncated: N more characters]``
when the result cap cut it, ``[empty file]`` for an empty file. Refused: binary
files (a NUL byte in the first 8 KiB), and whatever the path policy refuses
(:mod:`adapters.tools.local.path_policy`: a hidden name in the path or in what it
links to, since ``.env``, ``.git/config`` and the like hold credentials that must
not reach a model). At most ``max_read_bytes`` of a file are read.

``list_dir`` output: the directory's visible entries sorted by name, one a line
(at most 1,000; ``[N more entries not shown]`` counts the rest), directories with a
trailing ``/``; a symlink whose target is outside the project, hidden or missing is
shown with a trailing ``@`` since no tool will follow it. Hidden entries are left
out and counted: ``[2 hidden entries not shown]``. ``[empty directory]`` when
there is nothing at all. Listing a hidden directory (or a link to one) is refused.
A directory of any size is read one entry at a time, keeping only the first 1,000
names.

Both stop with ``... was cancelled`` once the runner is cancelled.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from adapters.tools.local import path_policy
from adapters.tools.local.arguments import Arguments, ToolError
from adapters.tools.local.context import ToolContext
from adapters.tools.local.output import CappedText

BINARY_PROBE_BYTES = 8192
MAX_LIST_ENTRIES = 1000
_SKIP_CHUNK = 1 << 20
_CHECK_EVERY = 4096  # lines between two looks at the cancellation flag


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
    path = path_policy.resolve(ctx.sandbox, raw, "read")
    shown = ctx.sandbox.display(path)
    with ctx.sandbox.open_regular(path) as file:
        refuse_binary(file.read(BINARY_PROBE_BYTES), shown)
        file.seek(0)
        return _read_lines(ctx, file, shown, offset, limit)


def _read_lines(
    ctx: ToolContext, file: BinaryIO, shown: str, offset: int, limit: int | None
) -> str:
    """Format lines ``offset`` .. ``offset + limit - 1`` of ``file``, with notes."""
    budget = ctx.max_read_bytes
    skipped, scanned = _skip_lines(ctx, file, offset - 1, budget)
    number = skipped
    end = None if limit is None else offset + limit
    out = CappedText(ctx.max_result_chars)
    notes: list[str] = []
    while True:
        if out.full:
            # Only the size of the rest matters now: count it in bulk, not line by line.
            _count_rest(file, out, notes, (number, scanned, budget), end)
            break
        if number % _CHECK_EVERY == 0:
            ctx.cancellation.check("read_file")
        raw = file.readline(budget - scanned + 1)
        if not raw:
            break
        scanned += len(raw)
        if scanned > budget:
            notes.append(_stopped_note(budget))
            break
        number += 1
        if end is not None and number >= end:
            notes.append(_more_note(end))
            break
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


def _stopped_note(budget: int) -> str:
    return f"[stopped at the read limit of {budget} bytes: later lines not shown]"


def _more_note(end: int) -> str:
    return f"[more lines follow: continue with offset={end}]"


def _count_rest(
    file: BinaryIO,
    out: CappedText,
    notes: list[str],
    position: tuple[int, int, int],
    end: int | None,
) -> None:
    """Count what the line loop would still count, and add the note it would add.

    ``position`` is (lines passed, bytes scanned, byte budget). The result is exactly
    the sum of ``len(numbered(n, line)) + 1`` over the lines the loop would take (within the
    budget, before line ``end``), computed on the whole rest at C speed: the tail of
    a 5 MB schematic is 130,000 lines.
    """
    number, scanned, budget = position
    allowed = budget - scanned
    rest = file.read(allowed + 1)
    over = len(rest) > allowed
    # The loop takes every complete line within the budget; at the end of the file (and
    # only there) also a last line without a newline.
    body = rest[: rest.rfind(b"\n", 0, allowed) + 1] if over else rest
    newlines = body.count(b"\n")
    lines = newlines + (0 if over or not body or body.endswith(b"\n") else 1)
    if end is not None and number + lines >= end:
        lines = newlines = end - 1 - number  # line ``end`` stops the loop before counting it
        cut = -1
        for _ in range(lines):
            cut = body.index(b"\n", cut + 1)
        body = body[: cut + 1]
        notes.append(_more_note(end))
    elif over:
        notes.append(_stopped_note(budget))
    out.count(_text_length(body, newlines) + _number_columns(number + 1, lines) + 2 * lines)


def _text_length(body: bytes, newlines: int) -> int:
    """Characters of ``body``'s lines without their endings (as ``_line_text`` counts them)."""
    chars = len(body) if body.isascii() else len(body.decode("utf-8", "replace"))
    # Each line loses its "\n" and then one "\r" (CRLF, or a last line ending in CR).
    carriage = body.count(b"\r\n") + int(body.endswith(b"\r")) if b"\r" in body else 0
    return chars - newlines - carriage


def _number_columns(first: int, count: int) -> int:
    """Width of the line numbers ``first`` .. ``first + count - 1`` (at least 6 each)."""
    total = 6 * count
    last = first + count - 1
    threshold = 10**6
    while threshold <= last:  # every number past a power of ten is one column wider
        total += last - max(first, threshold) + 1
        threshold *= 10
    return total


def _skip_lines(ctx: ToolContext, file: BinaryIO, count: int, budget: int) -> tuple[int, int]:
    """Move past ``count`` lines by scanning for newlines; returns (lines passed, bytes read).

    At the end of the file a last line without a newline counts as passed too.
    """
    skipped = scanned = 0
    ends_mid_line = False
    while skipped < count and scanned < budget:
        ctx.cancellation.check("read_file")
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
    """``list_dir``: the visible entries of a directory (default: the project root)."""
    raw = args.optional_text("path", "target_directory") or "."
    path = path_policy.resolve(ctx.sandbox, raw, "list")
    shown = ctx.sandbox.display(path)
    if path.is_file():
        raise ToolError(f"{shown!r} is a file, not a directory; use read_file to read it")
    counts = {"hidden": 0, "visible": 0}

    def visible(entries: Iterator[os.DirEntry[str]]) -> Iterator[os.DirEntry[str]]:
        for number, entry in enumerate(entries):
            if number % _CHECK_EVERY == 0:
                ctx.cancellation.check("list_dir")
            if path_policy.is_hidden_name(entry.name):
                counts["hidden"] += 1
                continue
            counts["visible"] += 1
            yield entry

    with ctx.sandbox.directory(path) as directory:
        first = heapq.nsmallest(
            MAX_LIST_ENTRIES, visible(directory.entries()), key=lambda entry: entry.name
        )
        lines = [_entry_line(ctx, path, entry) for entry in first]
    notes = []
    if counts["visible"] > MAX_LIST_ENTRIES:
        notes.append(f"[{counts['visible'] - MAX_LIST_ENTRIES} more entries not shown]")
    if counts["hidden"]:
        hidden = counts["hidden"]
        notes.append(f"[{hidden} hidden {'entry' if hidden == 1 else 'entries'} not shown]")
    if not lines:
        return "\n".join(notes) or "[empty directory]"
    out = CappedText(ctx.max_result_chars)
    for line in lines:
        out.add(line)
    return out.text(*notes)


def _entry_line(ctx: ToolContext, directory: Path, entry: os.DirEntry[str]) -> str:
    """One ``list_dir`` line: ``name``, ``name/`` or ``name@``."""
    if entry.is_symlink():
        # entry.path is only the name when scandir was given a descriptor.
        target = path_policy.reach(ctx.sandbox, directory / entry.name)
        if target is None or not target.exists():
            return f"{entry.name}@"
        return f"{entry.name}/" if target.is_dir() else entry.name
    return f"{entry.name}/" if entry.is_dir(follow_symlinks=False) else entry.name
