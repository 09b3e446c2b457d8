"""Generate tests/shared/sse-cases.json: SSE framing and event decoding cases both SDKs run.

    python -m tests.shared.sse_cases          # rewrite the file
    python -m tests.shared.sse_cases --check  # exit 1 when the file is stale

Inputs (byte chunks, optionally a smaller event cap) are written here; the outcomes
are computed by the Python parser (``adapters.backend.http.sse``): the events in a
neutral JSON shape, ``"malformed"`` for a skipped payload, and the ``ProtocolError``
message if the stream is refused. node/test/sse.test.ts runs every case through the
Node parser; a Python test fails when the committed file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from adapters.backend.http.sse import MAX_EVENT_BYTES, Malformed, SseDecoder, decode_event
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
from tests.shared.generated import write_or_check

FILE = Path(__file__).with_name("sse-cases.json")
TEXT = b'data: {"type":"text_delta","content":"h\xc3\xa9"}\n\n'


def _event(obj: str) -> bytes:
    return b"data: " + obj.encode() + b"\n\n"


def _deep(levels: int) -> bytes:
    return _event('{"type":"metrics","x":' + "[" * levels + "]" * levels + "}")


CASES: list[tuple[str, list[bytes], int | None]] = [
    ("one event", [TEXT], None),
    ("split into single bytes", [TEXT[i : i + 1] for i in range(len(TEXT))], None),
    ("CRLF line ends", [TEXT.replace(b"\n", b"\r\n")], None),
    ("CR line ends", [TEXT.replace(b"\n", b"\r")], None),
    ("CRLF split between chunks", [TEXT[:-1].replace(b"\n", b"\r\n") + b"\r", b"\n"], None),
    (
        "CR then LF in the next chunk is one line end",
        [b'data: {"type":"text_delta","content":"a"}\r', b"\n\r\n"],
        None,
    ),
    (
        "multi-line data joined with LF",
        [b'data: {"type":"text_delta",\ndata:"content":"a"}\n\n'],
        None,
    ),
    ("a BOM before the first line", [b"\xef\xbb\xbf" + TEXT + TEXT], None),
    (
        "comments and other fields",
        [b": ping\nevent: x\nid: 7\nretry: 10\ndatabase: no\n" + TEXT + b"data\n\n"],
        None,
    ),
    (
        "an event cut off by the end",
        [TEXT + b'data: {"type":"text_delta","content":"lost"}\n'],
        None,
    ),
    (
        "malformed payloads are skipped",
        [
            _event("not json"),
            _event("[1,2]"),
            _event('{"type":"metrics","n":NaN}'),
            _event('{"type":"metrics","n":1e999}'),
            _event('{"content":"no type"}'),
            _event('{"type":7}'),
            _event('{"type":"text_delta","content":7}'),
            _event('{"type":"done","conversation_id":5}'),
            b'data: {"type":"text_delta","content":"\xff"}\n\n',
            _event('{"type":"text_delta","content":"ok"} trailing'),
            _event('{"type":"text_delta","content":"ok"}  '),
        ],
        None,
    ),
    ("unknown types are skipped", [_event('{"type":"future_thing","x":1}'), TEXT], None),
    (
        "every event type",
        [
            _event('{"type":"thinking","content":"hmm"}'),
            _event('{"type":"status","message":"working"}'),
            _event('{"type":"error","content":"bad"}'),
            _event('{"type":"file_edit","path":"a.kicad_sch","n":1}'),
            _event('{"type":"metrics","input_tokens":3,"cost":0.5}'),
            _event('{"type":"done","conversation_id":"c1"}'),
            _event('{"type":"done"}'),
        ],
        None,
    ),
    (
        "error events with a code and the provider's status (issue 13)",
        [
            _event(
                '{"type":"error","code":"provider_auth","provider_status":401,"content":"rejected"}'
            ),
            _event('{"type":"error","code":"provider_auth","provider_status":401.0,"content":"a"}'),
            _event('{"type":"error","code":"Provider-Auth","provider_status":true,"content":"b"}'),
            _event('{"type":"error","code":7,"provider_status":600,"content":"c"}'),
            _event('{"type":"error","code":"x","provider_status":"401","message":"d"}'),
            _event('{"type":"error","provider_status":403,"provider_status":4e2,"content":"e"}'),
            _event(
                '{"type":"error","data":{"provider_status":500},"provider_status":502,"content":"f"}'
            ),
        ],
        None,
    ),
    (
        "tool calls and their arguments",
        [
            _event(
                '{"type":"tool_call","tool_call_id":"t1","tool_name":"grep","tool_args":{"pattern":"R1"}}'
            ),
            _event(
                '{"type":"tool_call","tool_call_id":"t2","tool_name":"grep","tool_args":"{\\"pattern\\":\\"x\\"}"}'
            ),
            _event(
                '{"type":"tool_call","tool_call_id":"t3","tool_name":"list_dir","tool_args":""}'
            ),
            _event(
                '{"type":"tool_call","tool_call_id":"t4","tool_name":"list_dir","tool_args":null}'
            ),
            _event('{"type":"tool_call","tool_call_id":"t5","tool_name":"list_dir"}'),
            _event('{"type":"tool_call","tool_call_id":"t6","tool_name":"grep","tool_args":"[1]"}'),
            _event(
                '{"type":"tool_call","tool_call_id":"t7","tool_name":"grep","tool_args":"{bad"}'
            ),
            _event('{"type":"tool_call","tool_call_id":"","tool_name":"grep","tool_args":{}}'),
            _event('{"type":"tool_call","tool_call_id":"t9","tool_args":{}}'),
            _event('{"type":"tool_call","tool_call_id":"t10","tool_name":"grep","tool_args":[1]}'),
        ],
        None,
    ),
    ("nesting within bounds", [_deep(60)], None),
    ("nesting one level too deep", [_deep(64), TEXT], None),
    ("nesting far too deep", [_deep(1200), TEXT], None),
    ("an event over the cap", [_event('{"type":"text_delta","content":"' + "x" * 100 + '"}')], 64),
    ("an unfinished line over the cap", [b"data: " + b"x" * 40, b"y" * 40], 64),
    ("empty data lines count toward the cap", [b"data: {}\n" + b"data:\n" * 20 + b"\n"], 64),
    ("comments count toward the cap", [b": ping\n" * 20 + TEXT], 64),
    ("events under the cap pass one after another", [TEXT * 20], 64),
]


def _neutral(event: ChatEvent) -> dict[str, Any]:
    if isinstance(event, TextDelta):
        return {"type": "text", "content": event.content}
    if isinstance(event, StreamError):
        found: dict[str, Any] = {"type": "error", "content": event.content}
        if event.code is not None:
            found["code"] = event.code
        if event.provider_status is not None:
            found["provider_status"] = event.provider_status
        return found
    if isinstance(event, Thinking | StatusUpdate):
        kind = "thinking" if isinstance(event, Thinking) else "status"
        return {"type": kind, "content": event.content}
    if isinstance(event, ToolCall):
        return {
            "type": "tool_call",
            "tool_call_id": event.tool_call_id,
            "tool_name": event.tool_name,
            "tool_args": dict(event.tool_args),
        }
    if isinstance(event, FileEdit | Usage):
        return {
            "type": "file_edit" if isinstance(event, FileEdit) else "metrics",
            "data": dict(event.data),
        }
    assert isinstance(event, Done)
    return {"type": "done", "conversation_id": event.conversation_id}


def outcome(chunks: list[bytes], limit: int | None) -> dict[str, Any]:
    """What the Python parser makes of ``chunks``: the outcomes and the error, if any."""
    cap = MAX_EVENT_BYTES if limit is None else limit
    decoder = SseDecoder(cap)
    seen: list[Any] = []
    try:
        for chunk in chunks:
            for payload in decoder.feed(chunk):
                event = decode_event(payload, cap)
                if event is None:
                    continue
                seen.append("malformed" if isinstance(event, Malformed) else _neutral(event))
        decoder.close()
    except ProtocolError as error:
        return {"outcomes": seen, "error": error.problem}
    return {"outcomes": seen, "error": None}


def render() -> str:
    """The file's text."""
    cases = [
        {
            "name": name,
            "chunks_hex": [chunk.hex() for chunk in chunks],
            "max_event_bytes": limit,
            **outcome(chunks, limit),
        }
        for name, chunks, limit in CASES
    ]
    return json.dumps({"cases": cases}, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the file, or with ``--check`` report whether it is up to date."""
    return write_or_check(FILE, render, "tests.shared.sse_cases", argv)


if __name__ == "__main__":
    sys.exit(main())
