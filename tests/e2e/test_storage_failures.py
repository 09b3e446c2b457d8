"""Local storage failures: exit 5, the file named with its fix, and the file left byte for byte."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.cli_runner import NO_BUS, run, snapshot
from tests.e2e.conftest import Backing, file_secrets
from tests.support.keychain import silent_socket


def _key(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def test_corrupt_config_stops_every_command_and_is_left_unchanged(file_store: Backing) -> None:
    openai = _key("sk-proj-")
    assert run(["byok", "set", "openai", "--key-stdin"], input=openai).code == 0
    file_store.config.write_bytes(b'[llm\nprovider = "openai"\n')
    before = snapshot(file_store.config_dir)

    results = [
        run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-")),
        run(["byok", "use", "trace"]),
        run(["byok", "status"]),
        run(["config", "set", "backend.env", "local"]),
        run(["doctor"]),
    ]
    as_json = run(["doctor", "--json"])

    for result in [*results, as_json]:
        assert result.code == 5, result
        assert str(file_store.config) in result.stdout + result.stderr, result
        assert "corrupt" in result.stdout + result.stderr, result
        assert snapshot(file_store.config_dir) == before, f"files changed by: {result}"
    assert file_secrets(file_store.config_dir) == {"llm:openai": openai}  # anthropic not stored
    report = as_json.json()
    assert report["ok"] is False
    config_check = {c["name"]: c for c in report["checks"]}["config"]
    assert config_check["verdict"] == "fail"
    assert f"mv {file_store.config}" in config_check["fix"]


def _corrupt(backing: Backing) -> str:
    backing.credentials.write_bytes(b'{"version": 1, "secrets": {"llm:openai": ')
    return "corrupt"


def _readable_by_others(backing: Backing) -> str:
    backing.credentials.chmod(0o644)
    return f"chmod 600 {backing.credentials}"


def _directory_open_to_others(backing: Backing) -> str:
    backing.config_dir.chmod(0o755)
    return f"chmod 700 {backing.config_dir}"


@pytest.mark.parametrize(
    "damage",
    [_corrupt, _readable_by_others, _directory_open_to_others],
    ids=["corrupt", "mode-0644", "dir-mode-0755"],
)
def test_unusable_credentials_file_stops_commands_and_stays_untouched(
    file_store: Backing, damage: Callable[[Backing], str]
) -> None:
    assert run(["byok", "set", "openai", "--key-stdin"], input=_key("sk-proj-")).code == 0
    expected = damage(file_store)
    before = snapshot(file_store.config_dir)

    stored = run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-"))
    status = run(["byok", "status", "--json"])

    for result in (stored, status):
        assert result.code == 5, result
        assert expected in result.stdout + result.stderr, result
        assert snapshot(file_store.config_dir) == before, f"files changed by: {result}"
    error = status.json()["error"]
    assert error["exit_code"] == 5
    assert expected in error["problem"] + error["fix"]


def test_keychain_only_without_a_keychain_fails_fast_and_writes_nothing(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "keychain")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", NO_BUS)

    stored = run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-"))
    status = run(["byok", "status", "--json"])

    for result in (stored, status):
        assert result.code == 5, result
        assert result.seconds < 5, result
    assert "keychain is not usable" in stored.stderr
    assert "credentials.store file" in stored.stderr  # the way out
    assert status.json()["error"]["type"] == "KeychainUnavailableError"
    assert list(config_dir.iterdir()) == []  # no key in a file, and no provider switched


def test_a_keychain_that_never_answers_does_not_hang_the_cli(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "keychain")
    with silent_socket(tmp_path / "bus") as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        result = run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-"))

    assert result.code == 5, result
    # D-Bus's own timeout or our bound (3 s by default) ends the wait, once per command.
    assert result.seconds < 6, result
    assert "did not answer" in result.stderr
    assert list(config_dir.iterdir()) == []
