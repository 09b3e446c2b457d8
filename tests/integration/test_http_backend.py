"""HttpTraceBackend against a real Trace protocol server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from adapters.backend.http import HttpTraceBackend
from domain.chat import (
    ChatEvent,
    ChatMode,
    ChatRequest,
    Done,
    FileEdit,
    LlmSelection,
    Profile,
    Quota,
    StatusUpdate,
    StreamError,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
    Usage,
)
from domain.errors import (
    AuthenticationRejectedError,
    BackendError,
    BackendUnavailableError,
    InsecureTransportError,
    PlanRestrictionError,
    ProtocolError,
    QuotaExhaustedError,
    TraceError,
)
from domain.provider import Provider
from domain.secret import Secret
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

CANARY = "sk-ant-canary-5f2e9c1d7b3a"
TRACE_TOKEN = Secret(TOKEN)
E = TypeVar("E", bound=TraceError)


def chat_request(
    *, byok: bool = True, model: str | None = "claude-sonnet-4-6", mode: ChatMode = ChatMode.AGENT
) -> ChatRequest:
    """A request carrying the canary key (BYOK) or no key (Trace billing)."""
    llm = LlmSelection(Provider.ANTHROPIC, Secret(CANARY), model) if byok else None
    return ChatRequest("Add a decoupling cap", "sess-1", mode=mode, llm=llm)


def caught(kind: type[E], action: Callable[[], object]) -> E:
    """Run ``action``, expect ``kind``, and check that no secret shows anywhere in it."""
    with pytest.raises(kind) as info:
        action()
    error = info.value
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and len(chain) < 10:
        chain.append(link)
        link = link.__cause__ or link.__context__
    assert all(isinstance(e, TraceError) for e in chain), "an httpx exception leaked"
    shown = "".join(traceback.format_exception(error)) + repr(error) + repr(vars(error))
    assert CANARY not in shown
    assert TOKEN not in shown
    return error


@pytest.fixture
def waits() -> list[float]:
    """The sleeps the backend asked for (recorded instead of slept)."""
    return []


@pytest.fixture
def warnings_seen() -> list[str]:
    """What the backend reported through on_warning."""
    return []


@pytest.fixture
def make_backend(
    protocol_server: ProtocolServer, waits: list[float], warnings_seen: list[str]
) -> Iterator[Callable[..., HttpTraceBackend]]:
    """Build HttpTraceBackends on the test server; all are closed after the test."""
    made: list[HttpTraceBackend] = []

    def make(**options: object) -> HttpTraceBackend:
        settings: dict[str, object] = {
            "sleep": waits.append,
            "on_warning": warnings_seen.append,
            "read_timeout": 5.0,
        }
        settings.update(options)
        backend = HttpTraceBackend(protocol_server.url, **settings)  # type: ignore[arg-type]
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def backend(make_backend: Callable[..., HttpTraceBackend]) -> HttpTraceBackend:
    """A backend with default settings (recorded sleeps, 5 s read timeout)."""
    return make_backend()


def run(backend: HttpTraceBackend, request: ChatRequest | None = None) -> list[ChatEvent]:
    """All events of one turn."""
    return list(backend.stream_chat(request or chat_request(), TRACE_TOKEN))


# --- streaming -------------------------------------------------------------------


def test_text_streams_as_deltas_until_done(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.text("Hel"), ps.text("lo ✓"), ps.done("conv-7"))

    assert run(backend) == [TextDelta("Hel"), TextDelta("lo ✓"), Done("conv-7")]


def test_every_event_type_maps_to_its_domain_event(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(
        ps.thinking("hmm"),
        ps.status("reading"),
        ps.file_edit(file_path="a.kicad_sch"),
        ps.metrics(input_tokens=12, cost=0.01),
        ps.error("model overloaded"),
        ps.done(None),
    )

    assert run(backend) == [
        Thinking("hmm"),
        StatusUpdate("reading"),
        FileEdit({"file_path": "a.kicad_sch"}),
        Usage({"input_tokens": 12, "cost": 0.01}),
        StreamError("model overloaded"),
        Done(None),
    ]


def test_byok_request_carries_key_model_and_bearer_token(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done())

    run(backend)

    (sent,) = protocol_server.chat_requests
    assert sent.path == "/api/latest/chat/stream"
    assert sent.authorization == f"Bearer {TOKEN}"
    assert sent.headers["accept"] == "text/event-stream"
    assert sent.body == {
        "message": "Add a decoupling cap",
        "session_id": "sess-1",
        "mode": "agent",
        "app_type": "eeschema",
        "client": "cli",
        "llm_provider": "anthropic",
        "llm_api_key": CANARY,
        "llm_model_id": "claude-sonnet-4-6",
    }


def test_byok_without_model_omits_the_model_field(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done())

    run(backend, chat_request(model=None))

    (sent,) = protocol_server.chat_requests
    assert sent.body["llm_api_key"] == CANARY
    assert "llm_model_id" not in sent.body


def test_trace_billing_sends_no_llm_fields_at_all(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done())

    run(backend, chat_request(byok=False))

    (sent,) = protocol_server.chat_requests
    assert not [name for name in sent.body if name.startswith("llm_")]
    assert CANARY not in sent.text


def test_optional_fields_are_sent_only_when_set(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done())
    protocol_server.add_turn(ps.done())
    full = ChatRequest(
        "hi",
        "s",
        conversation_id="conv-1",
        project_dir="/p",
        file_path="/p/a.kicad_sch",
        schematic_content="(kicad_sch)",
    )

    run(backend, ChatRequest("hi", "s"))
    run(backend, full)

    bare, rich = protocol_server.chat_requests
    assert set(bare.body) == {"message", "session_id", "mode", "app_type", "client"}
    assert rich.body["conversation_id"] == "conv-1"
    assert rich.body["schematic_content"] == "(kicad_sch)"
    assert "pcb_content" not in rich.body


def test_api_version_goes_into_the_path(
    protocol_server: ProtocolServer, make_backend: Callable[..., HttpTraceBackend]
) -> None:
    protocol_server.load({"api_version": "v2", "turns": [ps.turn(ps.done())]})

    run(make_backend(api_version="v2"))

    assert protocol_server.chat_requests[0].path == "/api/v2/chat/stream"


def test_nothing_is_sent_before_the_stream_is_iterated(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done())

    events = backend.stream_chat(chat_request(), TRACE_TOKEN)

    assert protocol_server.requests == []
    assert list(events) == [Done("conv-test")]


# --- tool calls ----------------------------------------------------------------


def test_tool_call_result_is_posted_and_the_stream_continues(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(
        ps.tool_call("tc-1", "read_file", {"file_path": "a.kicad_sch"}, echo="saw {result}"),
        ps.tool_call("tc-2", "write", {"file_path": "x.txt"}, echo="{is_error}"),
        ps.done("conv-2"),
    )
    events: list[ChatEvent] = []

    for event in backend.stream_chat(chat_request(), TRACE_TOKEN):
        events.append(event)
        if isinstance(event, ToolCall) and event.tool_call_id == "tc-1":
            backend.post_tool_result("sess-1", ToolResult("tc-1", "(kicad_sch)"), TRACE_TOKEN)
        elif isinstance(event, ToolCall):
            backend.post_tool_result("sess-1", ToolResult("tc-2", "denied", True), TRACE_TOKEN)

    assert events == [
        ToolCall("tc-1", "read_file", {"file_path": "a.kicad_sch"}),
        TextDelta("saw (kicad_sch)"),
        ToolCall("tc-2", "write", {"file_path": "x.txt"}),
        TextDelta("True"),
        Done("conv-2"),
    ]
    ok, failed = protocol_server.requests_to("/tools/result")
    assert ok.body == {"session_id": "sess-1", "tool_call_id": "tc-1", "result": "(kicad_sch)"}
    assert failed.body["is_error"] is True
    assert ok.authorization == f"Bearer {TOKEN}"


def test_tool_result_is_retried_on_503_because_the_backend_dedupes(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, waits: list[float]
) -> None:
    protocol_server.add_turn(ps.tool_call("tc-1", "list_dir"), ps.done())
    protocol_server.respond_to("tool_result", ps.respond(503, retry_after=1))

    for event in backend.stream_chat(chat_request(), TRACE_TOKEN):
        if isinstance(event, ToolCall):
            backend.post_tool_result("sess-1", ToolResult("tc-1", "[]"), TRACE_TOKEN)

    assert len(protocol_server.requests_to("/tools/result")) == 2
    assert waits == [1.0]
    assert protocol_server.tool_results == [
        {"session_id": "sess-1", "tool_call_id": "tc-1", "result": "[]"}
    ]


def test_tool_result_for_an_unknown_call_is_a_backend_error(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    error = caught(
        BackendError,
        lambda: backend.post_tool_result("sess-1", ToolResult("nope", "x"), TRACE_TOKEN),
    )

    assert "404" in str(error)


# --- status codes ----------------------------------------------------------------


def test_401_means_log_in_again_and_is_not_retried(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done(), respond=[ps.respond(401)])

    error = caught(AuthenticationRejectedError, lambda: run(backend))

    assert "auth login" in error.fix
    assert len(protocol_server.chat_requests) == 1


def test_a_wrong_token_is_rejected_by_the_server(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done())

    caught(
        AuthenticationRejectedError,
        lambda: list(backend.stream_chat(chat_request(), Secret("wrong-token-123456"))),
    )
    caught(AuthenticationRejectedError, lambda: backend.profile(Secret("wrong-token-123456")))


@pytest.mark.parametrize("byok", [True, False])
def test_402_says_what_the_backend_said_and_who_pays_for_the_provider_in_effect(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, byok: bool
) -> None:
    said = {"detail": "Monthly request limit reached."}
    protocol_server.add_turn(ps.done(), respond=[ps.respond(402, said)])

    error = caught(QuotaExhaustedError, lambda: run(backend, chat_request(byok=byok)))

    assert '"Monthly request limit reached."' in error.problem
    payer = Provider.ANTHROPIC.payer if byok else Provider.TRACE.payer
    assert payer in error.message
    # With the user's own key the model usage is not the Trace plan's budget.
    assert ("not to your Trace plan's budget" in error.problem) is byok
    assert ("byok set" in error.fix) is not byok
    assert len(protocol_server.chat_requests) == 1


def test_403_quotes_the_backend_and_suggests_ask_only_when_ask_was_not_the_mode(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    said = {"detail": "Agent mode requires a paid plan."}
    protocol_server.add_turn(ps.done(), respond=[ps.respond(403, said), ps.respond(403, said)])

    agent = caught(PlanRestrictionError, lambda: run(backend))
    ask = caught(PlanRestrictionError, lambda: run(backend, chat_request(mode=ChatMode.ASK)))

    assert '"Agent mode requires a paid plan."' in agent.problem
    assert "agent mode" in agent.problem
    assert "--mode ask" in agent.fix
    # Refused in ask mode: suggesting ask mode would contradict itself.
    assert "ask mode" in ask.problem
    assert "--mode ask" not in ask.fix
    assert "free plans" not in ask.message
    assert "buildwithtrace billing status" in ask.fix
    assert len(protocol_server.chat_requests) == 2


def test_other_statuses_are_backend_errors_with_a_secret_free_excerpt(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    echoed = {"detail": [{"msg": "bad", "input": {"llm_api_key": CANARY, "token": TOKEN}}]}
    protocol_server.add_turn(ps.done(), respond=[ps.respond(422, echoed)])
    protocol_server.respond_to("profile", ps.respond(500, {"detail": f"boom for {TOKEN}"}))

    chat_error = caught(BackendError, lambda: run(backend))
    profile_error = caught(BackendError, lambda: backend.profile(TRACE_TOKEN))

    assert type(chat_error) is BackendError
    assert "422" in chat_error.problem
    assert "***" in chat_error.problem
    assert "500" in profile_error.problem
    assert "boom for ***" in profile_error.problem


# --- retries ---------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, waits: list[float]
) -> None:
    protocol_server.add_turn(ps.text("ok"), ps.done(), respond=[ps.respond(429, retry_after=7)])

    assert run(backend)[0] == TextDelta("ok")
    assert waits == [7.0]
    assert len(protocol_server.chat_requests) == 2


def test_retry_after_may_be_an_http_date(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, waits: list[float]
) -> None:
    later = formatdate(time.time() + 20, usegmt=True)
    protocol_server.add_turn(ps.done(), respond=[ps.respond(429, retry_after=later)])

    run(backend)

    (wait,) = waits
    assert 17 <= wait <= 21


def test_503_is_retried_with_growing_jittered_backoff(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, waits: list[float]
) -> None:
    protocol_server.add_turn(ps.done(), respond=[ps.respond(503, times=2), ps.respond(502)])

    assert run(backend) == [Done("conv-test")]

    assert len(protocol_server.chat_requests) == 4
    first, second, third = waits
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0
    assert 1.0 <= third <= 2.0


def test_exhausted_retries_say_how_many_attempts_were_made(
    protocol_server: ProtocolServer,
    make_backend: Callable[..., HttpTraceBackend],
    waits: list[float],
) -> None:
    protocol_server.add_turn(ps.done(), respond=[ps.respond(503, times=10)])

    error = caught(BackendUnavailableError, lambda: run(make_backend(max_retries=2)))

    assert "3 attempts" in error.problem
    assert "503" in error.problem
    assert len(protocol_server.chat_requests) == 3
    assert len(waits) == 2


def test_a_retry_after_beyond_the_wait_budget_gives_up_at_once(
    protocol_server: ProtocolServer,
    make_backend: Callable[..., HttpTraceBackend],
    waits: list[float],
) -> None:
    protocol_server.add_turn(ps.done(), respond=[ps.respond(429, retry_after=120)])

    error = caught(BackendUnavailableError, lambda: run(make_backend(max_retry_wait=30)))

    assert "1 attempt " in error.problem
    assert "wait 120 s" in error.problem
    assert waits == []


def test_a_connection_closed_before_answering_is_retried(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, waits: list[float]
) -> None:
    protocol_server.add_turn(ps.text("hi"), ps.done(), respond=[ps.disconnect()])

    assert run(backend) == [TextDelta("hi"), Done("conv-test")]
    assert len(protocol_server.chat_requests) == 2
    assert len(waits) == 1


def test_connection_refused_is_retried_then_unavailable(waits: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = HttpTraceBackend(f"http://127.0.0.1:{port}", sleep=waits.append, max_retries=3)

    try:
        error = caught(BackendUnavailableError, lambda: run(backend))
    finally:
        backend.close()

    assert "4 attempts" in error.problem
    assert len(waits) == 3


# --- broken streams ----------------------------------------------------------------


def test_a_stream_dropped_mid_way_is_unavailable_and_never_retried(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, waits: list[float]
) -> None:
    protocol_server.add_turn(ps.text("partial"), ps.drop(), ps.done())
    protocol_server.add_turn(ps.done("second"))
    events: list[ChatEvent] = []

    def consume() -> None:
        events.extend(backend.stream_chat(chat_request(), TRACE_TOKEN))

    caught(BackendUnavailableError, consume)

    assert events == [TextDelta("partial")]
    assert len(protocol_server.chat_requests) == 1
    assert waits == []


def test_malformed_events_are_skipped_and_reported_once(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, warnings_seen: list[str]
) -> None:
    protocol_server.add_turn(
        ps.text("a"),
        ps.garbage(f"not json {CANARY}"),
        ps.text("b"),
        ps.event([1, 2, 3]),
        ps.event({"type": "text_delta"}),
        ps.event({"content": "no type"}),
        ps.text("c"),
        ps.done(),
    )

    assert run(backend) == [TextDelta("a"), TextDelta("b"), TextDelta("c"), Done("conv-test")]
    (warning,) = warnings_seen
    assert "4 malformed" in warning
    assert CANARY not in warning


def test_unknown_event_types_are_ignored_without_a_warning(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, warnings_seen: list[str]
) -> None:
    protocol_server.add_turn(
        ps.event({"type": "heartbeat", "n": 1}), ps.raw(": comment\n\n"), ps.text("x"), ps.done()
    )

    assert run(backend) == [TextDelta("x"), Done("conv-test")]
    assert warnings_seen == []


def test_a_stream_ending_without_done_is_a_protocol_error(
    protocol_server: ProtocolServer, backend: HttpTraceBackend, warnings_seen: list[str]
) -> None:
    protocol_server.add_turn(ps.text("half an answer"), ps.garbage())

    caught(ProtocolError, lambda: run(backend))

    assert len(warnings_seen) == 1
    assert len(protocol_server.chat_requests) == 1


def test_a_stall_longer_than_the_read_timeout_is_unavailable(
    protocol_server: ProtocolServer, make_backend: Callable[..., HttpTraceBackend]
) -> None:
    protocol_server.add_turn(ps.text("thinking..."), ps.sleep(5), ps.done())
    started = time.monotonic()

    caught(BackendUnavailableError, lambda: run(make_backend(read_timeout=0.5)))

    assert time.monotonic() - started < 4
    assert len(protocol_server.chat_requests) == 1


def test_an_answer_that_is_not_an_event_stream_is_a_protocol_error(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.add_turn(ps.done(), respond=[ps.respond(200, {"hello": "proxy"})])

    error = caught(ProtocolError, lambda: run(backend))

    assert "application/json" in error.problem


# --- transport security ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://10.0.0.8:8000",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
        f"http://user:{CANARY}@example.com/",
    ],
)
def test_credentials_are_never_sent_to_plain_http_off_the_machine(url: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    client = httpx.Client(transport=httpx.MockTransport(record))

    caught(InsecureTransportError, lambda: HttpTraceBackend(url, client=client))

    assert sent == []
    client.close()


@pytest.mark.parametrize(
    "url",
    ["https://api.example.com", "http://localhost:8000", "http://127.8.9.10", "http://[::1]:9"],
)
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"plan": "pro"})

    client = httpx.Client(transport=httpx.MockTransport(record))
    backend = HttpTraceBackend(url, client=client)

    assert backend.quota(TRACE_TOKEN).plan == "pro"
    assert len(sent) == 1
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}"
    backend.close()
    client.close()


def test_a_closed_backend_refuses_to_send(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    backend.close()

    caught(BackendError, lambda: backend.quota(TRACE_TOKEN))

    assert protocol_server.requests == []


# --- profile and quota ---------------------------------------------------------------


def test_profile_and_quota_are_parsed(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.load(
        {
            "profile": {"email": "ada@example.com", "plan": "free", "extra": 1},
            "quota": {
                "plan": "free",
                "monthly_cost_used": "3.50",
                "monthly_cost_cap": 5,
                "credits_remaining": None,
            },
        }
    )

    assert backend.profile(TRACE_TOKEN) == Profile("ada@example.com", "free")
    assert backend.quota(TRACE_TOKEN) == Quota("free", 3.5, 5.0, None)
    profile_request, quota_request = protocol_server.requests
    assert (profile_request.method, profile_request.path) == ("GET", "/api/latest/user/profile")
    assert quota_request.authorization == f"Bearer {TOKEN}"


def test_a_profile_that_is_not_json_is_a_protocol_error(
    protocol_server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    protocol_server.respond_to("profile", ps.respond(200, "<html>login</html>"))

    caught(ProtocolError, lambda: backend.profile(TRACE_TOKEN))


# --- the server as a separate process (how the CLI e2e tests use it) --------------------


def test_the_protocol_server_runs_as_a_separate_process(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": [ps.simple_turn("from ", "a file")]}))
    record = tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "tests.support.protocol_server", "--port", "0"]
    command += ["--script", str(script), "--record", str(record)]
    root = Path(__file__).resolve().parents[2]

    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            backend = HttpTraceBackend(url)
            first = run(backend)
            httpx.post(f"{url}/_control/script", json={"turns": [ps.simple_turn("next")]})
            second = run(backend)
            backend.close()
            state = httpx.get(f"{url}/_control/state").json()
        finally:
            server.terminate()

    assert server.returncode == 0
    assert first == [TextDelta("from "), TextDelta("a file"), Done("conv-test")]
    assert second == [TextDelta("next"), Done("conv-test")]
    chats = [r for r in state["requests"] if r["path"].endswith("/chat/stream")]
    assert [r["body"]["llm_api_key"] for r in chats] == [CANARY, CANARY]
    recorded = [json.loads(line) for line in record.read_text().splitlines()]
    assert recorded[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
