"""The SDK as a user's script runs it: real config dir and file store, real HTTP, real tools.

Every test talks to the real local protocol server (``tests/support/protocol_server``)
through the default container: ``TRACE_BASE_URL`` and ``TRACE_API_TOKEN`` point the
SDK at it, exactly as a CI job would. Covered: what is sent and what the reply says,
the CLI and the SDK sharing one store, streaming, tools editing a schematic in a temp
project, ``AsyncTrace`` with concurrent chats on one connection pool, the typed error
of every backend failure, the canary key in no exception, repr or log line, and
``with Trace()`` closing its connections.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from adapters.backend.http import HttpTraceBackend
from domain.billing import BillingMode
from domain.chat import StatusUpdate, TextDelta, Thinking, ToolCall, Usage
from domain.errors import (
    AuthenticationRejectedError,
    BackendError,
    BackendUnavailableError,
    InsecureTransportError,
    InvalidSettingError,
    MissingKeyError,
    NotLoggedInError,
    PlanRestrictionError,
    ProtocolError,
    QuotaExhaustedError,
    TraceError,
)
from domain.provider import Provider
from entrypoints.sdk import (
    AsyncTrace,
    ChatFinished,
    ChatOutput,
    ChatReply,
    ToolFinished,
    Trace,
)
from tests.e2e.cli_runner import run as run_cli
from tests.support.choices import label_of
from tests.support.protocol_server import (
    TOKEN,
    ProtocolServer,
    await_results,
    done,
    drop,
    echo_result,
    metrics,
    respond,
    status,
    text,
    thinking,
    tool_call,
)

CANARY = "sk-ant-api03-CANARY-sdk-7f3a9c1e5b2d"
GEMINI_ENV_KEY = "AIza-env-key-from-the-environment-0000"
OPENAI_CANARY = "sk-proj-CANARY-openai-sdk-4e8b0a6c"
SCHEMATIC = """(kicad_sch (version 20231120) (generator "eeschema")
  (symbol (lib_id "Device:C") (at 50 50 0)
    (property "Reference" "C1")
    (property "Value" "10nF")
  )
)
"""
Flavour = Literal["sync", "async"]


@pytest.fixture
def server(protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch) -> ProtocolServer:
    """The protocol server, with the SDK's environment pointing at it and the file store."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return protocol_server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A KiCad project directory with one schematic."""
    root = tmp_path / "board"
    root.mkdir()
    (root / "power.kicad_sch").write_text(SCHEMATIC, encoding="utf-8")
    return root


def chat(flavour: Flavour, message: str, **options: Any) -> ChatReply:
    """One chat through ``with Trace()`` or ``async with AsyncTrace()``, default arguments."""
    if flavour == "sync":
        with Trace() as trace:
            return trace.chat(message, **options)

    async def main() -> ChatReply:
        async with AsyncTrace() as trace:
            return await trace.chat(message, **options)

    return asyncio.run(main())


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception chained to it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def assert_no_canary(*things: object) -> None:
    """No canary in the str, repr or args of anything given (and of chained exceptions)."""
    for thing in things:
        parts: list[object] = [thing]
        if isinstance(thing, BaseException):
            parts = [p for e in chain(thing) for p in (e, *e.args)]
        for part in parts:
            for shown in (str(part), repr(part)):
                assert CANARY not in shown
                assert OPENAI_CANARY not in shown


# --- what is sent, and what the reply says ------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_stored_key_is_sent_and_the_reply_says_who_pays(
    server: ProtocolServer, flavour: Flavour
) -> None:
    server.add_turn(text("Added "), text("C2."), metrics(input_tokens=12, cost=0.01), done("c-9"))
    with Trace() as trace:
        trace.byok.set("anthropic", CANARY)

    reply = chat(flavour, "Add a 100nF cap on VCC")

    (request,) = server.chat_requests
    assert request.authorization == f"Bearer {TOKEN}"
    assert {k: request.body.get(k) for k in ("llm_provider", "llm_api_key", "llm_model_id")} == {
        "llm_provider": "anthropic",
        "llm_api_key": CANARY,
        "llm_model_id": "claude-sonnet-4-6",
    }
    assert (request.body["client"], request.body["message"]) == ("sdk", "Add a 100nF cap on VCC")
    assert reply.text == "Added C2."
    assert reply.conversation_id == "c-9"
    assert reply.usage is not None
    assert reply.usage["input_tokens"] == 12
    assert (reply.provider, reply.model, label_of(reply.key_source), reply.masked_key) == (
        Provider.ANTHROPIC,
        "claude-sonnet-4-6",
        "file",
        "…" + CANARY[-4:],
    )
    assert reply.billing is BillingMode.PROVIDER
    assert server.problems == []


def test_trace_hosted_chat_sends_no_byok_fields(server: ProtocolServer) -> None:
    server.add_turn(text("Hi"), done())
    with Trace() as trace:
        reply = trace.chat("hello")
    body = server.chat_requests[0].body
    assert not {"llm_provider", "llm_api_key", "llm_model_id"} & body.keys()
    assert (reply.provider, label_of(reply.key_source), reply.billing) == (
        Provider.TRACE,
        None,
        BillingMode.TRACE_PLAN,
    )


def test_per_call_arguments_beat_the_environment_which_beats_the_defaults(
    server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_LLM_PROVIDER", "gemini")
    monkeypatch.setenv("TRACE_LLM_API_KEY", GEMINI_ENV_KEY)
    server.add_turn(text("a"), done())
    server.add_turn(text("b"), done())
    server.add_turn(text("c"), done())
    with Trace(llm_provider="openai", llm_api_key=OPENAI_CANARY) as trace:
        trace.byok.set("anthropic", CANARY)
        first = trace.chat("x")
        second = trace.chat(
            "y", llm_provider="anthropic", llm_api_key=CANARY, llm_model_id="claude-opus-4-1"
        )
        # Constructor values are defaults: they apply once the environment names nothing.
        monkeypatch.delenv("TRACE_LLM_PROVIDER")
        monkeypatch.delenv("TRACE_LLM_API_KEY")
        third = trace.chat("z")
    bodies = [r.body for r in server.chat_requests]
    assert (bodies[0]["llm_provider"], bodies[0]["llm_api_key"]) == ("gemini", GEMINI_ENV_KEY)
    assert (bodies[1]["llm_provider"], bodies[1]["llm_model_id"]) == (
        "anthropic",
        "claude-opus-4-1",
    )
    assert (bodies[2]["llm_provider"], bodies[2]["llm_api_key"]) == ("openai", OPENAI_CANARY)
    assert (first.model, label_of(first.key_source)) == (
        "gemini-2.5-flash",
        "env:TRACE_LLM_API_KEY",
    )
    assert (second.model, label_of(second.key_source)) == ("claude-opus-4-1", "argument")
    assert (third.model, label_of(third.key_source)) == ("gpt-4o", "argument")


# --- one store for the CLI and the SDK ---------------------------------------------------


@pytest.mark.parametrize("store", ["file", pytest.param("keychain", marks=pytest.mark.keychain)])
def test_byok_set_in_a_shell_is_used_from_code(
    server: ProtocolServer, monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", store)
    result = run_cli(["byok", "set", "anthropic", "--key-stdin"], input=CANARY + "\n")
    assert result.code == 0, result
    server.add_turn(text("a"), done())
    server.add_turn(text("b"), done())

    with Trace() as trace:
        first = trace.chat("hello")
        # The shell changes the model while this process runs (and caches its reads).
        changed = run_cli(["byok", "model", "claude-opus-4-1"])
        assert changed.code == 0, changed
        second = trace.chat("again")

    assert (first.provider, label_of(first.key_source), first.model) == (
        Provider.ANTHROPIC,
        store,
        "claude-sonnet-4-6",
    )
    assert server.chat_requests[0].body["llm_api_key"] == CANARY
    assert second.model == "claude-opus-4-1"


def test_changes_by_another_process_reach_a_running_client_at_once(server: ProtocolServer) -> None:
    """The read cache notices the credentials file and config.toml changing under it."""
    for _ in range(3):
        server.add_turn(text("ok"), done())
    with Trace() as running:
        running.byok.set("anthropic", CANARY)
        running.chat("one")
        with Trace() as other_process:  # its own container, caches and adapters
            other_process.byok.set("openai", OPENAI_CANARY)
        running.chat("two")
        with Trace() as other_process:
            other_process.byok.remove("openai")
        running.chat("three")
    providers = [r.body.get("llm_provider") for r in server.chat_requests]
    assert providers == ["anthropic", "openai", None]


@pytest.mark.parametrize("store", ["file", pytest.param("keychain", marks=pytest.mark.keychain)])
def test_byok_through_the_sdk_is_seen_by_the_next_chat(
    server: ProtocolServer, monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    """The keychain has no change probe: only the writes' invalidation makes this pass."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", store)
    for _ in range(4):
        server.add_turn(text("ok"), done())
    with Trace() as trace:
        trace.byok.set("openai", "sk-proj-first-key-00000001")
        one = trace.chat("one")
        trace.byok.set("openai", OPENAI_CANARY)
        trace.byok.model("gpt-4.1")
        two = trace.chat("two")
        trace.byok.use("trace")
        trace.chat("three")
        trace.byok.use("openai")
        trace.byok.remove("openai")
        trace.chat("four")
        with pytest.raises(MissingKeyError):
            trace.chat("five", llm_provider="openai")
    sent = [(r.body.get("llm_api_key"), r.body.get("llm_model_id")) for r in server.chat_requests]
    assert sent == [
        ("sk-proj-first-key-00000001", "gpt-4o"),
        (OPENAI_CANARY, "gpt-4.1"),
        (None, None),
        (None, None),
    ]
    # The keys really went through the store under test (no silent fallback to the file).
    assert (label_of(one.key_source), label_of(two.key_source)) == (store, store)
    if store == "keychain":
        assert not (Path(os.environ["TRACE_CONFIG_DIR"]) / "credentials.json").exists()


# --- streaming and tools ------------------------------------------------------------------


def test_stream_yields_events_as_they_arrive_then_the_reply(server: ProtocolServer) -> None:
    server.add_turn(
        status("reading"), thinking("hmm"), text("Hel"), text("lo"), metrics(cost=0.02), done()
    )
    with Trace() as trace:
        events = list(trace.stream("hello"))
    kinds = [type(e) for e in events]
    assert kinds == [StatusUpdate, Thinking, TextDelta, TextDelta, Usage, ChatFinished]
    finished = events[-1]
    assert isinstance(finished, ChatFinished)
    assert finished.reply.text == "Hello"


def test_leaving_a_stream_early_ends_it(server: ProtocolServer) -> None:
    server.add_turn(text("first"), text("second"), done())
    server.add_turn(text("next"), done())
    with Trace() as trace:
        for event in trace.stream("hello"):
            assert event == TextDelta("first")
            break
        assert trace.chat("again").text == "next"


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_agent_tools_edit_a_schematic_in_the_project(
    server: ProtocolServer, project: Path, flavour: Flavour
) -> None:
    server.add_turn(
        tool_call("t1", "read_file", {"target_file": "power.kicad_sch"}),
        tool_call(
            "t2",
            "search_replace",
            {"file_path": "power.kicad_sch", "old_string": '"10nF"', "new_string": '"100nF"'},
            echo="{result}",
        ),
        done(),
    )

    reply = chat(flavour, "Make C1 100nF", mode="agent", project_dir=project)

    assert '(property "Value" "100nF")' in (project / "power.kicad_sch").read_text()
    assert [run.tool_name for run in reply.tool_runs] == ["read_file", "search_replace"]
    assert [run.target for run in reply.tool_runs] == ["power.kicad_sch", "power.kicad_sch"]
    assert not any(run.is_error for run in reply.tool_runs)
    assert reply.text == "replaced 1 occurrence in power.kicad_sch"
    results = {r["tool_call_id"]: r for r in server.tool_results}
    assert '"10nF"' in results["t1"]["result"]
    assert server.chat_requests[0].body["project_dir"] == str(project.resolve())
    assert server.problems == []


def test_a_tool_outside_the_project_fails_for_the_model_not_the_script(
    server: ProtocolServer, project: Path
) -> None:
    server.add_turn(
        tool_call("t1", "write", {"file_path": "../escape.kicad_sch", "contents": "x"}),
        echo_result("t1", "{is_error}"),
        done(),
    )
    with Trace(project_dir=project) as trace:
        reply = trace.chat("write outside", mode="agent")
    (run,) = reply.tool_runs
    assert run.is_error
    assert run.result_chars == len(server.tool_results[0]["result"])
    assert "is outside the project directory" in server.tool_results[0]["result"]
    assert reply.text == "True"
    assert not (project.parent / "escape.kicad_sch").exists()


# --- AsyncTrace: concurrent chats on one connection pool ----------------------------------


def agent_turn(n: int) -> tuple[Any, ...]:
    """A turn that reads the schematic, waits for the result, echoes it and ends."""
    return (
        text(f"chat {n}: "),
        tool_call(f"t{n}", "read_file", {"target_file": "power.kicad_sch", "limit": 1}),
        echo_result(f"t{n}", "{is_error}"),
        done(f"conv-{n}"),
    )


def test_ten_concurrent_async_chats_share_one_backend(
    server: ProtocolServer, project: Path
) -> None:
    for n in range(10):
        server.add_turn(*agent_turn(n))

    async def main() -> list[ChatReply]:
        async with AsyncTrace(project_dir=project) as trace:
            replies = await asyncio.gather(
                *(trace.chat(f"check {n}", mode="agent") for n in range(10))
            )
            # White-box: every chat went through the runtime's one HTTP backend (one pool).
            backend = trace._sync._runtime.adapters.backend()
            assert isinstance(backend, HttpTraceBackend)
            assert trace._sync._chat is not None
            assert trace._sync._chat._backend is backend
            return replies

    replies = asyncio.run(main())

    assert sorted(r.conversation_id or "" for r in replies) == sorted(
        f"conv-{n}" for n in range(10)
    )
    assert all(r.text.endswith(": False") for r in replies), [r.text for r in replies]
    assert len(server.tool_results) == 10
    assert server.problems == []


def test_twenty_concurrent_streams_with_parallel_tool_calls_do_not_starve_the_pool(
    server: ProtocolServer, project: Path
) -> None:
    """Each open stream holds a connection while its tool results need more of them."""
    server.load({"token": TOKEN, "tool_timeout": 8})
    for n in range(20):
        server.add_turn(
            tool_call(f"a{n}", "read_file", {"target_file": "power.kicad_sch"}, wait=False),
            tool_call(f"b{n}", "list_dir", {}, wait=False),
            await_results(f"a{n}", f"b{n}"),
            text(f"stream {n} done"),
            done(f"conv-{n}"),
        )

    async def one(trace: AsyncTrace, n: int) -> list[object]:
        return [e async for e in trace.stream(f"go {n}", mode="agent")]

    async def main() -> list[list[object]]:
        async with AsyncTrace(project_dir=project) as trace:
            return await asyncio.gather(*(one(trace, n) for n in range(20)))

    started = time.monotonic()
    streams = asyncio.run(main())

    assert time.monotonic() - started < 8, "streams waited on the pool for their tool results"
    for events in streams:
        finished = events[-1]
        assert isinstance(finished, ChatFinished)
        assert finished.reply.text.endswith("done")
        assert len([e for e in events if isinstance(e, ToolFinished)]) == 2
        assert len([e for e in events if isinstance(e, ToolCall)]) == 2
    assert len(server.tool_results) == 40
    assert server.problems == []


def test_leaving_an_async_stream_early_ends_it(server: ProtocolServer) -> None:
    server.add_turn(text("first"), text("second"), done())
    server.add_turn(text("next"), done())

    async def main() -> tuple[list[ChatOutput], str]:
        async with AsyncTrace() as trace:
            seen = []
            async for event in trace.stream("hello"):
                seen.append(event)
                break
            return seen, (await trace.chat("again")).text

    seen, after = asyncio.run(main())
    assert seen == [TextDelta("first")]
    assert after == "next"


def test_async_stream_and_byok(server: ProtocolServer) -> None:
    server.add_turn(text("a"), text("b"), done("conv-s"))

    async def main() -> tuple[list[ChatOutput], str]:
        async with AsyncTrace() as trace:
            await trace.byok.set("gemini", "AIza-async-gemini-key-000001")
            report = await trace.byok.status()
            events = [e async for e in trace.stream("hi")]
            assert report.active_provider is Provider.GEMINI
            return events, (await trace.resolve()).model or ""

    events, model = asyncio.run(main())
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("a"), TextDelta("b")]
    assert isinstance(events[-1], ChatFinished)
    assert events[-1].reply.provider is Provider.GEMINI
    assert model == "gemini-2.5-flash"


# --- typed errors for every failure ---------------------------------------------------------


def script_status(code: int, times: int = 1, **extra: Any) -> Callable[[ProtocolServer], None]:
    """A turn whose first ``times`` answers are ``code``."""

    def script(server: ProtocolServer) -> None:
        body = {"detail": f"rejected {CANARY}"}  # servers echo requests: never shown
        server.add_turn(done(), respond=[respond(code, body, times=times, **extra)])

    return script


def script_tool_result_unavailable(server: ProtocolServer) -> None:
    # The chat only ends when the backend stops waiting for the result: keep that short.
    server.add_turn(tool_call("t1", "list_dir", {}, timeout=0.5), done())
    server.respond_to("tool_result", respond(503, retry_after=0, times=5))


def script_dropped_stream(server: ProtocolServer) -> None:
    server.add_turn(text("partial"), drop())


def script_no_done(server: ProtocolServer) -> None:
    server.add_turn(text("partial"))


FAILURES: dict[str, tuple[Callable[[ProtocolServer], None], type[TraceError], str]] = {
    "401-token-rejected": (script_status(401), AuthenticationRejectedError, "auth login"),
    "402-quota": (script_status(402), QuotaExhaustedError, "billing status"),
    "403-plan": (script_status(403), PlanRestrictionError, "--mode ask"),
    "503-exhausted": (
        script_status(503, times=5, retry_after=0),
        BackendUnavailableError,
        "TRACE_BASE_URL",
    ),
    "500": (script_status(500), BackendError, "try again"),
    "tool-result-post-failed": (
        script_tool_result_unavailable,
        BackendUnavailableError,
        "TRACE_BASE_URL",
    ),
    "stream-dropped": (script_dropped_stream, BackendUnavailableError, "TRACE_BASE_URL"),
    "stream-without-done": (script_no_done, ProtocolError, "try again"),
}


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize(
    ("script", "error", "fix"), [pytest.param(*v, id=k) for k, v in FAILURES.items()]
)
def test_each_backend_failure_is_a_typed_error_with_its_fix(
    server: ProtocolServer,
    project: Path,
    flavour: Flavour,
    script: Callable[[ProtocolServer], None],
    error: type[TraceError],
    fix: str,
) -> None:
    script(server)
    with pytest.raises(TraceError) as caught:
        chat(
            flavour,
            "hello",
            mode="agent",
            project_dir=project,
            llm_provider="anthropic",
            llm_api_key=CANARY,
        )
    assert type(caught.value) is error
    assert fix in caught.value.fix
    assert not any(
        type(e).__module__.startswith(("httpx", "httpcore")) for e in chain(caught.value)
    )
    assert_no_canary(caught.value)
    assert server.chat_requests  # it did reach the backend


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_missing_key_fails_before_any_request(server: ProtocolServer, flavour: Flavour) -> None:
    with Trace() as trace:
        trace.byok.set("anthropic", CANARY)
    with pytest.raises(MissingKeyError) as caught:
        chat(flavour, "hello", llm_provider="gemini")
    assert "buildwithtrace byok set gemini" in caught.value.fix
    assert server.requests == []


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_not_logged_in_fails_before_any_request(
    server: ProtocolServer, monkeypatch: pytest.MonkeyPatch, flavour: Flavour
) -> None:
    monkeypatch.delenv("TRACE_API_TOKEN")
    with pytest.raises(NotLoggedInError) as caught:
        chat(flavour, "hello", llm_provider="openai", llm_api_key=OPENAI_CANARY)
    assert "auth login" in caught.value.fix
    assert_no_canary(caught.value)
    assert server.requests == []


def test_token_argument_beats_a_wrong_environment_token(
    server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", "a-token-the-server-rejects-0000")
    server.add_turn(text("ok"), done())
    with Trace(token=TOKEN) as trace:
        assert trace.chat("hello").text == "ok"


def test_unreachable_backend_is_backend_unavailable(server: ProtocolServer) -> None:
    url = server.url
    server.stop()
    # Our own HTTP adapter, passed in, so the retries need not really wait.
    backend = HttpTraceBackend(url, sleep=lambda _seconds: None)
    try:
        with Trace(backend=backend) as trace, pytest.raises(BackendUnavailableError) as caught:
            trace.chat("hello", llm_provider="anthropic", llm_api_key=CANARY)
    finally:
        backend.close()
    assert "could not connect" in caught.value.problem
    assert "after 5 attempts" in caught.value.problem
    assert_no_canary(caught.value)


def test_base_url_argument_beats_trace_base_url(
    server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_BASE_URL", "https://trace.invalid")
    monkeypatch.delenv("TRACE_API_TOKEN")
    server.add_turn(text("ok"), done())
    with Trace(base_url=server.url) as trace:
        monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)  # the rest of the environment stays live
        assert trace.chat("hello").text == "ok"


@pytest.mark.parametrize(
    ("base_url", "error"),
    [
        pytest.param("http://trace.example.com", InsecureTransportError, id="plain-http"),
        pytest.param("ftp://trace.example.com", InvalidSettingError, id="not-http"),
    ],
)
def test_a_base_url_that_may_not_carry_keys_is_refused_before_sending(
    server: ProtocolServer, base_url: str, error: type[TraceError]
) -> None:
    with Trace(base_url=base_url) as trace, pytest.raises(error) as caught:
        trace.chat("hello", llm_provider="anthropic", llm_api_key=CANARY)
    assert caught.value.fix
    assert_no_canary(caught.value)
    assert server.requests == []


# --- the canary never shows ---------------------------------------------------------------


def test_the_canary_key_never_appears_in_errors_reprs_or_logs(
    server: ProtocolServer, project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in (None, "httpx", "httpcore", "buildwithtrace", "filelock"):
        caplog.set_level(logging.DEBUG, logger=name)
    server.add_turn(text("ok"), metrics(input_tokens=1), done())
    server.add_turn(
        tool_call("t1", "read_file", {"target_file": "power.kicad_sch"}, echo="{is_error}"),
        done(),
    )
    server.add_turn(
        done(),
        respond=[
            respond(400, {"detail": f"bad key {CANARY}"}),
            respond(402, f"quota for {OPENAI_CANARY}"),
        ],
    )
    seen: list[object] = []

    with Trace(project_dir=project) as trace:
        seen.append(trace.byok.set("anthropic", CANARY))
        seen.append(trace.byok.status())
        seen.append(trace.resolve())
        seen.append(trace.resolve(llm_provider="openai", llm_api_key=OPENAI_CANARY))
        seen.extend(trace.stream("hello"))
        seen.append(
            trace.chat("tools", mode="agent", llm_provider="openai", llm_api_key=OPENAI_CANARY)
        )
        for options in ({}, {"llm_provider": "openai", "llm_api_key": OPENAI_CANARY}):
            with pytest.raises(BackendError) as caught:
                trace.chat("fail", **options)
            seen.append(caught.value)
        with pytest.raises(TraceError) as refused:  # a key given where the provider goes
            trace.chat("x", llm_provider=CANARY)
        seen.append(refused.value)
        seen.append(trace.byok.remove("anthropic"))

    assert len(server.chat_requests) == 4
    assert server.chat_requests[1].body["llm_api_key"] == OPENAI_CANARY  # it was really sent
    assert_no_canary(*seen)
    assert any(r.name.startswith("httpcore") for r in caplog.records), "DEBUG not captured"
    for record in caplog.records:
        assert_no_canary(record.getMessage(), record.args)
    assert CANARY not in caplog.text
    assert OPENAI_CANARY not in caplog.text


# --- closing -------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def tool_turn() -> tuple[Any, ...]:
    """A turn whose tool result is posted on a keep-alive connection."""
    return (tool_call("t1", "list_dir", {}), done())


def test_with_trace_closes_its_connections(server: ProtocolServer, project: Path) -> None:
    server.add_turn(*tool_turn())
    with Trace(project_dir=project) as trace:
        trace.chat("hello", mode="agent")
        assert wait_for(lambda: server.open_connections >= 1), "no pooled connection to close"

    assert wait_for(lambda: server.open_connections == 0)
    with pytest.raises(BackendError) as caught:
        trace.chat("after close")
    assert "Trace()" in caught.value.fix


def test_leaving_with_by_an_exception_closes_too(server: ProtocolServer, project: Path) -> None:
    server.add_turn(*tool_turn())
    with pytest.raises(KeyError), Trace(project_dir=project) as trace:
        trace.chat("hello", mode="agent")
        assert wait_for(lambda: server.open_connections >= 1)
        raise KeyError("user code failed")
    assert wait_for(lambda: server.open_connections == 0)


def test_async_with_closes_its_connections(server: ProtocolServer, project: Path) -> None:
    server.add_turn(*tool_turn())

    async def main() -> None:
        async with AsyncTrace(project_dir=project) as trace:
            await trace.chat("hello", mode="agent")
            assert wait_for(lambda: server.open_connections >= 1)

    asyncio.run(main())
    assert wait_for(lambda: server.open_connections == 0)
