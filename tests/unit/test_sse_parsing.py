"""The SSE parser: framing per the WHATWG spec, event mapping, and robustness to any input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.backend.http.sse import MALFORMED, SseDecoder, decode_event, iter_events
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


def parse(chunks: list[bytes]) -> tuple[list[ChatEvent], int]:
    """Events and the count of malformed payloads."""
    bad = [0]

    def count() -> None:
        bad[0] += 1

    events = list(iter_events(chunks, count))
    return events, bad[0]


def payloads(*chunks: bytes) -> list[bytes | bytearray]:
    """Raw ``data`` payloads of a byte stream."""
    decoder = SseDecoder()
    out = [p for chunk in chunks for p in decoder.feed(chunk)]
    return out + decoder.close()


# --- strategies ----------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
texts = st.text(max_size=30)  # any code point: U+2028, CR and LF inside JSON strings too


_KINDS = (
    "text_delta",
    "thinking",
    "status",
    "error",
    "tool_call",
    "metrics",
    "file_edit",
    "done",
    "unknown",
)
_CONTENT_EVENTS: dict[str, Callable[[str], ChatEvent]] = {
    "text_delta": TextDelta,
    "thinking": Thinking,
    "status": StatusUpdate,
    "error": StreamError,
}


@st.composite
def wire_events(draw: st.DrawFn) -> tuple[dict[str, Any], ChatEvent | None]:
    """A wire event object and the domain event it must become (None: ignored)."""
    kind = draw(st.sampled_from(_KINDS))
    if kind in _CONTENT_EVENTS:
        content = draw(texts)
        return {"type": kind, "content": content}, _CONTENT_EVENTS[kind](content)
    if kind == "tool_call":
        call_id, name = (
            draw(st.text(min_size=1, max_size=10)),
            draw(st.text(min_size=1, max_size=10)),
        )
        args = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
        wire = {"type": kind, "tool_call_id": call_id, "tool_name": name, "tool_args": args}
        return wire, ToolCall(call_id, name, args)
    if kind in ("metrics", "file_edit"):
        data = draw(
            st.dictionaries(
                st.text(max_size=8).filter(lambda k: k != "type"), json_values, max_size=3
            )
        )
        return {"type": kind, **data}, (Usage(data) if kind == "metrics" else FileEdit(data))
    if kind == "done":
        conversation_id = draw(st.none() | st.text(max_size=10))
        return {"type": "done", "conversation_id": conversation_id}, Done(conversation_id)
    return {"type": draw(st.sampled_from(["heartbeat", "usage_v2", ""])), "x": 1}, None


@st.composite
def encoded(draw: st.DrawFn, wire: dict[str, Any]) -> bytes:
    """One event framed in any of the ways the spec allows."""
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    # indent=1 spreads the JSON over several data lines, which the parser joins with LF.
    text = json.dumps(
        wire, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1]))
    )
    out = b""
    if draw(st.booleans()):
        out += b": keep-alive" + eol
    if draw(st.booleans()):
        out += b"event: message" + eol + b"id: 7" + eol
    for line in text.split("\n"):
        out += (b"data: " if draw(st.booleans()) else b"data:") + line.encode() + eol
    return out + eol


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[ChatEvent]]:
    """A valid stream and the domain events it carries."""
    events = draw(st.lists(wire_events(), max_size=8))
    body = b"".join(draw(encoded(wire)) for wire, _ in events)
    return body, [event for _, event in events if event is not None]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets."""
    points = sorted({min(c, len(data)) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


# --- properties ------------------------------------------------------------------------


@settings(max_examples=300)
@given(streams(), st.lists(st.integers(min_value=0, max_value=4000), max_size=30))
def test_any_split_of_a_valid_stream_parses_to_the_same_events(
    stream: tuple[bytes, list[ChatEvent]], cuts: list[int]
) -> None:
    body, expected = stream

    whole, whole_bad = parse([body])
    pieces, pieces_bad = parse(split(body, cuts))
    bytewise, _ = parse([body[i : i + 1] for i in range(len(body))])

    assert whole == expected
    assert pieces == expected
    assert bytewise == expected
    assert whole_bad == pieces_bad == 0


sse_fragments = st.sampled_from(
    (
        *(b"data:", b"data: ", b"{", b"}", b'"type"', b":", b'"text_delta"', b'"done"'),
        *(b"\n", b"\r", b"\r\n", b"\n\n", b"[1]", b'"tool_call"', b"\xef\xbb\xbf", b"\xff"),
    )
)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=40) | sse_fragments, max_size=40))
def test_garbage_never_raises(chunks: list[bytes]) -> None:
    events, bad = parse(chunks)

    assert bad >= 0
    assert all(isinstance(e, ChatEvent) for e in events)


# --- framing cases ---------------------------------------------------------------------


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert payloads(b'data: {"a":1}\r', b"\n\r\n") == [b'{"a":1}']


def test_lone_cr_ends_lines() -> None:
    assert payloads(b"data: x\r\rdata: y\r\r") == [b"x", b"y"]


def test_a_leading_bom_is_ignored() -> None:
    assert payloads(b"\xef\xbb", b"\xbfdata: x\n\n") == [b"x"]


def test_several_data_lines_join_with_lf() -> None:
    assert payloads(b"data: a\ndata\ndata:b\n\n") == [b"a\n\nb"]


def test_an_event_cut_off_by_the_end_of_the_stream_is_dropped() -> None:
    assert payloads(b"data: x\n\ndata: y\n") == [b"x"]
    assert payloads(b"data: x\n\ndata: y") == [b"x"]
    assert payloads(b"data: x\n\ndata: y\r") == [b"x"]
    assert payloads(b"data: x\n\ndata: y\r\r") == [b"x", b"y"]


def test_comments_and_other_fields_carry_nothing() -> None:
    assert payloads(b": hi\nevent: x\nid: 1\nretry: 5\n\n") == []


# --- event mapping ---------------------------------------------------------------------


def test_tool_args_given_as_a_json_string_are_accepted() -> None:
    wire = {
        "type": "tool_call",
        "tool_call_id": "t",
        "tool_name": "grep",
        "tool_args": '{"pattern": "VCC"}',
    }

    assert decode_event(json.dumps(wire).encode()) == ToolCall("t", "grep", {"pattern": "VCC"})


def test_done_without_conversation_id_is_done_with_none() -> None:
    assert decode_event(b'{"type": "done"}') == Done(None)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b'{"content": "no type"}',
        b'{"type": 5}',
        b'{"type": "text_delta"}',
        b'{"type": "text_delta", "content": 5}',
        b'{"type": "tool_call", "tool_name": "grep"}',
        b'{"type": "tool_call", "tool_call_id": "t", "tool_name": "grep", "tool_args": [1]}',
        b'{"type": "tool_call", "tool_call_id": "t", "tool_name": "grep", "tool_args": "{"}',
        b'{"type": "done", "conversation_id": 5}',
        b'{"type": "error"}',
        b"[" * 100_000,
    ],
)
def test_malformed_payloads_are_flagged(payload: bytes) -> None:
    assert decode_event(payload) is MALFORMED


def test_unknown_types_are_ignored() -> None:
    assert decode_event(b'{"type": "heartbeat"}') is None


# --- every byte counts (issue 10, class 5) ------------------------------------------------


@pytest.mark.parametrize(
    "filler",
    [b"data:\n", b"data\n", b": comment\n", b"event: x\n", b"id: 1\r\n", b"retry: 5\r", b"x\n"],
)
def test_every_line_between_events_counts_towards_the_cap(filler: bytes) -> None:
    decoder = SseDecoder(max_event_bytes=1000)

    with pytest.raises(ProtocolError, match="larger than"):
        for _ in range(1000):
            decoder.feed(filler)


def test_an_unfinished_line_counts_with_the_lines_before_it() -> None:
    decoder = SseDecoder(max_event_bytes=1000)
    decoder.feed(b": " + b"c" * 600 + b"\n")

    with pytest.raises(ProtocolError):
        decoder.feed(b"data: " + b"d" * 500)


def test_a_dispatched_event_starts_the_count_afresh() -> None:
    decoder = SseDecoder(max_event_bytes=1000)

    for _ in range(100):
        assert decoder.feed(b"data: " + b"z" * 800 + b"\n\n") == [b"z" * 800]


def test_a_long_line_in_pieces_is_one_payload() -> None:
    line = b"y" * 300_000
    chunks = [b"data: "] + [line[i : i + 1000] for i in range(0, len(line), 1000)] + [b"\n\n"]

    assert payloads(*chunks) == [line]


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e400"])
def test_numbers_json_cannot_carry_make_the_event_malformed(number: bytes) -> None:
    assert decode_event(b'{"type": "metrics", "cost": ' + number + b"}") is MALFORMED
    wire = b'{"type": "tool_call", "tool_call_id": "t", "tool_name": "grep", "tool_args": '
    assert decode_event(wire + b'"{\\"n\\": ' + number + b'}"}') is MALFORMED


def test_finite_numbers_still_parse() -> None:
    assert decode_event(b'{"type": "metrics", "cost": 1e300, "n": -0.5}') == Usage(
        {"cost": 1e300, "n": -0.5}
    )


def test_an_event_too_large_once_decoded_is_refused() -> None:
    # ASCII with one emoji escaped: 2 MiB of JSON text, 8 MiB of Python string.
    content = b"\\ud83d\\ude00" + b"y" * (2 * 1024 * 1024)
    payload = b'{"type": "text_delta", "content": "' + content + b'"}'

    with pytest.raises(ProtocolError, match="once decoded"):
        decode_event(payload, max_decoded=4 * 1024 * 1024)
    assert decode_event(payload, max_decoded=16 * 1024 * 1024) == TextDelta(
        "\U0001f600" + "y" * (2 * 1024 * 1024)
    )
