"""The ``grep`` tool: an RE2 regular expression over the project's text files, streamed.

Output, by ``output_mode`` (paths relative to the project root, with ``/``):

- ``content`` (default): ``path:line:text`` per matching line; with context
  (``A``/``B``/``C``, at most 100 lines each) the surrounding lines are
  ``path-line-text`` and ``--`` separates groups that are not adjacent, as ripgrep
  prints them. A line longer than 2,000 characters is cut, ending in ``…``.
- ``files_with_matches``: one path per line.
- ``count``: ``path:N`` per file with at least one match.

``head_limit`` keeps the first N output lines (0 or absent: no limit). With no
match the result is ``no matches`` (not an error). Lines are split on ``\\n`` only
(a ``\\r`` before it is dropped), so line numbers agree with ``read_file``.

Which files: an explicit ``path`` and every file a directory walk reaches go
through the path policy (:mod:`adapters.tools.local.path_policy`): a hidden path,
or a link to one (``notes.txt -> .env``), is refused when named and skipped when
walked into, as are links that lead outside. A walk visits files in name order and
also skips binary files (NUL in the first 8 KiB) and files over ``max_read_bytes``
(counted in a note).

The engine is RE2 (``google-re2``), whose matching time is linear in the text:
no pattern can backtrack for hours, and it releases the GIL while it matches, so
other threads (another chat stream, Ctrl-C handling) keep running. RE2 has no
backreferences, lookaround, atomic groups, possessive quantifiers or ``\\Z``; such
a pattern is an error result saying so. The pattern is compiled with bounded memory
(8 MiB) and without capture groups.

Bounds of one call: files are read in 64 KiB chunks, never whole; a line longer
than 128 KiB is searched in its first 128 KiB only (a note counts such lines); the
whole call stops after ``grep_seconds`` (default 5 s) with what it found so far and
``[search stopped after N s: ...]``; ``cancel()`` stops it at the next block of
about 4 KiB with ``grep was cancelled``. Speed: each chunk is first searched
as a whole (multi-line mode) and only chunks that match are searched line by line.
That shortcut is sound because multi-line mode can only find more candidates, never
fewer; a pattern for which that is not certain (``\\A``, ``\\z``, ``\\Q``, a flag
group that turns ``m`` off) is searched line by line throughout.
"""

from __future__ import annotations

import collections
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from adapters.tools.local import path_policy
from adapters.tools.local.arguments import Arguments, ToolError, show
from adapters.tools.local.context import ToolContext
from adapters.tools.local.file_tools import BINARY_PROBE_BYTES, BinaryFileError, TooLargeError
from adapters.tools.local.output import CappedText

OUTPUT_MODES = ("content", "files_with_matches", "count")
MAX_LINE_CHARS = 2000
MAX_LINE_BYTES = 128 * 1024
MAX_CONTEXT = 100
MAX_PATTERN_CHARS = 4096
READ_CHUNK = 64 * 1024
BLOCK_BYTES = 4096
REGEX_MEMORY = 8 << 20
# Enough bytes of a line to show MAX_LINE_CHARS characters of it (4 bytes a character at most).
_SHOWN_BYTES = 4 * MAX_LINE_CHARS + 4
_CLEARS_MULTILINE = re.compile(r"\(\?[A-Za-z]*-[A-Za-z]*m")
RE2_LIMITS = (
    "grep uses RE2 syntax, like Python's re without backreferences (\\1), lookaround "
    "((?=...), (?!...), (?<=...), (?<!...)), atomic groups ((?>...)), possessive "
    "quantifiers (a++) or \\Z (use \\z)"
)


class _Match(Protocol):
    """What this module uses of an RE2 match."""

    def span(self) -> tuple[int, int]: ...


class _Regex(Protocol):
    """What this module uses of a compiled RE2 pattern."""

    def search(self, text: bytes, pos: int = ...) -> _Match | None: ...


class _HeadLimitReached(Exception):
    """Internal: stop searching, the caller has all the lines it asked for."""


class _DeadlineReached(Exception):
    """Internal: the call's time is up; return what was found."""


class _FileDone(Exception):
    """Internal: nothing more to learn from this file (``files_with_matches``)."""


class _Results:
    """Output lines under the size cap and the optional ``head_limit``."""

    def __init__(self, ctx: ToolContext, head_limit: int | None) -> None:
        self.out = CappedText(ctx.max_result_chars)
        self.lines = 0
        self.head_limit = head_limit

    def emit(self, line: str) -> None:
        if self.head_limit is not None and self.lines >= self.head_limit:
            raise _HeadLimitReached
        self.out.add(line)
        self.lines += 1


def _multiline_is_sound(pattern: str) -> bool:
    """True when searching many lines at once finds every line a per-line search finds."""
    if "\\Q" in pattern or _CLEARS_MULTILINE.search(pattern):
        return False
    position = 0
    while position < len(pattern):
        if pattern[position] == "\\":
            if pattern[position + 1 : position + 2] in ("A", "z"):
                return False
            position += 2
        else:
            position += 1
    return True


def compile_pattern(pattern: str, ignore_case: bool) -> tuple[_Regex, bool]:
    """The compiled pattern, and whether whole chunks may be searched at once."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ToolError(f"grep: the pattern is too long (at most {MAX_PATTERN_CHARS} characters)")
    import re2  # type: ignore[import-untyped]  # lazily: the CLI's start-up does not pay for it

    options = re2.Options()
    options.log_errors = False  # else RE2 prints every parse error on stderr
    options.max_mem = REGEX_MEMORY
    options.never_capture = True  # only "does it match"; submatches would cost time
    options.case_sensitive = not ignore_case
    whole = _multiline_is_sound(pattern)
    try:
        regex: _Regex = re2.compile(f"(?m){pattern}" if whole else pattern, options)
    except re2.error:
        # Report the error of the pattern as the model wrote it (without the "(?m)").
        detail: object = "invalid"
        try:
            re2.compile(pattern, options)
        except re2.error as error:
            detail = error.args[0] if error.args else detail
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ToolError(
            f"grep: invalid regular expression {show(pattern)} ({detail}); {RE2_LIMITS}"
        ) from None
    return regex, whole


def grep(ctx: ToolContext, args: Arguments) -> str:
    """``grep``: search file contents for ``pattern``."""
    pattern = args.text("pattern")
    ignore_case = args.flag("i", "-i")
    mode = args.choice("output_mode", OUTPUT_MODES)
    context = args.optional_int("C", "-C", "context", minimum=0) or 0
    after = args.optional_int("A", "-A", minimum=0)
    before = args.optional_int("B", "-B", minimum=0)
    head_limit = args.optional_int("head_limit", minimum=0) or None
    regex, whole = compile_pattern(pattern, ignore_case)
    start = path_policy.resolve(ctx.sandbox, args.optional_text("path") or ".", "search")
    before = context if before is None else before
    after = context if after is None else after
    notes: list[str] = []
    if max(before, after) > MAX_CONTEXT:
        notes.append(f"[context limited to {MAX_CONTEXT} lines]")
    search = _Search(
        ctx,
        regex,
        whole,
        mode,
        before=min(before, MAX_CONTEXT),
        after=min(after, MAX_CONTEXT),
        results=_Results(ctx, head_limit),
    )
    try:
        if start.is_dir():
            for found, path in path_policy.walk_files(ctx.sandbox, start, search.check):
                search.file(ctx.sandbox.display(found), path, explicit=False)
        else:
            search.file(ctx.sandbox.display(start), start, explicit=True)
    except _HeadLimitReached:
        notes.append(f"[head_limit {head_limit} reached: more results may exist]")
    except _DeadlineReached:
        notes.append(
            f"[search stopped after {ctx.grep_seconds:g} s: results are incomplete; "
            "search a narrower path or use a simpler pattern]"
        )
    if search.too_large:
        notes.append(f"[skipped {search.too_large} files larger than {ctx.max_read_bytes} bytes]")
    if search.long_lines:
        notes.append(
            f"[{search.long_lines} lines longer than {MAX_LINE_BYTES} bytes were searched "
            "in their beginning only]"
        )
    if search.results.out.empty:
        return "\n".join(["no matches", *notes])
    return search.results.out.text(*notes)


def _shown_text(line: bytes) -> str:
    """A line as the model sees it: decoded leniently, cut to ``MAX_LINE_CHARS``."""
    text = line[:_SHOWN_BYTES].decode("utf-8", "replace")
    if len(text) > MAX_LINE_CHARS or len(line) > _SHOWN_BYTES:
        return text[:MAX_LINE_CHARS] + "…"
    return text


class _Search:
    """One grep call: the matcher, the limits, and the formatting shared by its files."""

    def __init__(
        self,
        ctx: ToolContext,
        regex: _Regex,
        whole: bool,
        mode: str,
        *,
        before: int,
        after: int,
        results: _Results,
    ) -> None:
        self.ctx = ctx
        self.regex = regex
        self.whole = whole
        self.mode = mode
        self.before = before
        self.after = after
        self.results = results
        self.deadline = time.monotonic() + ctx.grep_seconds
        self.too_large = 0
        self.long_lines = 0
        self.groups = 0

    def check(self) -> None:
        """Stop when the turn was cancelled (``ToolError``) or the time is up."""
        self.ctx.cancellation.check("grep")
        if time.monotonic() > self.deadline:
            raise _DeadlineReached

    def file(self, shown: str, path: Path, *, explicit: bool) -> None:
        """Search one file; when walking, files that cannot be searched are skipped."""
        try:
            with self.ctx.sandbox.open_regular(path) as file:
                if os.fstat(file.fileno()).st_size > self.ctx.max_read_bytes:
                    raise TooLargeError(
                        f"{shown!r} is larger than {self.ctx.max_read_bytes} bytes, "
                        "the most this tool reads"
                    )
                _FileSearch(self, shown).run(file)
        except _FileDone:
            pass
        except TooLargeError:
            if explicit:
                raise
            self.too_large += 1
        except (ToolError, OSError):
            if explicit or self.ctx.cancellation.requested:
                raise


class _FileSearch:
    """The streaming search of one file: line numbers, context, counts."""

    def __init__(self, search: _Search, shown: str) -> None:
        self.search = search
        self.shown = shown
        self.number = 0  # lines passed so far
        self.matches = 0
        self.pending_after = 0
        self.last_shown = -1  # number of the last line emitted, -1 before any
        self.recent: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=search.before)

    def run(self, file: BinaryIO) -> None:
        """Search the whole file, chunk by chunk."""
        search = self.search
        for region in self._regions(file):
            search.check()
            if search.whole and search.regex.search(region) is None:
                self._pass(region)
                continue
            for block in _blocks(region):
                search.check()
                if search.whole and len(block) < len(region) and not search.regex.search(block):
                    self._pass(block)
                else:
                    self._scan(block)
        if search.mode == "count" and self.matches:
            search.results.emit(f"{self.shown}:{self.matches}")

    def _regions(self, file: BinaryIO) -> Iterator[bytes]:
        """Complete lines, ``\\r\\n`` turned into ``\\n``, each region ending in ``\\n``.

        At most ``MAX_LINE_BYTES + READ_CHUNK`` bytes are held at once; the rest of an
        over-long line is skipped.
        """
        pending = b""
        skipping = False
        budget = self.search.ctx.max_read_bytes
        first = True
        while budget > 0 and (data := file.read(min(READ_CHUNK, budget))):
            budget -= len(data)
            if first and b"\x00" in data[:BINARY_PROBE_BYTES]:
                raise BinaryFileError(f"{self.shown!r} is a binary file")
            first = False
            start = 0
            if skipping:
                start = data.find(b"\n") + 1
                if start == 0:
                    continue
                skipping = False
            end = data.find(b"\n", start)
            if end < 0:
                room = MAX_LINE_BYTES - len(pending)
                if len(data) - start > room:
                    self.search.long_lines += 1
                    yield _normalised(pending + data[start : start + room] + b"\n")
                    pending, skipping = b"", True
                else:
                    pending += data[start:]
                continue
            head = pending + data[start:end]
            if len(head) > MAX_LINE_BYTES:
                self.search.long_lines += 1
                head = head[:MAX_LINE_BYTES]
            last = data.rfind(b"\n")
            pending = data[last + 1 :]
            yield _normalised(head + b"\n" + data[end + 1 : last + 1])
        if pending:
            yield _normalised(pending + b"\n")

    def _pass(self, block: bytes) -> None:
        """A block with no match: only context needs its lines."""
        count = block.count(b"\n")
        search = self.search
        if search.mode == "content" and (self.pending_after or search.before):
            self._context(block.split(b"\n")[:-1], self.number)
        self.number += count

    def _scan(self, block: bytes) -> None:
        """A block that may match: the lines that do, then their context."""
        search = self.search
        find = search.regex.search
        lines = block.split(b"\n")
        lines.pop()
        hits = _hits_in_block(search.regex, block) if search.whole else None
        if hits is None:
            hits = [index for index, line in enumerate(lines) if find(line) is not None]
        base = self.number
        self.number += len(lines)
        if not hits:
            if search.mode == "content":
                self._context(lines, base)
            return
        self.matches += len(hits)
        if search.mode == "files_with_matches":
            search.results.emit(self.shown)
            raise _FileDone
        if search.mode != "content":
            return
        previous = 0
        for index in hits:
            self._context(lines[previous:index], base + previous)
            self._match(base + index + 1, lines[index])
            previous = index + 1
        self._context(lines[previous:], base + previous)

    def _context(self, lines: list[bytes], base: int) -> None:
        """Non-matching lines ``base + 1``...: after-context first, the rest kept for before."""
        shown = min(self.pending_after, len(lines))
        for index in range(shown):
            self._emit(base + index + 1, lines[index], "-")
        self.pending_after -= shown
        for index in range(max(shown, len(lines) - self.search.before), len(lines)):
            self.recent.append((base + index + 1, lines[index][:_SHOWN_BYTES]))

    def _match(self, number: int, line: bytes) -> None:
        """A matching line, preceded by its before-context."""
        search = self.search
        first = self.recent[0][0] if self.recent else number
        if first > self.last_shown + 1:  # not adjacent to what was shown: a new group
            if search.groups and (search.before or search.after):
                search.results.emit("--")
            search.groups += 1
        for kept_number, kept in self.recent:
            self._emit(kept_number, kept, "-")
        self.recent.clear()
        self._emit(number, line, ":")
        self.pending_after = search.after

    def _emit(self, number: int, line: bytes, mark: str) -> None:
        self.search.results.emit(f"{self.shown}{mark}{number}{mark}{_shown_text(line)}")
        self.last_shown = number


def _hits_in_block(regex: _Regex, block: bytes) -> list[int] | None:
    """Indices of the lines of ``block`` that match, from searches of the block itself.

    A multi-line-mode match that lies within one line is a match of that line searched
    alone (``^``, ``$`` and ``\\b`` see a newline where a lone line has its edge), and
    every search restarts at the start of the next line, so no matching line is passed
    over. A match that spans lines proves nothing: None, and the caller searches each
    line. One search per matching line instead of one per line.
    """
    hits: list[int] = []
    index = start = 0  # ``start`` is the start of line ``index``
    while start < len(block):
        match = regex.search(block, start)
        if match is None:
            break
        begin, end = match.span()
        if begin == len(block):  # an empty match after the last newline: not a line
            break
        if block.find(b"\n", begin, end) >= 0:
            return None
        index += block.count(b"\n", start, begin)
        hits.append(index)
        start = block.index(b"\n", begin) + 1
        index += 1
    return hits


def _normalised(region: bytes) -> bytes:
    """``region`` with each ``\\r\\n`` turned into ``\\n`` (a CR ending a line is not text)."""
    return region.replace(b"\r\n", b"\n") if b"\r" in region else region


def _blocks(region: bytes) -> Iterator[bytes]:
    """``region`` cut after a newline about every ``BLOCK_BYTES`` bytes."""
    start = 0
    while start < len(region):
        cut = region.find(b"\n", min(start + BLOCK_BYTES, len(region) - 1))
        end = len(region) if cut < 0 else cut + 1
        yield region[start:end]
        start = end
