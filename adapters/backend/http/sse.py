"""Server-sent events to domain chat events: a hand parser tuned for low per-event cost.

The wire format is the SSE framing of the WHATWG spec (lines end in LF, CRLF or CR;
an empty line dispatches the ``data:`` lines gathered so far; an event cut off by the
end of the stream is discarded). Each dispatched ``data`` payload is one JSON object
with a ``type`` (DESIGN section 5). This module never imports httpx, so the parser is
testable on bytes alone.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

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


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


# RFC 8259 has no NaN or Infinity: an event carrying one is malformed, so nothing
# downstream (--json output above all) ever holds a number JSON cannot write.
_JSON = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)
_raw_decode = _JSON.raw_decode

_LF = b"\n"
_CR = b"\r"
_BOM = b"\xef\xbb\xbf"
# One event (every byte since the last one, see SseDecoder) may be this large. The
# largest legitimate one is a write of a whole design file (the tools write at most
# 20 MiB) or a file_edit carrying a board file of a few MB. Decoded, the text of an
# event can take 4 bytes a character (one emoji makes Python store a whole string so),
# and it exists as bytes, str and parsed value: at this size the peak of the worst case
# stays under 200 MiB (tests/reliability/test_hostile_backend.py measures it).
MAX_EVENT_BYTES = 24 * 1024 * 1024
# Deeper than any event of the protocol needs (tool arguments nest a few levels), shallow
# enough that everything walking the data recursively (the secret masker: two frames a
# level, the size check, serialisation) stays far below Python's recursion limit. Deeper
# events are malformed (skipped and counted), the same in the Node SDK.
MAX_DEPTH = 64


class SseDecoder:
    """Incremental SSE framing: feed byte chunks, get back the ``data`` payload of each event.

    Linear in the input, whatever its shape. Every byte since the last dispatched event
    counts towards ``max_event_bytes`` (``data:`` prefixes, empty data lines, comments,
    other fields and each line ending), and so does an unfinished line: past the cap
    the stream is refused with ``ProtocolError``, so a backend that never ends a line
    or an event cannot make us buffer or work without limit. An event's data is kept
    in one compact buffer, so its memory is its size.
    """

    __slots__ = ("_at_start", "_cr", "_data", "_first", "_limit", "_line", "_size")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._line = bytearray()  # the unfinished last line
        self._first: bytes | bytearray | None = None  # the open event's first data line
        self._data: bytearray | None = None  # its data once a second line arrived
        self._size = 0  # bytes of the open event so far (complete lines)
        self._cr = False  # the last chunk ended with CR: a leading LF completes that CRLF
        self._at_start = True
        self._limit = max_event_bytes

    def feed(self, chunk: bytes) -> list[bytes | bytearray]:
        """The payloads of the events completed by ``chunk`` (joined ``data`` lines)."""
        if not chunk:
            return []
        if self._cr:
            self._cr = False
            if chunk.startswith(_LF):
                chunk = chunk[1:]
        if _CR in chunk:
            # CRLF and a lone CR end lines too (rare on the wire): make them LF once, here.
            self._cr = chunk.endswith(_CR)
            chunk = chunk.replace(b"\r\n", _LF).replace(_CR, _LF)
        out: list[bytes | bytearray] = []
        start = 0
        if self._line:
            first_end = chunk.find(_LF)
            if first_end < 0:
                self._line += chunk
                self._check_open()
                return out
            # Completing a long line extends its buffer in place, never re-joining it.
            line, self._line = self._line, bytearray()
            line += chunk[:first_end]
            self._lines([line], out)
            start = first_end + 1
        end = chunk.rfind(_LF)
        if end >= start:
            self._lines(chunk[start:end].split(_LF), out)
            start = end + 1
        if start < len(chunk):
            self._line += chunk[start:]
            self._check_open()
        return out

    def close(self) -> list[bytes | bytearray]:
        """End of stream: an event not ended by an empty line is discarded (WHATWG)."""
        self._reset()
        return []

    def _reset(self) -> None:
        self._line, self._first, self._data, self._size = bytearray(), None, None, 0

    def _check_open(self) -> None:
        if self._size + len(self._line) > self._limit:
            raise self._too_large()

    def _too_large(self) -> ProtocolError:
        self._reset()
        return ProtocolError(
            f"the Trace backend sent an event larger than {self._limit // (1024 * 1024)} MiB"
        )

    def _lines(self, lines: Sequence[bytes | bytearray], out: list[bytes | bytearray]) -> None:
        if self._at_start and lines:
            self._at_start = False
            if lines[0].startswith(_BOM):
                lines = [lines[0][3:], *lines[1:]]
        size, limit = self._size, self._limit
        first, data = self._first, self._data
        for line in lines:
            if not line:
                if first is not None:
                    out.append(first if data is None else data)
                    first = data = None
                size = 0
                continue
            size += len(line) + 1
            if size > limit:
                raise self._too_large()
            if not line.startswith(b"data"):
                continue  # comments (":..."), event/id/retry and unknown fields: counted only
            if line.startswith(b"data:"):
                if type(line) is bytearray:
                    # Drop the prefix in place (O(1) for a bytearray): no copy of a long line.
                    del line[: 6 if line.startswith(b"data: ") else 5]
                    value: bytes | bytearray = line
                else:
                    value = line[6:] if line.startswith(b"data: ") else line[5:]
            elif line == b"data":
                value = b""
            else:
                continue  # a field such as "database:", not ours
            if first is None:
                first = value
            else:
                if data is None:
                    data = bytearray(first)
                data += _LF
                data += value
        self._size, self._first, self._data = size, first, data


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


def _too_deep(text: str, parsed: object) -> bool:
    """True when ``parsed`` (the JSON ``text``) nests lists and objects beyond ``MAX_DEPTH``.

    Counting brackets (at C speed) rules out almost every event at once; only a text with
    more brackets than the limit is walked, without recursion.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    level: list[tuple[object, int]] = [(parsed, 1)]
    while level:
        value, depth = level.pop()
        if isinstance(value, dict):
            children: Iterable[object] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        level.extend((child, depth + 1) for child in children)
    return False


_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _error_event(obj: Mapping[str, object]) -> ChatEvent | Malformed:
    """An ``error`` event; its optional ``code`` and ``provider_status`` (architecture.md)."""
    content = _text(obj, "content", "message")
    if content is None:
        return MALFORMED
    code = obj.get("code")
    status = obj.get("provider_status")
    return StreamError(
        content,
        code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None,
        status if type(status) is int and 100 <= status <= 599 else None,
    )


def _tool_call(obj: Mapping[str, object]) -> ChatEvent | Malformed:
    call_id, name, args = obj.get("tool_call_id"), obj.get("tool_name"), obj.get("tool_args", {})
    if isinstance(args, str):
        # Some model APIs hand arguments over as a JSON string; accept it when it is an object.
        try:
            text, args = args, _JSON.decode(args) if args.strip() else {}
        except (ValueError, RecursionError):
            return MALFORMED
        if _too_deep(text, args):
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
    "error": _error_event,
    "tool_call": _tool_call,
    "file_edit": lambda obj: FileEdit(_rest(obj)),
    "metrics": lambda obj: Usage(_rest(obj)),
    "done": _done,
}


def decode_event(
    payload: bytes | bytearray, max_decoded: int | None = None
) -> ChatEvent | Malformed | None:
    """One event's payload as a domain event; None for an unknown type, MALFORMED for bad data.

    With ``max_decoded``, a payload whose text takes more memory than that once decoded
    (Python stores a whole string at 4 bytes a character if one character needs it)
    raises ``ProtocolError``, like a payload too large on the wire.
    """
    limit = max_decoded if len(payload) > _CHECK_DECODED_FROM else None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return MALFORMED
    # The caller hands over its only reference: the bytes go before the parse begins.
    del payload
    if limit is not None and sys.getsizeof(text) > limit:
        raise _decoded_too_large(limit)
    try:
        try:
            # raw_decode skips json.loads' two whitespace regex scans: the bulk of its
            # cost on small events. Anything unusual takes the ordinary path.
            obj, end = _raw_decode(text)
            if end != len(text) and text[end:].strip():
                return MALFORMED
        except ValueError:
            obj = _JSON.decode(text)
    except (ValueError, RecursionError):
        # RecursionError guards absurd nesting.
        return MALFORMED
    if _too_deep(text, obj):
        return MALFORMED
    del text
    if limit is not None and _strings_size(obj) > limit:
        raise _decoded_too_large(limit)
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


# Below this many bytes an event cannot grow past the cap once decoded (at most 4 times).
_CHECK_DECODED_FROM = 1024 * 1024


def _strings_size(value: object) -> int:
    """The memory the strings of a parsed JSON value take (escapes can widen them)."""
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sum(_strings_size(k) + _strings_size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_strings_size(v) for v in value)
    return 0


def _decoded_too_large(limit: int) -> ProtocolError:
    return ProtocolError(
        f"the Trace backend sent an event larger than {limit // (1024 * 1024)} MiB once decoded"
    )


def iter_events(
    chunks: Iterable[bytes],
    on_malformed: Callable[[], None],
    max_event_bytes: int = MAX_EVENT_BYTES,
) -> Iterator[ChatEvent]:
    """Domain events from a byte stream; calls ``on_malformed`` per skipped bad payload."""
    decoder = SseDecoder(max_event_bytes)
    feed = decoder.feed
    for chunk in chunks:
        payloads = feed(chunk)
        # Popped, not iterated: no reference to a payload outlives its decoding, so a
        # large event is not held twice while the consumer works on it.
        payloads.reverse()
        while payloads:
            event = decode_event(payloads.pop(), max_event_bytes)
            if event is None:
                continue
            if isinstance(event, Malformed):
                on_malformed()
                continue
            yield event
    decoder.close()
