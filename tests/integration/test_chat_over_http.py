"""The whole Chat use-case, built by the real container, against the real protocol server.

Nothing is faked: ``Runtime`` wires the HTTP backend (TRACE_BASE_URL points at
the server on 127.0.0.1), the 0600 file store (or the real keychain), config.toml and
the local tools working in a temporary KiCad project.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.chat import ChatCommand, ChatFinished, ChatOutput, ChatReply, ToolFinished
from domain.billing import BillingMode
from domain.chat import ChatMode, Done, TextDelta, ToolCall
from domain.errors import (
    AuthenticationRejectedError,
    BackendUnavailableError,
    MissingKeyError,
    NotLoggedInError,
    PlanRestrictionError,
    ProtocolError,
    QuotaExhaustedError,
)
from domain.provider import Provider
from domain.secret import Secret
from entrypoints.runtime import Runtime
from tests.support import protocol_server as ps
from tests.support.choices import Given, label_of, parsed
from tests.support.keychain import RunningSecretService
from tests.support.protocol_server import TOKEN, ProtocolServer

SCHEMATIC = "board.kicad_sch"
ORIGINAL = (
    '(kicad_sch (version 20231120)\n  (symbol (lib_id "Device:R") (property "Value" "10k"))\n)\n'
)
KEYS = {
    Provider.ANTHROPIC: "sk-ant-api03-integration-key-AAAA",
    Provider.OPENAI: "sk-proj-integration-key-BBBB",
    Provider.GEMINI: "AIzaSy-integration-key-CCCC",
}
LLM_FIELDS = ("llm_provider", "llm_api_key", "llm_model_id")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A KiCad project directory with one schematic."""
    root = tmp_path / "board"
    root.mkdir()
    (root / SCHEMATIC).write_text(ORIGINAL, encoding="utf-8")
    return root


@pytest.fixture
def warnings_seen() -> list[str]:
    """What the adapters reported through the container's ``warn``."""
    return []


@pytest.fixture
def trace(
    protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch, warnings_seen: list[str]
) -> Iterator[Runtime]:
    """The real container, talking to the protocol server, with the file store."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    runtime = Runtime(warn=warnings_seen.append)
    yield runtime
    runtime.close()


def log_in(container: Runtime) -> None:
    """Store the server's token the way ``auth login`` does (checked against /user/profile)."""
    result = container.use_cases.login().execute(Secret(TOKEN))
    assert result.verified


def set_key(container: Runtime, provider: Provider) -> None:
    """Store ``provider``'s key and make it active, the way ``byok set`` does."""
    container.use_cases.set_key().execute(provider, Secret.parse(KEYS[provider], provider.value))


def ask(
    project: Path,
    message: str = "What is R1?",
    *,
    mode: ChatMode = ChatMode.ASK,
    overrides: Given | None = None,
) -> ChatCommand:
    """A CLI chat command about ``project``."""
    return ChatCommand(
        message=message, mode=mode, project_dir=str(project), overrides=parsed(overrides)
    )


def run(container: Runtime, command: ChatCommand) -> tuple[list[ChatOutput], ChatReply]:
    """Everything the stream yielded, and the reply."""
    items = list(container.use_cases.chat().stream(command))
    last = items[-1]
    assert isinstance(last, ChatFinished)
    return items, last.reply


def chat_bodies(server: ProtocolServer) -> list[dict[str, object]]:
    """The JSON bodies of every ``POST /chat/stream``."""
    return [r.body for r in server.chat_requests]


# --- ask and agent turns -------------------------------------------------------------


def test_ask_mode_streams_text_in_order_and_is_billed_to_the_trace_plan(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    log_in(trace)
    protocol_server.add_turn(
        ps.status("thinking about R1"),
        ps.text("R1 is "),
        ps.text("a 10k resistor."),
        ps.metrics(input_tokens=12, output_tokens=5),
        ps.done("conv-ask-1"),
    )

    items, reply = run(trace, ask(project))

    texts = [i.content for i in items if isinstance(i, TextDelta)]
    assert texts == ["R1 is ", "a 10k resistor."]
    assert not any(isinstance(i, Done) for i in items)  # the reply carries the id instead
    assert reply.text == "R1 is a 10k resistor."
    assert reply.conversation_id == "conv-ask-1"
    assert reply.usage is not None and reply.usage["output_tokens"] == 5
    assert reply.provider is Provider.TRACE
    assert reply.billing is BillingMode.TRACE_PLAN
    [request] = protocol_server.chat_requests
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.body["message"] == "What is R1?"
    assert request.body["mode"] == "ask"
    assert request.body["client"] == "cli"
    assert request.body["project_dir"] == str(project)
    assert protocol_server.problems == []


def test_agent_turn_reads_then_edits_the_schematic_in_the_project(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    log_in(trace)
    set_key(trace, Provider.ANTHROPIC)
    protocol_server.add_turn(
        ps.text("Let me look. "),
        ps.tool_call("call-read", "read_file", {"target_file": SCHEMATIC}, echo="[{is_error}]"),
        ps.tool_call(
            "call-edit",
            "search_replace",
            {"file_path": SCHEMATIC, "old_string": '"Value" "10k"', "new_string": '"Value" "4k7"'},
        ),
        ps.echo_result("call-edit", " edit: {result}"),
        ps.done("conv-agent-1"),
    )

    items, reply = run(trace, ask(project, "Make R1 4k7", mode=ChatMode.AGENT))

    edited = (project / SCHEMATIC).read_text(encoding="utf-8")
    assert edited == ORIGINAL.replace('"10k"', '"4k7"')
    posted = {r["tool_call_id"]: r for r in protocol_server.tool_results}
    assert list(posted) == ["call-read", "call-edit"]
    assert '"Value" "10k"' in str(posted["call-read"]["result"])  # the file as it was read
    assert not any(r.get("is_error") for r in posted.values())
    session = protocol_server.chat_requests[0].body["session_id"]
    assert {r["session_id"] for r in posted.values()} == {session}
    # Each call is shown to the caller, then its outcome once the result was posted.
    calls = [i.tool_name for i in items if isinstance(i, ToolCall)]
    finished = [i.call.tool_name for i in items if isinstance(i, ToolFinished)]
    assert calls == finished == ["read_file", "search_replace"]
    assert reply.text.startswith("Let me look. [False] edit: ")
    assert reply.conversation_id == "conv-agent-1"
    assert [t.is_error for t in reply.tool_runs] == [False, False]
    assert chat_bodies(protocol_server)[0]["mode"] == "agent"
    assert sorted(p.name for p in project.iterdir()) == [SCHEMATIC]  # no temp file left


def test_a_refused_tool_call_is_an_error_result_and_the_turn_goes_on(
    trace: Runtime, protocol_server: ProtocolServer, project: Path, tmp_path: Path
) -> None:
    log_in(trace)
    outside = tmp_path / "outside.kicad_sch"
    outside.write_text("secret design", encoding="utf-8")
    protocol_server.add_turn(
        ps.tool_call("escape", "read_file", {"target_file": "../outside.kicad_sch"}),
        ps.tool_call("bogus", "format_disk", {}),
        ps.text("ok"),
        ps.done(),
    )

    _, reply = run(trace, ask(project, mode=ChatMode.AGENT))

    results = {r["tool_call_id"]: r for r in protocol_server.tool_results}
    assert results["escape"]["is_error"] is True
    assert "is outside the project directory" in str(results["escape"]["result"])
    assert "secret design" not in str(results["escape"]["result"])
    assert results["bogus"]["is_error"] is True
    assert reply.text == "ok"


FAKE_KICAD_CLI = """\
#!{python}
# A stand-in for kicad-cli: each run waits (up to 5 s) until another run has started.
import os, pathlib, sys, time
barrier = pathlib.Path({barrier!r})  # not an env variable: kicad-cli gets an allow-list
(barrier / str(os.getpid())).touch()
deadline = time.monotonic() + 5
while len(list(barrier.iterdir())) < 2:
    if time.monotonic() > deadline:
        sys.exit("alone: no other check ran at the same time")
    time.sleep(0.02)
report = sys.argv[sys.argv.index("--output") + 1]
pathlib.Path(report).write_text('{{"violations": [], "ran_together": true}}')
"""


def test_tool_calls_of_one_turn_run_concurrently(
    trace: Runtime,
    protocol_server: ProtocolServer,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two checks that can only succeed if both run at the same time: run one after the
    # other, the first would wait alone and fail.
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    engine = tmp_path / "kicad-cli"
    engine.write_text(
        FAKE_KICAD_CLI.format(python=sys.executable, barrier=str(barrier)), encoding="utf-8"
    )
    engine.chmod(engine.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("TRACE_KICAD_CLI", str(engine))
    log_in(trace)
    protocol_server.add_turn(
        ps.tool_call("erc-1", "get_erc_violations", {"file_path": SCHEMATIC}, wait=False),
        ps.tool_call("erc-2", "get_erc_violations", {"file_path": SCHEMATIC}, wait=False),
        ps.await_results("erc-1", "erc-2", timeout=15),
        ps.echo_result("erc-1", "{is_error} "),
        ps.echo_result("erc-2", "{is_error}"),
        ps.done(),
    )

    _, reply = run(trace, ask(project, "Check ERC twice", mode=ChatMode.AGENT))

    results = protocol_server.tool_results
    assert sorted(r["tool_call_id"] for r in results) == ["erc-1", "erc-2"]
    assert all('"ran_together": true' in r["result"] for r in results), results
    assert reply.text == "False False"
    assert len(list(barrier.iterdir())) == 2


# --- BYOK fields -------------------------------------------------------------------------


@pytest.mark.parametrize("provider", [Provider.ANTHROPIC, Provider.OPENAI, Provider.GEMINI])
def test_byok_fields_carry_a_key_from_the_environment(
    trace: Runtime,
    protocol_server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: Provider,
) -> None:
    monkeypatch.setenv(provider.spec.env_vars[0], KEYS[provider])
    trace.use_cases.use_provider().execute(provider)
    log_in(trace)
    protocol_server.add_turn(*ps.simple_turn("hi")["steps"])

    _, reply = run(trace, ask(project))

    [body] = chat_bodies(protocol_server)
    assert body["llm_provider"] == provider.value
    assert body["llm_api_key"] == KEYS[provider]
    assert body["llm_model_id"] == provider.spec.default_model
    assert label_of(reply.key_source) == f"env:{provider.spec.env_vars[0]}"
    assert reply.billing is BillingMode.PROVIDER


def test_gemini_falls_back_to_google_api_key(
    trace: Runtime,
    protocol_server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEYS[Provider.GEMINI])
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    protocol_server.add_turn(*ps.simple_turn("hi")["steps"])

    run(trace, ask(project, overrides=Given(provider="gemini")))

    [body] = chat_bodies(protocol_server)
    assert (body["llm_provider"], body["llm_api_key"]) == ("gemini", KEYS[Provider.GEMINI])


@pytest.mark.parametrize("provider", [Provider.ANTHROPIC, Provider.OPENAI, Provider.GEMINI])
def test_byok_fields_carry_a_key_from_the_file_store(
    trace: Runtime, protocol_server: ProtocolServer, project: Path, provider: Provider
) -> None:
    set_key(trace, provider)
    log_in(trace)
    protocol_server.add_turn(*ps.simple_turn("hi")["steps"])

    _, reply = run(trace, ask(project))

    [body] = chat_bodies(protocol_server)
    assert body["llm_provider"] == provider.value
    assert body["llm_api_key"] == KEYS[provider]
    assert body["llm_model_id"] == provider.spec.default_model
    assert label_of(reply.key_source) == "file"
    credentials = Path(os.environ["TRACE_CONFIG_DIR"]) / "credentials.json"
    assert KEYS[provider] in credentials.read_text(encoding="utf-8")


@pytest.mark.keychain
@pytest.mark.parametrize("provider", [Provider.ANTHROPIC, Provider.OPENAI, Provider.GEMINI])
def test_byok_fields_carry_a_key_from_the_keychain(
    protocol_server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    secret_service: RunningSecretService,
    provider: Provider,
) -> None:
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "keychain")
    service = os.environ["TRACE_KEYCHAIN_SERVICE"]
    container = Runtime()
    try:
        set_key(container, provider)
        log_in(container)
        protocol_server.add_turn(*ps.simple_turn("hi")["steps"])

        _, reply = run(container, ask(project))
    finally:
        container.close()
        secret_service.forget(service)

    [body] = chat_bodies(protocol_server)
    assert body["llm_provider"] == provider.value
    assert body["llm_api_key"] == KEYS[provider]
    assert label_of(reply.key_source) == "keychain"
    assert not (Path(os.environ["TRACE_CONFIG_DIR"]) / "credentials.json").exists()


def test_trace_billing_sends_no_byok_field_at_all(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    set_key(trace, Provider.ANTHROPIC)  # a stored key must not travel when trace is active
    trace.use_cases.use_provider().execute(Provider.TRACE)
    log_in(trace)
    protocol_server.add_turn(*ps.simple_turn("hi")["steps"])

    _, reply = run(trace, ask(project))

    [request] = protocol_server.chat_requests
    assert not set(LLM_FIELDS) & set(request.body)
    assert KEYS[Provider.ANTHROPIC] not in request.text
    assert label_of(reply.key_source) is None and reply.masked_key is None


def test_a_per_call_provider_and_model_override_only_that_call(
    trace: Runtime,
    protocol_server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_key(trace, Provider.ANTHROPIC)
    monkeypatch.setenv("OPENAI_API_KEY", KEYS[Provider.OPENAI])
    log_in(trace)
    protocol_server.add_turn(*ps.simple_turn("one")["steps"])
    protocol_server.add_turn(*ps.simple_turn("two")["steps"])

    run(trace, ask(project, overrides=Given(provider="openai", model="gpt-4.1")))
    run(trace, ask(project))

    first, second = chat_bodies(protocol_server)
    assert (first["llm_provider"], first["llm_api_key"], first["llm_model_id"]) == (
        "openai",
        KEYS[Provider.OPENAI],
        "gpt-4.1",
    )
    assert (second["llm_provider"], second["llm_model_id"]) == ("anthropic", "claude-sonnet-4-6")


# --- stops before any request ------------------------------------------------------------


def test_an_active_provider_without_a_key_stops_before_any_request(
    trace: Runtime,
    protocol_server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    trace.adapters.settings().update(lambda s: s.with_active(Provider.OPENAI))
    protocol_server.add_turn(*ps.simple_turn("should not be asked")["steps"])

    with pytest.raises(MissingKeyError) as info:
        run(trace, ask(project))

    assert "byok set openai" in info.value.fix
    assert "byok use trace" in info.value.fix
    assert protocol_server.requests == []


def test_not_logged_in_stops_before_any_request(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    protocol_server.add_turn(*ps.simple_turn("should not be asked")["steps"])

    with pytest.raises(NotLoggedInError):
        run(trace, ask(project))

    assert protocol_server.requests == []


def test_trace_api_token_is_used_without_a_stored_login(
    trace: Runtime,
    protocol_server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    protocol_server.add_turn(*ps.simple_turn("hi")["steps"])

    _, reply = run(trace, ask(project))

    assert reply.text == "hi"
    assert protocol_server.chat_requests[0].authorization == f"Bearer {TOKEN}"


# --- backend answers -------------------------------------------------------------------------


def test_401_is_authentication_rejected_and_not_retried(
    trace: Runtime,
    protocol_server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", "an-expired-trace-token-9999")

    with pytest.raises(AuthenticationRejectedError) as info:
        run(trace, ask(project))

    assert "auth login" in info.value.fix
    assert len(protocol_server.chat_requests) == 1


@pytest.mark.parametrize("byok", [False, True])
def test_402_quotes_the_backend_and_names_who_pays_for_the_provider_in_effect(
    trace: Runtime, protocol_server: ProtocolServer, project: Path, byok: bool
) -> None:
    if byok:
        set_key(trace, Provider.ANTHROPIC)
    log_in(trace)
    protocol_server.add_turn(respond=[ps.respond(402, {"detail": "Credits exhausted."})])

    with pytest.raises(QuotaExhaustedError) as info:
        run(trace, ask(project))

    assert '"Credits exhausted."' in info.value.problem
    provider = Provider.ANTHROPIC if byok else Provider.TRACE
    assert provider.payer in info.value.message
    assert ("byok set" in info.value.message) is not byok
    assert len(protocol_server.chat_requests) == 1


def test_403_quotes_the_backend_and_suggests_ask_mode(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    set_key(trace, Provider.ANTHROPIC)
    log_in(trace)
    said = {"detail": "Agent mode requires a paid plan."}
    protocol_server.add_turn(respond=[ps.respond(403, said)])

    with pytest.raises(PlanRestrictionError) as info:
        run(trace, ask(project, mode=ChatMode.AGENT))

    assert '"Agent mode requires a paid plan."' in info.value.problem
    assert "agent mode" in info.value.problem
    assert "even with your own key" in info.value.fix
    assert "--mode ask" in info.value.fix


def test_429_waits_for_retry_after_then_succeeds(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    log_in(trace)
    protocol_server.add_turn(
        ps.text("after the wait"), ps.done(), respond=[ps.respond(429, retry_after=1)]
    )

    started = time.monotonic()
    _, reply = run(trace, ask(project))

    assert time.monotonic() - started >= 0.9
    assert reply.text == "after the wait"
    assert len(protocol_server.chat_requests) == 2


def test_503_until_retries_are_exhausted_is_unavailable(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    log_in(trace)
    protocol_server.add_turn(ps.done(), respond=[ps.respond(503, retry_after=0, times=10)])

    with pytest.raises(BackendUnavailableError) as info:
        run(trace, ask(project))

    assert "after 5 attempts" in info.value.problem
    assert "HTTP 503" in info.value.problem
    assert len(protocol_server.chat_requests) == 5


def test_a_stream_dropped_mid_way_is_not_retried_and_no_tool_runs_twice(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    log_in(trace)
    protocol_server.add_turn(
        ps.tool_call(
            "add-r2",
            "search_replace",
            {
                "file_path": SCHEMATIC,
                "old_string": "  (symbol",
                "new_string": '  (symbol (lib_id "Device:R2"))\n  (symbol',
            },
        ),
        ps.text("added R2"),
        ps.drop(),
    )
    protocol_server.add_turn(*ps.simple_turn("a retry would get this")["steps"])

    with pytest.raises(BackendUnavailableError) as info:
        run(trace, ask(project, mode=ChatMode.AGENT))

    assert "not retried" in info.value.problem
    assert len(protocol_server.chat_requests) == 1
    assert [r["tool_call_id"] for r in protocol_server.tool_results] == ["add-r2"]
    assert (project / SCHEMATIC).read_text(encoding="utf-8").count('"Device:R2"') == 1
    assert protocol_server.turns_left == 1


def test_a_stream_without_done_is_a_protocol_error(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    log_in(trace)
    protocol_server.add_turn(ps.text("half an answer"))

    with pytest.raises(ProtocolError) as info:
        run(trace, ask(project))

    assert "without a 'done' event" in info.value.problem


def test_garbage_lines_are_reported_once_and_the_text_still_arrives(
    trace: Runtime, protocol_server: ProtocolServer, project: Path, warnings_seen: list[str]
) -> None:
    log_in(trace)
    protocol_server.add_turn(
        ps.text("still "),
        ps.garbage(),
        ps.event({"type": "some_future_event", "x": 1}),
        ps.garbage("{also broken"),
        ps.text("here"),
        ps.done(),
    )

    _, reply = run(trace, ask(project))

    assert reply.text == "still here"
    assert len(warnings_seen) == 1
    assert "skipped 2 malformed event(s)" in warnings_seen[0]


def test_an_error_event_inside_the_stream_is_kept_in_the_reply(
    trace: Runtime, protocol_server: ProtocolServer, project: Path
) -> None:
    log_in(trace)
    protocol_server.add_turn(ps.text("partial"), ps.error("the model overloaded"), ps.done())

    _, reply = run(trace, ask(project))

    assert reply.errors == ("the model overloaded",)
    assert reply.text == "partial"
