"""`credentials.store = auto`: the keychain when it works, else the 0600 file, said once."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest

from tests.e2e.cli_runner import NO_BUS, run
from tests.e2e.conftest import SecretService, active_provider, file_secrets

UNUSABLE = "keychain is not usable"


def _key(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def test_auto_falls_back_to_the_file_and_says_so_once(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", NO_BUS)  # TRACE_CREDENTIALS_STORE is unset
    anthropic, openai = _key("sk-ant-"), _key("sk-proj-")
    credentials = config_dir / "credentials.json"

    stored = run(["byok", "set", "anthropic", "--key-stdin"], input=anthropic)
    again = run(["byok", "set", "openai", "--key-stdin"], input=openai)
    status = run(["byok", "status", "--json"])
    removed = run(["byok", "remove", "anthropic"])

    for result in (stored, again, status, removed):
        assert result.code == 0, result
        assert result.stderr.count(UNUSABLE) <= 1, result
    (notice,) = [line for line in stored.stderr.splitlines() if UNUSABLE in line]
    assert str(credentials) in notice  # where the key went
    assert "0600" in notice
    assert UNUSABLE not in stored.stdout
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    report = status.json()
    assert report["secret_store"]["kind"] == "file"
    assert report["secret_store"]["detail"].startswith(str(credentials))
    sources = {row["provider"]: row["key"]["source"] for row in report["providers"]}
    assert sources == {"anthropic": "file", "openai": "file", "gemini": None, "trace": None}
    assert file_secrets(config_dir) == {"llm:openai": openai}
    assert active_provider(config_dir) == "openai"


@pytest.mark.keychain
def test_auto_uses_the_keychain_when_it_works(
    config_dir: Path, secret_service: SecretService
) -> None:
    service = os.environ["TRACE_KEYCHAIN_SERVICE"]
    anthropic = _key("sk-ant-")

    try:
        stored = run(["byok", "set", "anthropic", "--key-stdin"], input=anthropic)
        status = run(["byok", "status", "--json"])
        in_keychain = secret_service.accounts(service)
    finally:
        secret_service.forget(service)

    assert stored.code == 0, stored
    assert UNUSABLE not in stored.stderr
    assert "in the OS keychain" in stored.stdout
    assert status.json()["secret_store"] == {"kind": "keychain", "detail": "Secret Service"}
    assert in_keychain == {"llm:anthropic": anthropic}
    assert not (config_dir / "credentials.json").exists()


@pytest.mark.keychain
def test_status_reads_every_key_from_the_keychain_in_one_round(
    config_dir: Path, secret_service: SecretService
) -> None:
    """One connection, one search, one session, one fetch for all providers (issue 14)."""
    service = os.environ["TRACE_KEYCHAIN_SERVICE"]
    anthropic, openai = _key("sk-ant-"), _key("sk-proj-")
    try:
        assert run(["byok", "set", "anthropic", "--key-stdin"], input=anthropic).code == 0
        assert run(["byok", "set", "openai", "--key-stdin"], input=openai).code == 0
        with secret_service.watch() as calls:
            status = run(["byok", "status", "--json"])
    finally:
        secret_service.forget(service)

    assert status.code == 0, status
    sources = {row["provider"]: row["key"]["source"] for row in status.json()["providers"]}
    assert sources == {"anthropic": "keychain", "openai": "keychain", "gemini": None, "trace": None}
    secret_calls = [c for c in calls if c.startswith("org.freedesktop.Secret.")]
    assert secret_calls.count("org.freedesktop.Secret.Collection.SearchItems") == 1, calls
    assert secret_calls.count("org.freedesktop.Secret.Service.OpenSession") == 1, calls
    assert secret_calls.count("org.freedesktop.Secret.Service.GetSecrets") == 1, calls
    assert "org.freedesktop.Secret.Item.GetSecret" not in secret_calls
    assert not [c for c in calls if c.endswith((".Unlock", ".Prompt"))]
