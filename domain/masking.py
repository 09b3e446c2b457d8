"""Masking secrets in text that leaves the process towards the user (pure: no I/O).

The backend receives the provider key with each request, so whatever it sends back
may quote it: a provider error ("invalid x-api-key sk-..."), a truncated echo, a key
split over several text deltas. Every string shown to the user, written by a tool or
posted back is masked against every secret of the request (the provider key and the
Trace token): not only a whole secret but any run of at least :data:`MIN_SECRET_RUN`
of its characters, a prefix, a suffix or a middle part.

Why 8: a masked key shows its last 4 characters by design, so a run must be longer
than that; 8 characters of a key (about 48 bits of base62) are as much as we accept
to show, and text the model writes rarely repeats 8 characters of a random key by
chance (the common prefixes, ``sk-proj-`` or ``sk-ant-api03-``, are masked too, which
costs nothing). A backend that sets out to leak the key in disguise (reversed,
base64, 7 characters at a time) cannot be stopped by masking; it has the key anyway.
The masking is about accidental echoes reaching terminals, CI logs and files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar, cast

import attrs

if TYPE_CHECKING:
    from domain.chat import ChatEvent

MIN_SECRET_RUN = 8
SHOWN_AT_ONCE = 3
MASK = "***"
_T = TypeVar("_T")


def _forms(secret: str) -> set[str]:
    """The secret as it may appear: raw, and as escaped inside a JSON string."""
    return {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}


class _Pattern:
    """One form of one secret: its anchors, and how to grow a hit into the longest run."""

    __slots__ = ("_anchors", "_run", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._run = min(MIN_SECRET_RUN, len(text))
        # Every run of ``_run`` characters of the secret contains one of these anchors
        # (``step`` apart, each ``_run - step + 1`` long), so finding the anchors finds
        # every run; a hit is then grown in both directions and kept if long enough.
        step = max(1, self._run // 2)
        width = self._run - step + 1
        anchors: dict[str, list[int]] = {}
        for at in range(0, len(text) - width + 1, step):
            anchors.setdefault(text[at : at + width], []).append(at)
        self._anchors = anchors

    def spans(self, haystack: str) -> list[tuple[int, int]]:
        """``(start, end)`` of every run of the secret in ``haystack`` (they may overlap)."""
        secret, run = self.text, self._run
        found: list[tuple[int, int]] = []
        # Per alignment of the secret against the text (start minus offset), the end of
        # the run found so far: a text full of copies of the secret is grown once per copy.
        grown: dict[int, tuple[int, int]] = {}
        for anchor, offsets in self._anchors.items():
            at = haystack.find(anchor)
            while at >= 0:
                for offset in offsets:
                    diagonal = at - offset
                    known = grown.get(diagonal)
                    if known is not None and known[0] <= at and at + len(anchor) <= known[1]:
                        continue
                    back = _common_suffix(haystack, at, secret, offset)
                    ahead = _common_prefix(haystack, at, secret, offset)
                    start, end = at - back, at + ahead
                    grown[diagonal] = (start, end)
                    if end - start >= run:
                        found.append((start, end))
                at = haystack.find(anchor, at + 1)
        return found


def _common_prefix(text: str, at: int, secret: str, offset: int) -> int:
    """How many characters ``text[at:]`` and ``secret[offset:]`` share (binary search)."""
    low, high = 0, min(len(text) - at, len(secret) - offset)
    while low < high:
        middle = (low + high + 1) // 2
        if text[at : at + middle] == secret[offset : offset + middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(text: str, at: int, secret: str, offset: int) -> int:
    """How many characters ``text[:at]`` and ``secret[:offset]`` share at their ends."""
    low, high = 0, min(at, offset)
    while low < high:
        middle = (low + high + 1) // 2
        if text[at - middle : at] == secret[offset - middle : offset]:
            low = middle
        else:
            high = middle - 1
    return low


class SecretMasker:
    """Replaces every run of every secret with ``***``; immutable, so threads may share it."""

    __slots__ = ("_longest", "_patterns")

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets if secret for form in _forms(secret)}
        self._patterns = tuple(_Pattern(form) for form in sorted(forms))
        self._longest = max((len(p.text) for p in self._patterns), default=0)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The merged ``(start, end)`` spans of ``text`` that hold a run of a secret."""
        found = sorted(span for pattern in self._patterns for span in pattern.spans(text))
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return merged

    def mask(self, text: str) -> str:
        """``text`` with every run of a secret replaced by ``***`` (the same object if none)."""
        if not self._patterns or not text:
            return text
        return _apply(text, self.spans(text))

    def mask_data(self, value: _T) -> _T:
        """``value`` with every string inside it masked, keys included (dicts, lists, tuples)."""
        if not self._patterns:
            return value
        return cast(_T, self._data(value))

    def _data(self, value: object) -> object:
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, Mapping):
            return {self._data(k): self._data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._data(v) for v in value)
        return value

    def mask_event(self, event: ChatEvent) -> ChatEvent:
        """``event`` with every string it shows masked (a text delta alone: see ``stream``)."""
        if not self._patterns:
            return event
        # Imported here: the CLI masks every error message, and only chats have events.
        from domain.chat import (
            Done,
            FileEdit,
            StatusUpdate,
            StreamError,
            TextDelta,
            Thinking,
            ToolCall,
            Usage,
        )

        if isinstance(event, TextDelta | Thinking | StatusUpdate | StreamError):
            content = self.mask(event.content)
            return event if content is event.content else attrs.evolve(event, content=content)
        if isinstance(event, ToolCall):
            return ToolCall(
                self.mask(event.tool_call_id),
                self.mask(event.tool_name),
                self.mask_data(dict(event.tool_args)),
            )
        if isinstance(event, FileEdit | Usage):
            return type(event)(self.mask_data(dict(event.data)))
        if event.conversation_id is None:
            return event
        return Done(self.mask(event.conversation_id))

    def stream(self) -> StreamMasker:
        """A masker for text that arrives in pieces (a secret may be split across them)."""
        return StreamMasker(self)

    def tail_length(self, text: str) -> int:
        """The length of the longest end of ``text`` that is part of a secret (to hold back)."""
        best = 0
        for pattern in self._patterns:
            # Whether an end of length n is inside the secret only gets harder as n grows,
            # so a binary search finds the longest: O(log n) substring searches.
            low, high = best, min(len(text), len(pattern.text))
            while low < high:
                middle = (low + high + 1) // 2
                if text[-middle:] in pattern.text:
                    low = middle
                else:
                    high = middle - 1
            best = low
        return best


class StreamMasker:
    """Masks a text stream piece by piece, holding back an end that could start a secret.

    ``feed`` returns what can be shown now; ``flush`` the rest once the stream ends.
    An end of up to :data:`SHOWN_AT_ONCE` characters that could start a secret is shown
    at once (holding every text whose last letter occurs in a key would delay nearly
    every piece); from then on those characters count as the start of a possible run,
    so at most that many characters of a run are ever shown. The held text is at most
    two secrets long.
    """

    __slots__ = ("_context", "_held", "_masker")

    def __init__(self, masker: SecretMasker) -> None:
        self._masker = masker
        self._held = ""
        self._context = ""  # the last characters shown, as sent: a run may continue them

    def feed(self, piece: str) -> str:
        """The masked text that is safe to show now (may be empty)."""
        if not self._masker:
            return piece
        context = self._context
        text = context + self._held + piece
        spans = self._masker.spans(text)
        tail = self._masker.tail_length(text)
        cut = len(text) if tail <= SHOWN_AT_ONCE else len(text) - tail
        for start, end in spans:
            if start < cut < end:
                # A run that reaches into the held end stays whole: more may follow.
                cut = start
        cut = max(cut, len(context))
        self._held = text[cut:]
        self._context = text[max(0, cut - SHOWN_AT_ONCE) : cut]
        return _apply(text, spans, len(context), cut)

    def flush(self) -> str:
        """Everything still held, masked; the stream starts afresh."""
        text = self._context + self._held
        shown = _apply(text, self._masker.spans(text), len(self._context), len(text))
        self._held = self._context = ""
        return shown


def _apply(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` with the parts inside ``spans`` (sorted, apart) replaced by the mask."""
    end = len(text) if end is None else end
    parts: list[str] = []
    at = start
    for low, high in spans:
        low, high = max(low, start), min(high, end)
        if low < high:
            parts += (text[at:low], MASK)
            at = high
    if not parts:
        return text if start == 0 and end == len(text) else text[start:end]
    parts.append(text[at:end])
    return "".join(parts)
