"""How fast our chat client consumes a stream, against a bare httpx + httpx-sse loop.

    python -m tests.benchmarks.bench_stream [--quick | --smoke] [--markdown FILE]

A local server (another process, so it never competes for this one's GIL) answers
``POST /api/latest/chat/stream`` with a pre-rendered event stream: 100,000
``text_delta`` events, one HTTP chunk each (as an SSE server flushing every event
sends them), then ``done``. Two clients read the same stream over a kept-alive
connection, alternately, round after round:

- the bare loop: ``httpx.Client.stream`` + ``httpx_sse.EventSource`` + ``json.loads``;
- ours: ``HttpTraceBackend.stream_chat``, which yields domain events (and, as an
  informational row, the ``Chat`` use-case on top of it, as the CLI and SDK run it).

Throughput is events per second from sending the request to the ``done`` event; the
target is ours ≥ 90% of the bare loop's. Time to first token is measured on a stream
whose first event is sent at once and whose ``done`` follows later; the target is ours
adding ≤ 2 ms over the bare loop. Medians over rounds, after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import httpx_sse

from adapters.backend.http import HttpTraceBackend
from domain.chat import ChatRequest, TextDelta
from domain.secret import Secret
from tests.benchmarks.common import (
    Row,
    Table,
    add_common_arguments,
    machine,
    median,
    verdict,
    write_section,
)

TOKEN = "bench-trace-token-0123456789"
EVENTS = 100_000
THROUGHPUT_TARGET = 0.90
TTFT_TARGET_MS = 2.0
FIRST_TOKEN_MESSAGE = "first-token"
_PATH = "/api/latest/chat/stream"


# --- the server (runs in its own process: python -m tests.benchmarks.bench_stream --serve) --


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


def render_stream(count: int) -> bytes:
    """``count`` text events and ``done``, each its own HTTP chunk, then the last chunk."""
    parts = [
        _chunk(_event({"type": "text_delta", "content": f"w{i % 997} "})) for i in range(count)
    ]
    parts.append(_chunk(_event({"type": "done", "conversation_id": "bench"})))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rendered: dict[int, bytes] = {}  # noqa: RUF012 - one cache for the server process

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        """Stream the events the request's ``message`` asks for."""
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        if self.path != _PATH:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        message = str(body.get("message", ""))
        if message == FIRST_TOKEN_MESSAGE:
            self.wfile.write(_chunk(_event({"type": "text_delta", "content": "Hi"})))
            time.sleep(0.005)  # the rest of the answer comes later; only the first event counts
            self.wfile.write(render_stream(0))
            return
        count = int(message)
        if count not in self.rendered:
            self.rendered[count] = render_stream(count)
        self.wfile.write(self.rendered[count])


def serve() -> None:
    """Serve until stdin closes; the first stdout line is the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"http://{host!s}:{port}", flush=True)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


class StreamServer:
    """The server process, started for one benchmark run."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.bench_stream", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url:
            raise SystemExit("bench_stream: the server did not start")

    def close(self) -> None:
        """Stop the server (it exits when its stdin closes)."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        self._process.stdout.close()
        self._process.wait(timeout=10)


# --- the clients ------------------------------------------------------------------------

# Each reader takes the message and returns (events counted, seconds to the first event).
Reader = Callable[[str], tuple[int, float]]


def bare_reader(url: str) -> tuple[Reader, Callable[[], None]]:
    """The reference: httpx streaming, httpx-sse framing, json.loads per event."""
    client = httpx.Client(timeout=60)
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "text/event-stream"}

    def read(message: str) -> tuple[int, float]:
        started = time.perf_counter()
        first = 0.0
        count = 0
        body = {"message": message, "session_id": "s", "mode": "ask", "app_type": "eeschema"}
        with client.stream("POST", url + _PATH, json=body, headers=headers) as response:
            for sse in httpx_sse.EventSource(response).iter_sse():
                data = json.loads(sse.data)
                kind = data.get("type")
                if kind == "text_delta":
                    if not count:
                        first = time.perf_counter() - started
                    count += 1
                elif kind == "done":
                    break
        return count, first

    return read, client.close


def _request(message: str) -> ChatRequest:
    return ChatRequest(message=message, session_id="s")


def backend_reader(url: str) -> tuple[Reader, Callable[[], None]]:
    """Ours: HttpTraceBackend.stream_chat, domain events out."""
    backend = HttpTraceBackend(url)
    token = Secret(TOKEN)

    def read(message: str) -> tuple[int, float]:
        started = time.perf_counter()
        first = 0.0
        count = 0
        for event in backend.stream_chat(_request(message), token):
            if type(event) is TextDelta:
                if not count:
                    first = time.perf_counter() - started
                count += 1
        return count, first

    return read, backend.close


def chat_reader(url: str) -> tuple[Reader, Callable[[], None]]:
    """The Chat use-case over the HTTP backend, built by the container as the SDK builds it."""
    from application.chat import ChatCommand
    from entrypoints.runtime import Runtime

    config_dir = tempfile.mkdtemp(prefix="trace-bench-stream-")
    backend = HttpTraceBackend(url)
    runtime = Runtime(
        {"TRACE_API_TOKEN": TOKEN, "TRACE_CONFIG_DIR": config_dir}, in_memory=True, backend=backend
    )
    chat = runtime.use_cases.chat()

    def read(message: str) -> tuple[int, float]:
        started = time.perf_counter()
        first = 0.0
        count = 0
        for item in chat.stream(ChatCommand(message=message)):
            if type(item) is TextDelta:
                if not count:
                    first = time.perf_counter() - started
                count += 1
        return count, first

    def close() -> None:
        backend.close()
        import shutil

        shutil.rmtree(config_dir, ignore_errors=True)

    return read, close


def rounds_of(
    readers: dict[str, Reader], message: str, expected: int, rounds: int, warmup: int
) -> dict[str, list[tuple[float, float]]]:
    """(total seconds, first-event seconds) per reader per round, alternating the order."""
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in readers}
    names = list(readers)
    for number in range(warmup + rounds):
        order = names if number % 2 == 0 else names[::-1]
        for name in order:
            started = time.perf_counter()
            count, first = readers[name](message)
            seconds = time.perf_counter() - started
            if count != expected:
                raise SystemExit(f"bench_stream: {name} read {count} events, expected {expected}")
            if number >= warmup:
                results[name].append((seconds, first))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with --serve, be its server)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add_common_arguments(parser)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, help=f"events per stream (default {EVENTS:,})")
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    events = args.events or (2_000 if args.smoke else EVENTS)
    rounds = 1 if args.smoke else 3 if args.quick else 7
    ttft_rounds = 3 if args.smoke else 20 if args.quick else 60
    server = StreamServer()
    closers: list[Callable[[], None]] = []
    try:
        readers: dict[str, Reader] = {}
        for name, make in (
            ("bare", bare_reader),
            ("backend", backend_reader),
            ("chat", chat_reader),
        ):
            read, close = make(server.url)
            readers[name] = read
            closers.append(close)
        bulk = rounds_of(readers, str(events), events, rounds, warmup=1)
        first = rounds_of(readers, FIRST_TOKEN_MESSAGE, 1, ttft_rounds, warmup=3)
    finally:
        for close in closers:
            close()
        server.close()
    result = table(bulk, first, events, rounds, ttft_rounds)
    print(result.text())
    if args.markdown is not None:
        write_section(
            args.markdown,
            "bench_stream",
            result.markdown(),
            "python -m tests.benchmarks.bench_stream --markdown FILE",
        )
    return 0


def table(
    bulk: dict[str, list[tuple[float, float]]],
    first: dict[str, list[tuple[float, float]]],
    events: int,
    rounds: int,
    ttft_rounds: int,
) -> Table:
    """Throughput and time-to-first-token rows, ours against the bare loop."""
    rate = {name: events / median([s for s, _ in runs]) for name, runs in bulk.items()}
    ttft = {name: median([f for _, f in runs]) * 1000 for name, runs in first.items()}
    labels = {
        "bare": "bare loop (httpx + httpx-sse + json.loads)",
        "backend": "HttpTraceBackend.stream_chat",
        "chat": "Chat use-case over HttpTraceBackend",
    }
    rows: list[Row] = []
    for name in ("bare", "backend", "chat"):
        ratio = rate[name] / rate["bare"]
        is_target = name == "backend"
        rows.append(
            Row(
                f"throughput: {labels[name]}",
                f"{rate[name]:,.0f} events/s",
                f"{ratio:.0%} of bare",
                f"≥ {THROUGHPUT_TARGET:.0%}" if is_target else "",
                verdict(ratio, THROUGHPUT_TARGET, higher_is_better=True) if is_target else "",
                f"{events / rate[name] * 1000:.0f} ms per stream",
            )
        )
    for name in ("bare", "backend", "chat"):
        delta = ttft[name] - ttft["bare"]
        is_target = name == "backend"
        rows.append(
            Row(
                f"first token: {labels[name]}",
                f"{ttft[name]:.2f} ms",
                f"{delta:+.2f} ms vs bare",
                f"≤ +{TTFT_TARGET_MS:g} ms" if is_target else "",
                verdict(delta, TTFT_TARGET_MS) if is_target else "",
            )
        )
    return Table(
        f"Chat streaming ({events:,} text_delta events, one HTTP chunk each, local server)",
        ("case", "median", "ratio", "target", "verdict", "note"),
        tuple(rows),
        (
            f"Throughput: {rounds} rounds after 1 warm-up; first token: {ttft_rounds} requests "
            "after 3 warm-ups; the readers alternate, over kept-alive connections.",
            machine() + ".",
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
