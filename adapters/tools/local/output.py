"""Size-capped result text: tools add lines, the model gets at most ``limit`` characters.

The cap covers the content; when anything was cut, one note line is appended
(``[output truncated: N more characters]``), so the result can exceed the cap by
the length of that note.
"""

from __future__ import annotations


def truncation_note(more: int) -> str:
    """The line that tells the model how much it did not see."""
    return f"[output truncated: {more} more characters]"


class CappedText:
    """Collects lines until ``limit`` characters, then only counts what did not fit."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[str] = []
        self._used = 0
        self._overflow = 0

    @property
    def full(self) -> bool:
        """True once something had to be cut; later lines are only counted."""
        return self._overflow > 0

    @property
    def empty(self) -> bool:
        """True when no line was added yet."""
        return not self._parts and not self._overflow

    def add(self, line: str) -> None:
        """Append ``line`` (a newline separates lines), or count it once full."""
        cost = len(line) + (1 if self._parts or self._overflow else 0)
        if self._overflow or self._used + cost > self._limit:
            room = max(self._limit - self._used, 0)
            if not self._overflow and room > 1:
                # Keep what fits of the first line that does not, so one huge line
                # (minified JSON) still shows its beginning.
                kept = line[: room - (cost - len(line))]
                self._parts.append(kept)
                self._used += room
                cost -= room
            self._overflow += cost
            return
        self._parts.append(line)
        self._used += cost

    def count(self, chars: int) -> None:
        """Count ``chars`` more characters that were not added (already known not to fit)."""
        self._overflow += chars

    def text(self, *notes: str) -> str:
        """The kept lines, then the truncation note if needed, then ``notes``."""
        lines = list(self._parts)
        if self._overflow:
            lines.append(truncation_note(self._overflow))
        lines.extend(notes)
        return "\n".join(lines)


def cap(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with the truncation note when it was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + "\n" + truncation_note(len(text) - limit)
