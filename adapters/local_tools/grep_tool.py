"""The ``grep`` tool: a Python regular expression over the project's text files.

Output, by ``output_mode`` (paths relative to the project root, with ``/``):

- ``content`` (default): ``path:line:text`` per matching line; with context
  (``A``/``B``/``C``) the surrounding lines are ``path-line-text`` and ``--``
  separates groups that are not adjacent, as ripgrep prints them. A line longer
  than 2,000 characters is cut, ending in ``…``.
- ``files_with_matches``: one path per line.
- ``count``: ``path:N`` per file with at least one match.

``head_limit`` keeps the first N output lines (0 or absent: no limit). With no
match the result is ``no matches`` (not an error). Walking a directory visits files
in name order and skips hidden files and directories (``.git``...), binary files
(NUL in the first 8 KiB), files over ``max_read_bytes`` (counted in a note) and
symlinks leading outside the root; an explicit ``path`` that is hidden is refused,
as by ``read_file``. Lines are split on ``\\n`` only, so line numbers agree with ``read_file``.

Residual risk: Python's ``re`` has no time limit, so a pathological pattern can
keep one worker thread busy; the call cannot escape the sandbox.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from adapters.local_tools.arguments import Arguments, ToolError, show
from adapters.local_tools.context import ToolContext
from adapters.local_tools.file_tools import TooLargeError, load, refuse_hidden
from adapters.local_tools.output import CappedText

OUTPUT_MODES = ("content", "files_with_matches", "count")
MAX_LINE_CHARS = 2000


class _HeadLimitReached(Exception):
    """Internal: stop searching, the caller has all the lines it asked for."""


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


def grep(ctx: ToolContext, args: Arguments) -> str:
    """``grep``: search file contents for ``pattern``."""
    pattern = args.text("pattern")
    flags = re.IGNORECASE if args.flag("i", "-i") else 0
    mode = args.choice("output_mode", OUTPUT_MODES)
    context = args.optional_int("C", "-C", "context", minimum=0) or 0
    after = args.optional_int("A", "-A", minimum=0)
    before = args.optional_int("B", "-B", minimum=0)
    head_limit = args.optional_int("head_limit", minimum=0) or None
    try:
        regex = re.compile(pattern, flags)
    except (re.error, RecursionError) as error:
        raise ToolError(f"grep: invalid regular expression {show(pattern)}: {error}") from None
    start = ctx.sandbox.resolve(args.optional_text("path") or ".")
    refuse_hidden(ctx, start, "search")
    search = _Search(
        ctx,
        regex,
        mode,
        before=context if before is None else before,
        after=context if after is None else after,
    )
    results = _Results(ctx, head_limit)
    notes: list[str] = []
    try:
        if start.is_dir():
            for shown, path in _walk(ctx, start):
                search.file(results, shown, path, explicit=False)
        else:
            search.file(results, ctx.sandbox.display(start), start, explicit=True)
    except _HeadLimitReached:
        notes.append(f"[head_limit {head_limit} reached: more results may exist]")
    if search.too_large:
        notes.append(f"[skipped {search.too_large} files larger than {ctx.max_read_bytes} bytes]")
    if results.out.empty:
        return "\n".join(["no matches", *notes])
    return results.out.text(*notes)


def _walk(ctx: ToolContext, start: Path) -> Iterator[tuple[str, Path]]:
    """(shown path, resolved path) of the visible files under ``start``, in name order."""
    for directory, dirs, files in os.walk(start, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            found = Path(directory, name)
            resolved = Path(os.path.realpath(found))
            if ctx.sandbox.contains(resolved):
                yield ctx.sandbox.display(found), resolved


class _Search:
    """One grep call's matcher and formatter."""

    def __init__(
        self, ctx: ToolContext, regex: re.Pattern[str], mode: str, *, before: int, after: int
    ) -> None:
        self.ctx = ctx
        self.regex = regex
        self.mode = mode
        self.before = before
        self.after = after
        self.too_large = 0
        self.groups = 0

    def file(self, results: _Results, shown: str, path: Path, *, explicit: bool) -> None:
        """Search one file and emit its results; unreadable files are skipped when walking."""
        try:
            data = load(self.ctx, path)
        except TooLargeError:
            if explicit:
                raise
            self.too_large += 1
            return
        except (ToolError, OSError):
            if explicit:
                raise
            return
        lines = data.decode("utf-8", "replace").split("\n")
        if lines[-1] == "":
            lines.pop()
        lines = [line.removesuffix("\r") for line in lines]
        matches = [n for n, line in enumerate(lines) if self.regex.search(line)]
        if not matches:
            return
        if self.mode == "files_with_matches":
            results.emit(shown)
        elif self.mode == "count":
            results.emit(f"{shown}:{len(matches)}")
        else:
            self._content(results, shown, lines, matches)

    def _content(self, results: _Results, shown: str, lines: list[str], matches: list[int]) -> None:
        """Matching lines with their context, ripgrep style."""
        matched = set(matches)
        for first, last in _windows(matches, self.before, self.after, len(lines)):
            if self.groups and (self.before or self.after):
                results.emit("--")
            self.groups += 1
            for n in range(first, last + 1):
                mark = ":" if n in matched else "-"
                results.emit(f"{shown}{mark}{n + 1}{mark}{_clip(lines[n])}")


def _windows(matches: list[int], before: int, after: int, total: int) -> list[tuple[int, int]]:
    """Merged inclusive line ranges around ``matches`` (0-based)."""
    windows: list[tuple[int, int]] = []
    for n in matches:
        first, last = max(n - before, 0), min(n + after, total - 1)
        if windows and first <= windows[-1][1] + 1:
            windows[-1] = (windows[-1][0], max(windows[-1][1], last))
        else:
            windows.append((first, last))
    return windows


def _clip(line: str) -> str:
    """``line``, cut to ``MAX_LINE_CHARS``."""
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "…"
