"""Backend faults: every failure of the Trace backend gives its message and exit code in time.

The installed CLI runs ``chat`` against the real local protocol server
(tests/support/protocol_server.py), scripted to fail in each way DESIGN section 5
names: 401, 402, 403, retried 429/502/503 (given up or recovered), other statuses,
connections cut before an answer or in the middle of a stream, a stream without
``done``, an error event, a 200 that is not an event stream, a Retry-After beyond
our budget, no server at all, and a server that stalls. Each case must end with its
exit code and its words within a bound. A chat whose tool edits a file is also hit
by retries and cuts at every step; the edit must happen exactly once: a request is
retried only before the stream starts, and a tool result post is retried, never the
tool.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest

from adapters.backend.http import HttpTraceBackend
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from domain.errors import BackendUnavailableError
from entrypoints.sdk import Trace
from tests.e2e.cli_runner import CliResult, run
from tests.reliability.plugin import Figures
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer


@attrs.frozen
class Case:
    """One backend failure mode and what the user must see."""

    name: str
    turns: list[dict[str, Any]]
    code: int
    words: str
    bound_s: float = 10.0
    mode: str = "ask"
    chat_requests: int | None = None  # how many POST /chat/stream the client may send


OK_STREAM = [ps.text("fine"), ps.done("conv-ok")]
CASES = [
    Case("401", [ps.turn(respond=[ps.respond(401)])], 3, "rejected the login token (401)"),
    Case(
        "402",
        [ps.turn(respond=[ps.respond(402)])],
        4,
        'refused the request with 402 Payment Required: "scripted 402"',
    ),
    Case(
        "403",
        [ps.turn(respond=[ps.respond(403)])],
        4,
        "refused the request in agent mode (403 Forbidden)",
        mode="agent",
    ),
    Case("500", [ps.turn(respond=[ps.respond(500, {"detail": "boom"})])], 4, "HTTP 500: boom"),
    Case("404", [ps.turn(respond=[ps.respond(404)])], 4, "HTTP 404"),
    Case(
        "429-given-up",
        [ps.turn(respond=[ps.respond(429, retry_after=0, times=5)])],
        4,
        "failed after 5 attempts (last: HTTP 429)",
        chat_requests=5,
    ),
    Case(
        "503-recovered",
        [ps.turn(*OK_STREAM, respond=[ps.respond(503, retry_after=0, times=2)])],
        0,
        "fine",
        chat_requests=3,
    ),
    Case(
        "502-given-up",
        [ps.turn(respond=[ps.respond(502, retry_after=0, times=5)])],
        4,
        "failed after 5 attempts (last: HTTP 502)",
        chat_requests=5,
    ),
    Case(
        "retry-after-too-long",
        [ps.turn(respond=[ps.respond(429, retry_after=3600)])],
        4,
        "asked us to wait 3600 s, beyond our limit",
        chat_requests=1,
    ),
    Case(
        "cut-before-answer",
        [ps.turn(*OK_STREAM, respond=[ps.disconnect(times=2)])],
        0,
        "fine",
        chat_requests=3,
    ),
    Case(
        "cut-mid-stream",
        [ps.turn(ps.text("partial "), ps.drop())],
        4,
        "stream broke off",
        chat_requests=1,
    ),
    Case(
        "no-done",
        [ps.turn(ps.text("partial"))],
        4,
        "without a 'done' event",
        chat_requests=1,
    ),
    Case(
        "error-event",
        [ps.turn(ps.error("model overloaded"), ps.done())],
        4,
        "the backend reported: model overloaded",
    ),
    Case(
        "not-an-event-stream",
        [ps.turn(respond=[ps.respond(200, {"hello": "json"})])],
        4,
        "instead of an event stream",
        chat_requests=1,
    ),
    Case("garbage-then-done", [ps.turn(ps.garbage(), ps.text("ok"), ps.done())], 0, "malformed"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory with one schematic the model's tool edits."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "board.kicad_sch").write_text("(symbol R1)\n")
    return root


def _chat(server: ProtocolServer, project: Path, mode: str = "ask") -> CliResult:
    env = {
        "TRACE_BASE_URL": server.url,
        "TRACE_API_TOKEN": TOKEN,
        "TRACE_CREDENTIALS_STORE": "file",
    }
    return run(["chat", "add a resistor", "--mode", mode, "--project", str(project)], env_extra=env)


def _run_case(case: Case, project: Path) -> tuple[CliResult, ProtocolServer]:
    server = ProtocolServer({"turns": case.turns}).start()
    try:
        return _chat(server, project, case.mode), server
    finally:
        server.stop()


def _unreachable(project: Path) -> CliResult:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    env = {"TRACE_BASE_URL": f"http://127.0.0.1:{port}", "TRACE_API_TOKEN": TOKEN}
    return run(["chat", "hi", "--project", str(project)], env_extra=env, timeout=60)


def test_every_backend_failure_gives_its_exit_code_and_words_in_time(
    project: Path, figures: Figures
) -> None:
    """chat against the protocol server scripted with 401, 402, 403, 404, 500, 429/502 until we
    give up, 503 and cut connections that recover, a Retry-After beyond the budget, a stream cut
    or ending without done, an error event, a 200 that is not an event stream, garbage events:
    each exits with its code (0, 3 or 4) and says why, within 10 s, with no traceback. No server
    at all: exit 4 naming the connection failure after the retry budget (under 20 s)."""
    with ThreadPoolExecutor(4) as pool:
        unreachable = pool.submit(_unreachable, project)
        outcomes = list(pool.map(lambda c: _run_case(c, project), CASES))
        nobody = unreachable.result()

    problems = []
    for case, (result, server) in zip(CASES, outcomes, strict=True):
        figures.add("cases")
        figures.peak("max_latency_s", result.seconds)
        output = result.stdout + result.stderr
        if result.code != case.code or case.words not in output:
            problems.append(f"{case.name}: wanted exit {case.code} and {case.words!r}:\n{result}")
        if result.seconds > case.bound_s or "Traceback" in output:
            problems.append(f"{case.name}: too slow or a traceback:\n{result}")
        sent = len(server.chat_requests)
        if case.chat_requests is not None and sent != case.chat_requests:
            problems.append(f"{case.name}: {sent} chat requests, wanted {case.chat_requests}")
        figures.add("chat_requests", sent)
    figures.add("cases")
    figures.peak("unreachable_backend_s", nobody.seconds)
    if not (nobody.code == 4 and "could not connect" in nobody.stderr and nobody.seconds < 20):
        problems.append(f"unreachable: wanted exit 4, 'could not connect', < 20 s:\n{nobody}")
    figures.add("violations", len(problems))
    assert problems == []


def test_a_stalled_stream_is_cut_off_by_the_read_timeout(figures: Figures) -> None:
    """A server that stops sending mid-stream is cut off by the read timeout (1 s here, through
    the SDK with its own HttpTraceBackend) with BackendUnavailableError, never retried."""
    with ProtocolServer({"turns": [ps.turn(ps.text("wait for it"), ps.sleep(30))]}) as server:
        backend = HttpTraceBackend(server.url, read_timeout=1.0)
        with Trace(
            token=TOKEN,
            env={},
            backend=backend,
            secrets=InMemorySecretStore(),
            settings=InMemorySettingsStore(),
        ) as trace:
            started = time.monotonic()
            with pytest.raises(BackendUnavailableError, match="timed out") as caught:
                trace.chat("hi")
            stalled = time.monotonic() - started
        chat_requests = len(server.chat_requests)
    figures.peak("stalled_stream_cut_after_s", stalled)
    assert "not retried" in caught.value.problem
    assert stalled < 5
    assert chat_requests == 1


def _tool_turn(
    *extra_steps: dict[str, Any], respond: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    steps = [
        ps.tool_call(
            "edit-1",
            "search_replace",
            {"file_path": "board.kicad_sch", "old_string": "R1", "new_string": "R1 R2"},
            echo="edited: {result}",
        ),
        *extra_steps,
    ]
    return ps.turn(*steps, respond=respond or [])


@attrs.frozen
class RetryCase:
    """A fault around a chat whose tool edits board.kicad_sch once."""

    name: str
    turn: dict[str, Any]
    tool_result_responses: list[dict[str, Any]]
    code: int
    chat_requests: int


RETRY_CASES = [
    RetryCase("clean", _tool_turn(ps.done()), [], 0, 1),
    RetryCase(
        "chat-503-then-stream",
        _tool_turn(ps.done(), respond=[ps.respond(503, retry_after=0)]),
        [],
        0,
        2,
    ),
    RetryCase(
        "chat-cut-then-stream",
        _tool_turn(ps.done(), respond=[ps.disconnect()]),
        [],
        0,
        2,
    ),
    RetryCase(
        "tool-result-503-twice",
        _tool_turn(ps.done()),
        [ps.respond(503, retry_after=0, times=2)],
        0,
        1,
    ),
    RetryCase("tool-result-cut", _tool_turn(ps.done()), [ps.disconnect()], 0, 1),
    RetryCase("stream-cut-after-tool", _tool_turn(ps.drop()), [], 4, 1),
    RetryCase("no-done-after-tool", _tool_turn(), [], 4, 1),
]


@pytest.mark.parametrize("case", RETRY_CASES, ids=[c.name for c in RETRY_CASES])
def test_a_retried_request_never_repeats_a_tool_write(
    project: Path, figures: Figures, case: RetryCase
) -> None:
    """A chat whose model edits board.kicad_sch once, with the chat request or the tool result
    post failing (503, cut connection) or the stream cut after the tool ran: the file is edited
    exactly once, the stream request is never re-sent once it started."""
    script = {"turns": [case.turn], "respond": {"tool_result": case.tool_result_responses}}
    with ProtocolServer(script) as server:
        result = _chat(server, project, "agent")
        chat_requests = len(server.chat_requests)
        posts = len(server.requests_to("/tools/result"))
    figures.add("runs")
    figures.add("tool_result_posts", posts)
    figures.peak("max_latency_s", result.seconds)
    edited = (project / "board.kicad_sch").read_text()
    duplicated = edited.count("R2") != 1
    figures.add("violations", duplicated + (chat_requests != case.chat_requests))
    assert result.code == case.code, result
    assert edited == "(symbol R1 R2)\n", f"the tool ran {edited.count('R2')} times"
    assert chat_requests == case.chat_requests
