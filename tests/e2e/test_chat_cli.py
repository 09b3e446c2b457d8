"""`buildwithtrace chat` as a user runs it: a subprocess against the protocol server.

The server runs in this test process (the fixture ``protocol_server``); the CLI only
gets its URL through ``TRACE_BASE_URL``. Keys come from the environment, the 0600
file or the real keychain (a private Secret Service), the login token from
``auth login --token-stdin``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_runner import (
    CLI,
    CliResult,
    CliSession,
    child_env,
    files_containing,
    run,
    run_in_terminal,
)
from tests.e2e.conftest import Backing
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

SCHEMATIC = "board.kicad_sch"
ORIGINAL = (
    '(kicad_sch (version 20231120)\n  (symbol (lib_id "Device:R") (property "Value" "10k"))\n)\n'
)
EDITED = ORIGINAL.replace('"10k"', '"4k7"')
ANTHROPIC_KEY = "sk-ant-api03-e2e-chat-key-0123456789-WXYZ"
OPENAI_KEY = "sk-proj-e2e-chat-key-0123456789-QRST"
LLM_FIELDS = ("llm_provider", "llm_api_key", "llm_model_id")


@pytest.fixture
def server(protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch) -> ProtocolServer:
    """The protocol server, with TRACE_BASE_URL pointing the CLI at it."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    return protocol_server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A KiCad project directory with one schematic."""
    root = tmp_path / "board"
    root.mkdir()
    (root / SCHEMATIC).write_text(ORIGINAL, encoding="utf-8")
    return root


def log_in(token: str = TOKEN) -> None:
    """`auth login --token-stdin`, as CI would."""
    result = run(["auth", "login", "--token-stdin"], input=f"{token}\n")
    assert result.code == 0, result


def set_key(provider: str = "anthropic", key: str = ANTHROPIC_KEY) -> None:
    """`byok set PROVIDER --key-stdin` (stores the key and makes the provider active)."""
    result = run(["byok", "set", provider, "--key-stdin"], input=key)
    assert result.code == 0, result


def chat(project: Path, *args: str, env_extra: dict[str, str | None] | None = None) -> CliResult:
    """`buildwithtrace chat ARGS --project PROJECT`."""
    return run(["chat", *args, "--project", str(project)], env_extra=env_extra)


def agent_turn(server: ProtocolServer) -> None:
    """A turn that reads the schematic, edits it, tries a refused tool, then finishes."""
    server.add_turn(
        ps.text("Reading the schematic. "),
        ps.tool_call("call-read", "read_file", {"target_file": SCHEMATIC}),
        ps.tool_call(
            "call-edit",
            "search_replace",
            {"file_path": SCHEMATIC, "old_string": '"Value" "10k"', "new_string": '"Value" "4k7"'},
        ),
        ps.tool_call("call-escape", "read_file", {"file_path": "../../etc/passwd"}),
        ps.tool_call("call-list", "list_dir", {}),
        ps.tool_call("call-evil", "write", {"file_path": "\x1b]0;pwned\x07x.kicad_sch"}),
        ps.text("R1 is now 4k7."),
        ps.done("conv-agent-7"),
    )


def bodies(server: ProtocolServer) -> list[dict[str, Any]]:
    """The JSON bodies of every chat request."""
    return [r.body for r in server.chat_requests]


def last_line(text: str) -> str:
    """The last non-empty line."""
    return [line for line in text.splitlines() if line.strip()][-1]


# --- ask and agent -----------------------------------------------------------------------


def test_ask_streams_text_on_stdout_and_ends_with_conversation_and_payer(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(ps.text("R1 is "), ps.text("a 10k resistor."), ps.done("conv-ask-3"))

    result = chat(project, "What is R1?")

    assert result.code == 0, result
    assert result.stdout == "R1 is a 10k resistor.\n"
    summary = last_line(result.stderr)
    assert "conversation conv-ask-3" in summary
    assert "billed to your Trace plan" in summary
    [body] = bodies(server)
    assert body["mode"] == "ask"
    assert body["client"] == "cli"
    assert body["project_dir"] == str(project.resolve())
    assert not set(LLM_FIELDS) & set(body)


def test_agent_edits_the_schematic_and_shows_one_line_per_tool(
    backing: Backing, server: ProtocolServer, project: Path
) -> None:
    set_key()
    log_in()
    agent_turn(server)

    result = chat(project, "Make R1 4k7", "--mode", "agent")

    assert result.code == 0, result
    assert (project / SCHEMATIC).read_text(encoding="utf-8") == EDITED
    assert sorted(p.name for p in project.iterdir()) == [SCHEMATIC]
    assert result.stdout == "Reading the schematic. R1 is now 4k7.\n"
    lines = result.stderr.splitlines()
    assert f"  [read_file {SCHEMATIC}] ok" in lines
    assert f"  [search_replace {SCHEMATIC}] ok" in lines
    [refused] = [line for line in lines if "../../etc/passwd" in line]
    assert refused.startswith("  [read_file ../../etc/passwd] failed")
    assert "  [list_dir] ok" in lines
    assert "\x1b" not in result.stderr  # a model-chosen escape sequence never reaches the terminal
    assert any(
        line.startswith("  [write \ufffd]0;pwned\ufffdx.kicad_sch] failed") for line in lines
    )
    summary = last_line(result.stderr)
    assert "conversation conv-agent-7" in summary
    assert f"key …{ANTHROPIC_KEY[-4:]} from {backing.kind}" in summary
    assert "billed to your own Anthropic account" in summary
    [body] = bodies(server)
    assert (body["mode"], body["llm_provider"], body["llm_api_key"]) == (
        "agent",
        "anthropic",
        ANTHROPIC_KEY,
    )
    results = {r["tool_call_id"]: r for r in server.tool_results}
    assert list(results) == ["call-read", "call-edit", "call-escape", "call-list", "call-evil"]
    assert results["call-escape"]["is_error"] is True
    assert "is outside the project directory" in str(results["call-escape"]["result"])


@pytest.mark.parametrize(
    ("variable", "provider", "key"),
    [
        ("ANTHROPIC_API_KEY", "anthropic", ANTHROPIC_KEY),
        ("OPENAI_API_KEY", "openai", OPENAI_KEY),
        ("GEMINI_API_KEY", "gemini", "AIzaSy-e2e-chat-key-0123456789"),
    ],
)
def test_a_key_from_the_environment_is_sent_and_named_in_the_summary(
    file_store: Backing,
    server: ProtocolServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    provider: str,
    key: str,
) -> None:
    monkeypatch.setenv(variable, key)
    assert run(["byok", "use", provider]).code == 0
    log_in()
    server.add_turn(*ps.simple_turn("hello")["steps"])

    result = chat(project, "hi")

    assert result.code == 0, result
    [body] = bodies(server)
    assert (body["llm_provider"], body["llm_api_key"]) == (provider, key)
    assert f"from env:{variable}" in last_line(result.stderr)
    assert file_store.secrets() == {"trace:token": TOKEN}  # the env key was never stored


def test_json_emits_one_object_per_line_for_every_event(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    set_key()
    log_in()
    server.add_turn(
        ps.status("looking"),
        ps.text("Editing. "),
        ps.tool_call(
            "call-edit",
            "search_replace",
            {"file_path": SCHEMATIC, "old_string": '"Value" "10k"', "new_string": '"Value" "4k7"'},
        ),
        ps.metrics(input_tokens=40, output_tokens=9),
        ps.text("Done."),
        ps.done("conv-json-1"),
    )

    result = chat(project, "Make R1 4k7", "--mode", "agent", "--json")

    assert result.code == 0, result
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(isinstance(e, dict) for e in events)
    kinds = [e["type"] for e in events]
    # A tool's outcome is reported when it was posted, which may be after the backend
    # already streamed on: only its place between the call and the end is fixed.
    streamed = [k for k in kinds if k != "tool_result"]
    assert streamed == ["status", "text_delta", "tool_call", "metrics", "text_delta", "done"]
    assert kinds.count("tool_result") == 1
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("done")
    call, outcome, done = (events[kinds.index(k)] for k in ("tool_call", "tool_result", "done"))
    assert call["tool_name"] == "search_replace"
    assert call["tool_args"]["file_path"] == SCHEMATIC
    assert (outcome["tool_call_id"], outcome["is_error"]) == ("call-edit", False)
    assert done["conversation_id"] == "conv-json-1"
    assert (done["provider"], done["billing"], done["model"]) == (
        "anthropic",
        "provider",
        "claude-sonnet-4-6",
    )
    assert done["masked_key"] == f"…{ANTHROPIC_KEY[-4:]}"
    assert done["usage"] == {"input_tokens": 40, "output_tokens": 9}
    assert (project / SCHEMATIC).read_text(encoding="utf-8") == EDITED


def test_provider_and_model_flags_apply_to_one_call_only(
    file_store: Backing, server: ProtocolServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_key()
    log_in()
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    server.add_turn(*ps.simple_turn("from openai")["steps"])
    server.add_turn(*ps.simple_turn("from anthropic")["steps"])

    once = chat(project, "hi", "--provider", "openai", "--model", "gpt-4.1")
    after = chat(project, "hi")

    assert once.code == after.code == 0, (once, after)
    first, second = bodies(server)
    assert (first["llm_provider"], first["llm_api_key"], first["llm_model_id"]) == (
        "openai",
        OPENAI_KEY,
        "gpt-4.1",
    )
    assert (second["llm_provider"], second["llm_api_key"], second["llm_model_id"]) == (
        "anthropic",
        ANTHROPIC_KEY,
        "claude-sonnet-4-6",
    )
    assert "billed to your own OpenAI account" in last_line(once.stderr)


def test_message_from_stdin_and_request_options_reach_the_backend(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(*ps.simple_turn("ok")["steps"])
    args = ["chat", "-", "--project", str(project), "--conversation", "conv-earlier"]
    args += ["--file", SCHEMATIC, "--app", "pcbnew", "--mode", "plan"]

    result = run(args, input="Where is U3?\nAnd U4?")

    assert result.code == 0, result
    [body] = bodies(server)
    assert body["message"] == "Where is U3?\nAnd U4?"
    assert (body["conversation_id"], body["file_path"]) == ("conv-earlier", SCHEMATIC)
    assert (body["app_type"], body["mode"]) == ("pcbnew", "plan")


@pytest.mark.parametrize("url", ["http://192.0.2.10:8000", "http://trace.example.com"])
def test_credentials_are_never_sent_over_plain_http_off_this_machine(
    file_store: Backing, url: str, project: Path
) -> None:
    set_key()
    env: dict[str, str | None] = {"TRACE_BASE_URL": url, "TRACE_API_TOKEN": TOKEN}

    result = chat(project, "hi", env_extra=env)

    assert result.code == 4, result
    assert "refusing to send credentials" in result.stderr
    assert "https://" in result.stderr
    assert result.seconds < 10  # refused at once, nothing was tried


def test_the_waiting_indicator_shows_on_a_terminal_before_the_first_token(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(ps.sleep(1.0), ps.text("answer"), ps.done())

    shown = run_in_terminal(
        ["chat", "hi", "--project", str(project)], typed="", wait_for="waiting for the model"
    )

    assert shown.code == 0, shown
    assert "waiting for the model" in shown.stdout
    assert "answer" in shown.stdout


def test_no_waiting_indicator_when_stderr_is_not_a_terminal(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(ps.sleep(0.5), ps.text("answer"), ps.done())

    result = chat(project, "hi")

    assert result.code == 0, result
    assert "waiting" not in result.stderr


# --- exit codes ------------------------------------------------------------------------------


def test_an_active_provider_without_a_key_exits_3_before_any_request(
    file_store: Backing, server: ProtocolServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    file_store.config.write_text('[llm]\nprovider = "openai"\n', encoding="utf-8")
    server.add_turn(*ps.simple_turn("never")["steps"])

    result = chat(project, "hi")

    assert result.code == 3, result
    assert "no API key for openai" in result.stderr
    assert "buildwithtrace byok set openai" in result.stderr
    assert server.requests == []


def test_not_logged_in_exits_3_before_any_request(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    server.add_turn(*ps.simple_turn("never")["steps"])

    result = chat(project, "hi")

    assert result.code == 3, result
    assert "not logged in" in result.stderr
    assert "buildwithtrace auth login" in result.stderr
    assert server.requests == []


def test_a_rejected_token_exits_3_with_the_login_fix(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    result = chat(project, "hi", env_extra={"TRACE_API_TOKEN": "expired-trace-token-0000"})

    assert result.code == 3, result
    assert "rejected the login token (401)" in result.stderr
    assert "fix: buildwithtrace auth login" in result.stderr


# (the turn's canned answer, the exit code, words the error must contain)
FAILURES: list[tuple[str, ps.Turn, int, tuple[str, ...]]] = [
    (
        "402",
        ps.turn(respond=[ps.respond(402)]),
        4,
        ("402 Payment Required", '"scripted 402"', "billed to your Trace plan", "byok set"),
    ),
    (
        "403",
        ps.turn(respond=[ps.respond(403)]),
        4,
        ("refused the request in agent mode", '"scripted 403"', "--mode ask"),
    ),
    (
        "503",
        ps.turn(respond=[ps.respond(503, retry_after=0, times=10)]),
        4,
        ("failed after 5 attempts", "HTTP 503"),
    ),
    (
        "no-done",
        ps.turn(ps.text("half an ans")),
        4,
        ("without a 'done' event",),
    ),
    (
        "drop",
        ps.turn(ps.text("half an ans"), ps.drop()),
        4,
        ("broke off", "not retried"),
    ),
]


@pytest.mark.parametrize(
    ("turn", "code", "words"),
    [f[1:] for f in FAILURES],
    ids=[f[0] for f in FAILURES],
)
def test_backend_failures_exit_4_with_a_message(
    file_store: Backing,
    server: ProtocolServer,
    project: Path,
    turn: ps.Turn,
    code: int,
    words: tuple[str, ...],
) -> None:
    log_in()
    server.load({"turns": [turn]})

    result = chat(project, "hi", "--mode", "agent")

    assert result.code == code, result
    error = result.stderr[result.stderr.index("error: ") :]
    for word in words:
        assert word in error, result
    assert "fix: " in error


def test_a_failure_mid_answer_still_ends_the_text_line(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(ps.text("half an ans"), ps.drop())

    result = chat(project, "hi")

    assert result.code == 4, result
    assert result.stdout == "half an ans\n"


@pytest.mark.parametrize(
    "turn",
    [ps.turn(ps.text("half"), ps.drop()), ps.turn(respond=[ps.respond(402)])],
    ids=["drop", "402"],
)
def test_with_json_a_failure_is_one_more_json_line(
    file_store: Backing, server: ProtocolServer, project: Path, turn: ps.Turn
) -> None:
    log_in()
    server.load({"turns": [turn]})

    result = chat(project, "hi", "--json")

    assert result.code == 4, result
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    failure = lines[-1]["error"]
    assert failure["exit_code"] == 4
    assert failure["type"] in ("BackendUnavailableError", "QuotaExhaustedError")
    assert failure["fix"]
    assert "error: " in result.stderr  # people still read the words on stderr


def test_402_with_byok_active_quotes_the_backend_and_does_not_blame_the_trace_budget(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    set_key()
    log_in()
    server.add_turn(respond=[ps.respond(402, {"detail": "Monthly request limit reached."})])

    result = chat(project, "hi")

    assert result.code == 4, result
    assert '"Monthly request limit reached."' in result.stderr
    assert "billed to your own Anthropic account" in result.stderr
    assert "budget is spent" not in result.stderr
    assert "byok set" not in result.stderr


@pytest.mark.parametrize("mode", ["ask", "plan", "agent"])
def test_403_quotes_the_backend_and_never_suggests_the_mode_that_was_refused(
    file_store: Backing, server: ProtocolServer, project: Path, mode: str
) -> None:
    log_in()
    server.add_turn(respond=[ps.respond(403, {"detail": "Agent mode requires a paid plan."})])

    result = chat(project, "hi", "--mode", mode)

    assert result.code == 4, result
    assert '"Agent mode requires a paid plan."' in result.stderr
    fix = result.stderr.split("fix: ", 1)[1]
    assert (f"--mode {mode}" in fix) is False
    assert ("--mode ask" in fix) is (mode != "ask")


def test_429_is_waited_out_and_the_answer_arrives(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(ps.text("patience pays"), ps.done(), respond=[ps.respond(429, retry_after=1)])

    result = chat(project, "hi")

    assert result.code == 0, result
    assert result.stdout == "patience pays\n"
    assert len(server.chat_requests) == 2


def test_a_malformed_event_is_reported_once_and_the_text_still_shows(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(ps.text("a"), ps.garbage(), ps.garbage(), ps.text("b"), ps.done())

    result = chat(project, "hi")

    assert result.code == 0, result
    assert result.stdout == "ab\n"
    assert result.stderr.count("malformed") == 1


# --- Ctrl-C ------------------------------------------------------------------------------------


def test_ctrl_c_mid_stream_exits_130_quickly_and_leaves_no_partial_file(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(
        ps.text("Editing… "),
        ps.tool_call(
            "call-write",
            "write",
            {"file_path": SCHEMATIC, "contents": EDITED + ";" + "x" * 200_000 + "\n"},
        ),
        ps.text("written; now thinking for a long time"),
        ps.sleep(60),
        ps.done(),
    )
    process = subprocess.Popen(
        [str(CLI), "chat", "edit", "--mode", "agent", "--project", str(project)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        deadline = time.monotonic() + 15
        while not server.tool_results and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.tool_results, "the tool result never arrived"
        time.sleep(0.3)  # the server is now stalling mid-stream
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
        took = time.monotonic() - interrupted_at
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130, (stdout, stderr)
    assert took < 5
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert stdout.startswith("Editing… written; now thinking")
    assert [p.name for p in project.iterdir()] == [SCHEMATIC]  # no *.tmp, hidden or not
    assert (project / SCHEMATIC).read_text(encoding="utf-8").startswith(EDITED + ";xxx")
    assert len(server.chat_requests) == 1


def test_ctrl_c_stops_a_running_eda_engine_at_once(
    file_store: Backing,
    server: ProtocolServer,
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kicad-cli runs in its own session, so the terminal's Ctrl-C never reaches it: we kill it."""
    pid_file = tmp_path / "kicad.pid"
    fake = tmp_path / "kicad-cli"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("TRACE_KICAD_CLI", str(fake))
    log_in()
    server.add_turn(
        ps.tool_call("call-erc", "get_erc_violations", {"file_path": SCHEMATIC}),
        ps.done(),
    )
    process = subprocess.Popen(
        [str(CLI), "chat", "check ERC", "--mode", "agent", "--project", str(project)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        deadline = time.monotonic() + 15
        while not (pid_file.exists() and pid_file.read_text().strip()):
            assert time.monotonic() < deadline, "the fake kicad-cli never started"
            time.sleep(0.05)
        engine_pid = int(pid_file.read_text())
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
        took = time.monotonic() - interrupted_at
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130, stderr
    assert took < 5
    with pytest.raises(ProcessLookupError):
        os.kill(engine_pid, 0)


# --- the canary --------------------------------------------------------------------------------


def _fragments(secret: str, prefix: str) -> list[str]:
    """The secret, its last 8 characters, and its random part minus the 4 a mask shows."""
    return [secret, secret[-8:], secret[len(prefix) : -4]]


def test_the_key_and_token_reach_the_server_and_nowhere_else(
    backing: Backing, server: ProtocolServer, project: Path
) -> None:
    key = f"sk-ant-canary-{uuid.uuid4().hex}"
    token = f"trace-canary-{uuid.uuid4().hex}"
    server.load({"token": token})
    cli = CliSession()
    assert cli.run("byok", "set", "anthropic", "--key-stdin", input=key).code == 0
    assert cli.run("auth", "login", "--token-stdin", input=token).code == 0
    agent_turn(server)
    server.add_turn(ps.text("json answer"), ps.done())
    # A backend that echoes the request in an error must not make us print it.
    echo = {"detail": f"invalid request: key={key} token={token}"}
    server.add_turn(respond=[ps.respond(400, echo)])
    server.add_turn(ps.text("cut"), ps.drop())

    codes = [
        cli.run("chat", "Make R1 4k7", "--mode", "agent", "--project", str(project)).code,
        cli.run("chat", "hi", "--json", "--project", str(project)).code,
        cli.run("chat", "hi", "--project", str(project)).code,
        cli.run("chat", "hi", "--json", "--project", str(project)).code,
        cli.run("auth", "status", "--json").code,
        cli.run("billing", "status").code,
    ]

    assert codes == [0, 0, 4, 4, 0, 0], cli.outputs()
    assert "invalid request" in cli.results[4].stderr  # the excerpt is shown, masked
    # The server got both, where they belong.
    chats = server.chat_requests
    assert len(chats) == 4
    assert all(r.body["llm_api_key"] == key for r in chats)
    assert all(r.authorization == f"Bearer {token}" for r in server.requests)
    assert all(key not in r.text for r in server.requests if r not in chats)
    # And nowhere else.
    secrets = [(key, "sk-ant-canary-"), (token, "trace-canary-")]
    for label, text in cli.outputs():
        for secret, prefix in secrets:
            for fragment in _fragments(secret, prefix):
                assert fragment not in text, f"{fragment!r} in {label}:\n{text}"
    for secret, prefix in secrets:
        for fragment in _fragments(secret, prefix):
            assert files_containing(project, fragment) == []
            found = {p.name for p in files_containing(backing.config_dir, fragment)}
            allowed = {"credentials.json"} if backing.kind == "file" else set()
            assert found <= allowed, (fragment, found)
    assert backing.secrets() == {"llm:anthropic": key, "trace:token": token}
    assert (project / SCHEMATIC).read_text(encoding="utf-8") == EDITED


# --- the order a user reads ------------------------------------------------------------


def read_then_answer(server: ProtocolServer) -> None:
    """Text, a tool call the backend waits for, two parallel calls, then more text."""
    server.add_turn(
        ps.text("Reading the schematic. "),
        ps.tool_call("t1", "read_file", {"target_file": SCHEMATIC}),
        ps.text("Now listing. "),
        ps.tool_call("t2", "list_dir", {}, wait=False),
        ps.tool_call("t3", "grep", {"pattern": "Value"}, wait=False),
        ps.await_results("t2", "t3"),
        ps.text("Done."),
        ps.done("conv-order"),
    )


def test_json_lines_come_in_the_order_things_happened(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    """Each tool_result follows its tool_call and precedes what the backend streamed once it
    had the result; parallel results carry their tool_call_id; done is last."""
    log_in()
    read_then_answer(server)

    result = chat(project, "check", "--json")

    assert result.code == 0, result
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    seen = [(d["type"], d.get("tool_call_id") or d.get("content")) for d in lines]
    at = {item: index for index, item in enumerate(seen)}
    assert seen[:4] == [
        ("text_delta", "Reading the schematic. "),
        ("tool_call", "t1"),
        ("tool_result", "t1"),
        ("text_delta", "Now listing. "),
    ]
    # t2 may finish before t3 is even called: each result follows its own call, and both
    # come before the text the backend sent once it had them.
    for call in ("t2", "t3"):
        assert at[("tool_call", call)] < at[("tool_result", call)] < at[("text_delta", "Done.")]
    assert len(seen) == 10
    assert seen[-2:] == [("text_delta", "Done."), ("done", None)]


def test_on_a_terminal_a_tool_line_starts_its_own_line(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    """The answer's open line is ended before a tool line, so it never reads as the answer."""
    log_in()
    read_then_answer(server)

    shown = run_in_terminal(
        ["chat", "check", "--project", str(project)], typed="", wait_for="conversation"
    )

    assert shown.code == 0, shown
    screen = shown.stdout.replace("\r\n", "\n")
    assert "Reading the schematic. \n  [read_file board.kicad_sch] ok\n" in screen
    assert "Now listing. \n" in screen


def test_a_done_without_a_conversation_id_says_so_instead_of_a_question_mark(
    file_store: Backing, server: ProtocolServer, project: Path
) -> None:
    log_in()
    server.add_turn(ps.text("ok"), ps.event({"type": "done"}))

    result = chat(project, "hi")

    assert result.code == 0, result
    summary = last_line(result.stderr)
    assert summary.startswith("no conversation id from the backend · trace")
    assert "conversation ?" not in result.stderr
