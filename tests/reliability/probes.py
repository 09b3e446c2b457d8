"""Measuring children of the hostile-backend tests: ``python -m tests.reliability.probes KIND ...``.

Each probe runs in a fresh interpreter, so its peak resident memory (``ru_maxrss``) is
what the work cost, not what earlier tests left behind; it prints one JSON line.

``sse STREAM``: feed one hostile byte stream (built lazily, in 64 KiB chunks, so the
stream itself costs no memory) through the SSE decoder; prints the seconds, the peak
memory, the number of events and the error, if any.

``tool-turn URL PROJECT TOKEN``: one SDK chat against the protocol server at URL whose
turn asks for many ``read_file`` calls; prints the seconds, the peak memory, how many
tool runs the reply lists and how many characters of tool output the reply still holds.

``spawn OUT ERR ARGV...``: run ARGV (stdout to the file OUT, stderr to ERR) and print its
exit code and peak memory. Linux carries the peak RSS a process had before exec() into
its ``ru_maxrss``, so a child started straight from a large pytest process reports the
parent's peak; started from this small process, it reports its own. Tests start every
measured command through ``spawn``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Iterator

CHUNK = 65536
HOSTILE_BYTES = 40 * 1024 * 1024  # the size of the floods (issue 10: 40 MiB of empty lines)


def peak_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _repeat(block: bytes, total: int) -> Iterator[bytes]:
    """``block`` again and again, in chunks of about CHUNK bytes, ``total`` bytes in all."""
    chunk = block * max(1, CHUNK // len(block))
    for _ in range(max(1, total // len(chunk))):
        yield chunk


def _empty_data_lines() -> Iterator[bytes]:
    yield b'data: {"type": "text_delta", "content": "x"}\n'
    yield from _repeat(b"data:\n", HOSTILE_BYTES)
    yield b"\n"


def _comment_lines() -> Iterator[bytes]:
    yield from _repeat(b":" + b"c" * 1022 + b"\n", HOSTILE_BYTES)
    yield b'data: {"type": "done"}\n\n'


def _other_fields() -> Iterator[bytes]:
    yield from _repeat(b"event: x\nid: 1\nretry: 5\nfoo: bar\n", HOSTILE_BYTES)
    yield b'data: {"type": "done"}\n\n'


def _endless_comment() -> Iterator[bytes]:
    yield b":"
    yield from _repeat(b"c", HOSTILE_BYTES)


def _tiny_events() -> Iterator[bytes]:
    yield from _repeat(b'data: {"type": "text_delta", "content": "x"}\n\n', HOSTILE_BYTES)


def _max_event(emoji: bytes = b"") -> Iterator[bytes]:
    """One text event just under the cap (ASCII, after ``emoji`` if given)."""
    from adapters.backend.http.sse import MAX_EVENT_BYTES

    head = b'data: {"type": "text_delta", "content": "' + emoji
    tail = b'"}\n\n'
    yield head
    yield from _repeat(b"y", MAX_EVENT_BYTES - len(head) - len(tail) - CHUNK)
    yield tail


def _max_event_wide() -> Iterator[bytes]:
    """The same with one emoji first: Python would hold the text at 4 bytes a character."""
    return _max_event(b"\xf0\x9f\x98\x80")


def _max_event_escaped() -> Iterator[bytes]:
    """The same with the emoji escaped: the JSON text stays ASCII, the parsed string is wide."""
    return _max_event(b"\\ud83d\\ude00")


STREAMS: dict[str, Callable[[], Iterator[bytes]]] = {
    "empty-data-lines": _empty_data_lines,
    "comment-lines": _comment_lines,
    "other-fields": _other_fields,
    "endless-comment": _endless_comment,
    "tiny-events": _tiny_events,
    "max-event": _max_event,
    "max-event-wide": _max_event_wide,
    "max-event-escaped": _max_event_escaped,
}


def sse(stream: str) -> dict[str, object]:
    """Decode one hostile stream; count events, catch the error."""
    from adapters.backend.http.sse import iter_events
    from domain.errors import TraceError

    started = time.monotonic()
    events = 0
    error = None
    try:
        for _ in iter_events(STREAMS[stream](), lambda: None):
            events += 1
    except TraceError as exc:
        error = f"{type(exc).__name__}: {exc.problem}"
    return {
        "seconds": time.monotonic() - started,
        "peak_mib": peak_mib(),
        "events": events,
        "error": error,
    }


def tool_turn(url: str, project: str, token: str) -> dict[str, object]:
    """One SDK chat whose turn runs many tools; what the reply keeps of them."""
    from entrypoints.sdk import Trace

    started = time.monotonic()
    with Trace(token=token, base_url=url, project_dir=project) as trace:
        reply = trace.chat("read everything", mode="ask")
    # Before issue 10 a run held the whole ToolResult; now it is a summary without the text.
    kept = sum(len(getattr(getattr(run, "result", None), "result", "")) for run in reply.tool_runs)
    return {
        "seconds": time.monotonic() - started,
        "peak_mib": peak_mib(),
        "tool_runs": len(reply.tool_runs),
        "failed": sum(1 for run in reply.tool_runs if _failed(run)),
        "result_chars_kept": kept,
    }


def _failed(run: object) -> bool:
    result = getattr(run, "result", None)
    return bool(getattr(run, "is_error", getattr(result, "is_error", False)))


def spawn(out: str, err: str, *argv: str) -> dict[str, object]:
    """Run ``argv`` with its output in files; its exit code and peak memory."""
    import os

    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    started = time.monotonic()
    pid = os.posix_spawn(argv[0], list(argv), dict(os.environ), file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    return {
        "code": os.waitstatus_to_exitcode(status),
        "seconds": time.monotonic() - started,
        "peak_mib": usage.ru_maxrss / 1024,
    }


def main(argv: list[str]) -> int:
    """Run one probe and print its JSON line."""
    kind, *args = argv
    if kind == "spawn":
        out = spawn(*args)
    elif kind == "sse":
        out = sse(*args)
    elif kind == "tool-turn":
        out = tool_turn(*args)
    else:
        raise SystemExit(f"unknown probe {kind!r}")
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
