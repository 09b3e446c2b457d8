"""Keys where teams keep them (issue 13), as a user runs the CLI: subprocesses over the
real stores (the 0600 file, the real keychain), config.toml, the protocol server, real
helper programs and a local stub of the providers' models endpoints.

Every key used here is a canary: besides what each test checks, none may appear in any
output (beyond the four characters a masked key shows) or in any file but the secret
store.
"""

from __future__ import annotations

import json
import sys
import textwrap
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

from domain.provider import Provider
from tests.e2e.cli_runner import CliResult, CliSession, files_containing
from tests.e2e.conftest import Backing, config_text
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer
from tests.support.provider_stub import ProviderStub


def _key(prefix: str) -> str:
    return f"{prefix}canary{uuid.uuid4().hex}"


@pytest.fixture
def server(protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch) -> ProtocolServer:
    """The protocol server, TRACE_BASE_URL pointing at it, and the CLI logged in."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    return protocol_server


@pytest.fixture
def cli() -> CliSession:
    """A CLI session that remembers every run (for the canary checks)."""
    return CliSession()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory (the chat's --project)."""
    root = tmp_path / "client-a"
    root.mkdir()
    return root


def _helper(tmp_path: Path, body: str, name: str = "helper.py") -> str:
    """A helper program; the command that runs it. ``RUNS`` is its log of reasons."""
    path = tmp_path / name
    log = tmp_path / f"{name}.runs"
    path.write_text(
        f"import json, os, sys, time\nRUNS = {str(log)!r}\n"
        "open(RUNS, 'a').write(os.environ['TRACE_KEY_HELPER_REASON'] + '\\n')\n"
        + textwrap.dedent(body),
        encoding="utf-8",
    )
    return f"{sys.executable} {path}"


def _runs(tmp_path: Path, name: str = "helper.py") -> list[str]:
    log = tmp_path / f"{name}.runs"
    return log.read_text().split() if log.exists() else []


def _sent(server: ProtocolServer) -> list[str | None]:
    return [r.body.get("llm_api_key") for r in server.chat_requests]


def _lines(result: CliResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _assert_never_shown(cli: CliSession, config_dir: Path, *keys: str, stored: bool) -> None:
    """No key in any output; on disk only in credentials.json (if ``stored`` there)."""
    for key in keys:
        for fragment in (key, key[-8:], key[:-4][-16:]):
            for label, text in cli.outputs():
                assert fragment not in text, f"{fragment!r} in {label}"
        holders = {p.name for p in files_containing(config_dir, key)}
        assert holders <= ({"credentials.json"} if stored else set()), holders


# --- named keys ----------------------------------------------------------------------------


def test_named_keys_through_set_use_status_chat_and_remove(
    backing: Backing, server: ProtocolServer, project: Path, cli: CliSession
) -> None:
    default, work = _key("sk-ant-"), _key("sk-ant-")
    server.load({"turns": [ps.simple_turn("a"), ps.simple_turn("b")]})

    assert cli.run("byok", "set", "anthropic", "--key-stdin", input=default).code == 0
    named = cli.run(
        "byok", "set", "anthropic", "--name", "work", "--key-stdin", "--json", input=work
    )
    assert named.code == 0, named
    assert named.json()["key_name"] == "work"
    assert backing.secrets() == {"llm:anthropic": default, "llm:anthropic:work": work}
    status = cli.run("byok", "status", "--json")
    row = next(r for r in status.json()["providers"] if r["provider"] == "anthropic")
    assert (row["key_name"], row["key"]["source"]) == ("work", f"{backing.kind}:work")
    assert status.json()["named_keys"] == [
        {
            "provider": "anthropic",
            "name": "work",
            "key": {
                "present": True,
                "source": f"{backing.kind}:work",
                "masked": "…" + work[-4:],
                "helper": None,
                "error": None,
            },
        }
    ]
    assert cli.run("chat", "hi", "--project", str(project)).code == 0
    assert cli.run("byok", "use", "anthropic").code == 0  # its default key again
    assert cli.run("chat", "hi", "--project", str(project)).code == 0
    assert _sent(server) == [work, default]

    removed = cli.run("byok", "remove", "anthropic", "--name", "work", "--json")
    assert removed.json()["removed"] is True and removed.json()["reverted_to_trace"] is False
    assert backing.secrets() == {"llm:anthropic": default}
    assert "[keys.anthropic.work]" not in config_text(backing.config_dir)
    bad = cli.run("byok", "set", "anthropic", "--name", "Client A", "--key-stdin", input=work)
    assert bad.code == 2 and "invalid key name" in bad.stderr
    _assert_never_shown(cli, backing.config_dir, default, work, stored=backing.kind == "file")


# --- helper commands ------------------------------------------------------------------------


def test_a_helper_runs_only_when_a_request_needs_its_key(
    file_store: Backing, server: ProtocolServer, project: Path, cli: CliSession, tmp_path: Path
) -> None:
    key = _key("sk-ant-")
    command = _helper(tmp_path, f"print({key!r})")
    server.load({"turns": [ps.simple_turn("hello")]})

    stored = cli.run("byok", "set", "anthropic", "--helper", command, "--json")
    assert stored.code == 0, stored
    assert stored.json()["stored_in"] == "config" and stored.json()["helper"] == command
    config = tomllib.loads(config_text(file_store.config_dir))
    assert config["keys"]["anthropic"] == {"helper": command}
    assert file_store.secrets() == {}

    text = cli.run("byok", "status")
    assert "helper (python" in text.stdout and "not run" in text.stdout
    quiet = cli.run("byok", "status", "--json")
    anthropic = next(r for r in quiet.json()["providers"] if r["provider"] == "anthropic")
    assert anthropic["key"] == {
        "present": True,
        "source": "helper",
        "masked": None,
        "helper": command,
        "error": None,
    }
    assert _runs(tmp_path) == []  # status never runs a helper unless asked
    ran = cli.run("byok", "status", "--run-helpers", "--json")
    anthropic = next(r for r in ran.json()["providers"] if r["provider"] == "anthropic")
    assert anthropic["key"]["masked"] == "…" + key[-4:]
    assert _runs(tmp_path) == ["status"]

    chat = cli.run("chat", "hi", "--project", str(project))
    assert chat.code == 0, chat
    assert "key …" + key[-4:] + " from helper" in chat.stderr
    assert _runs(tmp_path) == ["status", "chat"]
    assert _sent(server) == [key]
    _assert_never_shown(cli, file_store.config_dir, key, stored=False)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("time.sleep(600)", "did not finish within 1 s and was stopped"),
        ("print('Enter the password for my.1password.com:')", "more than one word"),
        ("pass", "printed nothing"),
        (
            "print(KEY)\n"
            "sys.stderr.write('vault: permission denied for ' + KEY + '\\n')\n"
            "sys.exit(2)",
            "exited with status 2: vault: permission denied for",
        ),
    ],
    ids=["hangs", "garbage", "nothing", "fails"],
)
def test_a_failing_helper_stops_the_chat_with_a_clear_error(
    file_store: Backing,
    server: ProtocolServer,
    project: Path,
    cli: CliSession,
    tmp_path: Path,
    body: str,
    words: str,
) -> None:
    key = _key("sk-ant-")
    command = _helper(tmp_path, f"KEY = {key!r}\n{body}")
    assert cli.run("config", "set", "keys.helper_timeout", "1").code == 0
    assert cli.run("byok", "set", "anthropic", "--helper", command).code == 0

    chat = cli.run("chat", "hi", "--project", str(project))

    assert chat.code == 3, chat
    assert "error: anthropic: the key helper" in chat.stderr and words in chat.stderr
    assert server.chat_requests == []
    _assert_never_shown(cli, file_store.config_dir, key, stored=False)


def test_a_key_printed_with_whitespace_around_it_works(
    file_store: Backing, server: ProtocolServer, project: Path, cli: CliSession, tmp_path: Path
) -> None:
    key = _key("sk-proj-")
    command = _helper(tmp_path, f"sys.stdout.write('\\n  {key} \\r\\n\\n')")
    server.load({"turns": [ps.simple_turn("ok")]})
    assert cli.run("byok", "set", "openai", "--helper", command).code == 0
    assert cli.run("chat", "hi", "--project", str(project)).code == 0
    assert _sent(server) == [key]


def test_an_expiring_key_the_provider_rejects_is_fetched_again_and_retried(
    file_store: Backing, server: ProtocolServer, project: Path, cli: CliSession, tmp_path: Path
) -> None:
    old, new = _key("sk-ant-"), _key("sk-ant-")
    command = _helper(
        tmp_path,
        f"""
        first = len(open(RUNS).read().split()) == 1
        print(json.dumps({{"key": {old!r} if first else {new!r},
                          "expires_at": "2099-12-31T23:59:59Z"}}))
        """,
    )
    server.load({"reject_keys": [old], "turns": [ps.simple_turn("answered with the new key")]})
    assert cli.run("byok", "set", "anthropic", "--helper", command).code == 0

    chat = cli.run("chat", "hi", "--project", str(project), "--json")

    assert chat.code == 0, chat
    lines = _lines(chat)
    assert lines[0]["type"] == "notice" and lines[0]["code"] == "key_refreshed"
    assert "anthropic rejected the key from helper; ran the helper again" in lines[0]["message"]
    assert [line["type"] for line in lines[1:]] == ["text_delta", "done"]
    assert lines[-1]["masked_key"] == "…" + new[-4:] and lines[-1]["errors"] == []
    assert _sent(server) == [old, new]
    assert _runs(tmp_path) == ["chat", "chat"]
    _assert_never_shown(cli, file_store.config_dir, old, new, stored=False)


# --- verifying a key ------------------------------------------------------------------------


def test_set_verify_stores_valid_keys_refuses_rejected_ones_and_doctor_checks_them(
    backing: Backing,
    provider_stub: ProviderStub,
    cli: CliSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in provider_stub.env().items():
        monkeypatch.setenv(name, value)
    good, bad = _key("sk-ant-"), _key("AIza")
    provider_stub.valid[Provider.ANTHROPIC].add(good)

    valid = cli.run("byok", "set", "anthropic", "--verify", "--key-stdin", "--json", input=good)
    assert valid.code == 0, valid
    assert valid.json()["verification"]["verdict"] == "valid"
    rejected = cli.run("byok", "set", "gemini", "--verify", "--key-stdin", input=bad)
    assert rejected.code == 2, rejected
    assert "gemini rejected the key (HTTP 400); it was not stored" in rejected.stderr
    assert "llm:gemini" not in backing.secrets()
    forced = cli.run("byok", "set", "gemini", "--verify", "--force", "--key-stdin", input=bad)
    assert forced.code == 0 and "stored anyway" in forced.stderr
    assert backing.secrets()["llm:gemini"] == bad

    assert cli.run("byok", "use", "anthropic").code == 0
    ok = cli.run("byok", "verify", "anthropic", "--json")
    assert ok.code == 0 and ok.json()["verdict"] == "valid"
    assert ok.json()["source"] == backing.kind
    no = cli.run("byok", "verify", "gemini")
    assert no.code == 2 and no.stdout.startswith("rejected: Gemini rejected the key")
    provider_stub.behaviour[Provider.ANTHROPIC] = "error"
    down = cli.run("byok", "verify", "anthropic")
    assert down.code == 4 and "unreachable" in down.stdout
    provider_stub.behaviour.clear()

    doctor = cli.run("doctor", "--verify", "--json")
    assert doctor.code == 2, doctor  # the rejected Gemini key
    checks = {c["name"]: c for c in doctor.json()["checks"]}
    assert checks["verify: anthropic"]["verdict"] == "ok"
    assert checks["verify: gemini"]["verdict"] == "fail"
    assert all(r.query == "" for r in provider_stub.requests)  # keys in headers only
    _assert_never_shown(cli, backing.config_dir, good, bad, stored=backing.kind == "file")


# --- project files --------------------------------------------------------------------------


def test_a_project_file_applies_once_allowed_and_again_after_a_change(
    file_store: Backing, server: ProtocolServer, project: Path, cli: CliSession
) -> None:
    mine, client = _key("sk-ant-"), _key("sk-proj-")
    assert (
        cli.run("byok", "set", "openai", "--name", "client-a", "--key-stdin", input=client).code
        == 0
    )
    assert cli.run("byok", "set", "anthropic", "--key-stdin", input=mine).code == 0
    trace_toml = project / "trace.toml"
    trace_toml.write_text(
        '[llm]\nprovider = "openai"\nkey_name = "client-a"\nmodel = "gpt-4.1"\n', encoding="utf-8"
    )
    server.load({"turns": [ps.simple_turn(str(n)) for n in range(3)]})

    ignored = cli.run("chat", "hi", "--project", str(project))
    assert ignored.code == 0, ignored
    notice = (
        f"note: ignored {trace_toml} (not allowed yet): run buildwithtrace project allow {project}"
    )
    assert ignored.stderr.startswith(notice)
    status = cli.run("byok", "status", "--project", str(project))
    assert f"ignored {trace_toml} (not allowed yet)" in status.stdout

    allowed = cli.run("project", "allow", str(project), "--json")
    assert allowed.code == 0, allowed
    assert allowed.json()["project"]["state"] == "allowed"
    chosen = cli.run("chat", "hi", "--project", str(project))
    assert chosen.code == 0, chosen
    assert (
        f"openai (gpt-4.1), key …{client[-4:]} from file:client-a (chosen by {trace_toml})"
        in chosen.stderr
    )
    status = cli.run("byok", "status", "--json", "--project", str(project))
    assert status.json()["project"]["state"] == "allowed"
    assert status.json()["effective_provider"] == "openai"

    trace_toml.write_text('[llm]\nprovider = "openai"\n', encoding="utf-8")
    changed = cli.run("chat", "hi", "--project", str(project), "--json")
    assert _lines(changed)[0] == {
        "type": "notice",
        "code": "project_ignored",
        "message": f"ignored {trace_toml} (changed since you allowed it): run buildwithtrace "
        f"project allow {project}",
    }
    assert [r.body["llm_provider"] for r in server.chat_requests] == [
        "anthropic",
        "openai",
        "anthropic",
    ]
    assert [r.body.get("llm_model_id") for r in server.chat_requests][1] == "gpt-4.1"
    _assert_never_shown(cli, file_store.config_dir, mine, client, stored=True)
    assert files_containing(project, client[-12:]) == []


def test_a_project_file_that_holds_a_command_is_refused_and_runs_nothing(
    file_store: Backing, server: ProtocolServer, project: Path, cli: CliSession, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    (project / "trace.toml").write_text(
        f'[llm]\nprovider = "anthropic"\nhelper = "touch {marker}"\n', encoding="utf-8"
    )
    assert cli.run("byok", "set", "anthropic", "--key-stdin", input=_key("sk-ant-")).code == 0

    chat = cli.run("chat", "hi", "--project", str(project))
    allow = cli.run("project", "allow", str(project))

    for result in (chat, allow):
        assert result.code == 2, result
        assert (
            "llm.helper looks like a command; a project file never holds commands" in result.stderr
        )
    assert server.chat_requests == [] and not marker.exists()
    assert "projects" not in config_text(file_store.config_dir)


# --- no surprise bills ------------------------------------------------------------------------


def test_an_env_key_over_the_stored_key_is_said_before_the_request_or_refused(
    file_store: Backing, server: ProtocolServer, project: Path, cli: CliSession
) -> None:
    stored, env = _key("sk-ant-"), _key("sk-ant-")
    assert cli.run("byok", "set", "anthropic", "--key-stdin", input=stored).code == 0
    server.load({"turns": [ps.simple_turn("a"), ps.simple_turn("b")]})
    variables = {"ANTHROPIC_API_KEY": env}

    text = cli.run("chat", "hi", "--project", str(project), env_extra=variables)
    assert text.code == 0, text
    assert text.stderr.startswith(
        "note: ANTHROPIC_API_KEY is set: its key is used for anthropic instead of your stored "
        "key (file); unset ANTHROPIC_API_KEY to use yours\n"
    )
    lines = _lines(cli.run("chat", "hi", "--project", str(project), "--json", env_extra=variables))
    assert lines[0]["type"] == "notice" and lines[0]["code"] == "env_override"

    assert cli.run("config", "set", "keys.env_override", "error").code == 0
    refused = cli.run("chat", "hi", "--project", str(project), env_extra=variables)
    assert refused.code == 3, refused
    assert (
        "fix: unset ANTHROPIC_API_KEY   (or: buildwithtrace config set keys.env_override warn)"
        in refused.stderr
    )
    assert _sent(server) == [env, env]  # the refused chat sent nothing
    listed = cli.run("config", "get", "keys.env_override", "--json")
    assert listed.json()["value"] == "error"
    _assert_never_shown(cli, file_store.config_dir, stored, env, stored=True)
