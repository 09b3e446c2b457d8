"""Server-sent events to domain chat events: a hand parser tuned for low per-event cost.

The wire format is the SSE framing of the WHATWG spec (lines end in LF, CRLF or CR;
an empty line dispatches the ``data:`` lines gathered so far; an event cut off by the
end of the stream is discarded). Each dispatched ``data`` payload is one JSON object
with a ``type`` (DESIGN section 5). This module never imports httpx, so the parser is
testable on bytes alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping

from domain.chat import (
    ChatEvent,
    Done,
    FileEdit,
    StatusUpdate,
    StreamError,
    TextDelta,
    Thinking,
    ToolCall,
    Usage,
)
from domain.errors import ProtocolError


class Malformed:
    """Marker for a data payload that is not a valid event (not JSON, not an object, bad fields)."""

    __slots__ = ()


MALFORMED = Malformed()
_raw_decode = json.JSONDecoder().raw_decode

# Cheaper than a regex or a generic splitter: almost every real stream uses LF only.
_LF = b"\n"
_CR = b"\r"
_BOM = b"\xef\xbb\xbf"
# Far above any real event (a whole board file in a file_edit), far below memory trouble.
MAX_EVENT_BYTES = 64 * 1024 * 1024


class SseDecoder:
    """Incremental SSE framing: feed byte chunks, get back the ``data`` payload of each event.

    A line or an event larger than ``max_event_bytes`` raises ``ProtocolError``: a
    backend that never ends a line must not make us buffer without limit.
    """

    __slots__ = ("_at_start", "_data", "_limit", "_pending", "_pending_size")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        # The unfinished last line, as chunks: joining them once when its LF arrives keeps
        # a long line linear (re-concatenating per chunk made a 16 MiB line take 1 s).
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._data: list[bytes] = []
        self._at_start = True
        self._limit = max_event_bytes

    def feed(self, chunk: bytes) -> list[bytes]:
        """The payloads of the events completed by ``chunk`` (joined ``data`` lines)."""
        end = chunk.rfind(_LF)
        if end < 0:
            if chunk:
                self._pending.append(chunk)
                self._pending_size += len(chunk)
                if self._pending_size > self._limit:
                    raise self._too_large()
            return []
        if self._pending:
            self._pending.append(chunk[:end])
            head = b"".join(self._pending)
        else:
            head = chunk[:end]
        rest = chunk[end + 1 :]
        self._pending = [rest] if rest else []
        self._pending_size = len(rest)
        return self._lines(head.split(_LF))

    def close(self) -> list[bytes]:
        """End of stream: payloads of events the last CR-terminated lines finish; drops the rest."""
        rest = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        # Without a final LF only CRs terminate lines; the text after the last one is cut off.
        out = self._lines(rest.split(_CR)[:-1]) if rest else []
        self._data = []
        return out

    def _too_large(self) -> ProtocolError:
        self._pending, self._pending_size, self._data = [], 0, []
        return ProtocolError(
            f"the Trace backend sent an event larger than {self._limit // (1024 * 1024)} MiB"
        )

    def _lines(self, lines: list[bytes]) -> list[bytes]:
        if self._at_start and lines:
            self._at_start = False
            if lines[0].startswith(_BOM):
                lines[0] = lines[0][3:]
        out: list[bytes] = []
        data = self._data
        for line in lines:
            if line.endswith(_CR):
                line = line[:-1]
            if _CR in line:
                # A lone CR is also a line terminator (rare; kept off the fast path).
                for part in line.split(_CR):
                    _take(part, data, out)
            elif not line:
                if data:
                    out.append(data[0] if len(data) == 1 else _LF.join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                # Inlined copy of _take's data branch: this line runs once per event.
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
            else:
                _take(line, data, out)
        # An event still open after this batch: bound what its data lines hold so far.
        if data and sum(map(len, data)) > self._limit:
            raise self._too_large()
        return out


def _take(line: bytes, data: list[bytes], out: list[bytes]) -> None:
    """Apply one line: an empty one dispatches, ``data`` accumulates, the rest is ignored."""
    if not line:
        if data:
            out.append(data[0] if len(data) == 1 else _LF.join(data))
            data.clear()
    elif line.startswith(b"data:"):
        value = line[5:]
        data.append(value[1:] if value.startswith(b" ") else value)
    elif line == b"data":
        data.append(b"")
    # Comments (":..."), event/id/retry fields and unknown fields carry nothing we use.


def _text(obj: Mapping[str, object], *names: str) -> str | None:
    for name in names:
        value = obj.get(name)
        if isinstance(value, str):
            return value
    return None


def _rest(obj: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in obj.items() if k != "type"}


def _content_event(
    make: Callable[[str], ChatEvent],
) -> Callable[[Mapping[str, object]], ChatEvent | Malformed]:
    def build(obj: Mapping[str, object]) -> ChatEvent | Malformed:
        content = _text(obj, "content", "message")
        return MALFORMED if content is None else make(content)

    return build


def _tool_call(obj: Mapping[str, object]) -> ChatEvent | Malformed:
    call_id, name, args = obj.get("tool_call_id"), obj.get("tool_name"), obj.get("tool_args", {})
    if isinstance(args, str):
        # Some model APIs hand arguments over as a JSON string; accept it when it is an object.
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError:
            return MALFORMED
    if args is None:
        args = {}
    if not (isinstance(call_id, str) and call_id and isinstance(name, str) and name):
        return MALFORMED
    if not isinstance(args, dict):
        return MALFORMED
    return ToolCall(call_id, name, args)


def _done(obj: Mapping[str, object]) -> ChatEvent | Malformed:
    conversation_id = obj.get("conversation_id")
    if conversation_id is None or isinstance(conversation_id, str):
        return Done(conversation_id)
    return MALFORMED


_BUILDERS: dict[str, Callable[[Mapping[str, object]], ChatEvent | Malformed]] = {
    "thinking": _content_event(Thinking),
    "status": _content_event(StatusUpdate),
    "error": _content_event(StreamError),
    "tool_call": _tool_call,
    "file_edit": lambda obj: FileEdit(_rest(obj)),
    "metrics": lambda obj: Usage(_rest(obj)),
    "done": _done,
}


def decode_event(payload: bytes) -> ChatEvent | Malformed | None:
    """One event's payload as a domain event; None for an unknown type, MALFORMED for bad data."""
    try:
        text = payload.decode("utf-8")
        try:
            # raw_decode skips json.loads' two whitespace regex scans: the bulk of its
            # cost on small events. Anything unusual takes the ordinary path.
            obj, end = _raw_decode(text)
            if end != len(text) and text[end:].strip():
                return MALFORMED
        except ValueError:
            obj = json.loads(text)
    except (ValueError, RecursionError):
        # UnicodeDecodeError is a ValueError; RecursionError guards absurd nesting.
        return MALFORMED
    if type(obj) is not dict:
        return MALFORMED
    kind = obj.get("type")
    if kind == "text_delta":
        # The hot path: by far the most frequent event, so it skips the table.
        content = obj.get("content")
        return TextDelta(content) if type(content) is str else MALFORMED
    if type(kind) is not str:
        return MALFORMED
    build = _BUILDERS.get(kind)
    return None if build is None else build(obj)


def iter_events(chunks: Iterable[bytes], on_malformed: Callable[[], None]) -> Iterator[ChatEvent]:
    """Domain events from a byte stream; calls ``on_malformed`` per skipped bad payload."""
    decoder = SseDecoder()
    feed = decoder.feed
    for chunk in chunks:
        for payload in feed(chunk):
            event = decode_event(payload)
            if event is None:
                continue
            if isinstance(event, Malformed):
                on_malformed()
                continue
            yield event
    for payload in decoder.close():
        event = decode_event(payload)
        if isinstance(event, Malformed):
            on_malformed()
        elif event is not None:
            yield event
