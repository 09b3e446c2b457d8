"""The composition root: every provider builds, store choice, one environment, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from adapters.secrets.fallback import FallbackSecretStore
from adapters.secrets.file import FileSecretStore
from adapters.secrets.keychain import KeyringSecretStore
from domain.errors import InvalidSettingError
from domain.provider import Provider
from entrypoints.container import build_container


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TRACE_CONFIG_DIR": str(tmp_path / "config"),
        "TRACE_BASE_URL": "http://127.0.0.1:9",
        **extra,
    }


@pytest.mark.parametrize("in_memory", [False, True], ids=["real", "in-memory"])
def test_every_provider_of_the_container_builds(tmp_path: Path, in_memory: bool) -> None:
    from entrypoints.container import InMemoryAdapters

    container = build_container(_env(tmp_path), in_memory=in_memory)
    # In memory, only what InMemoryAdapters provides replaces the real adapters.
    memory_names = set(InMemoryAdapters.providers)
    built: list[tuple[str, object]] = []
    for group in (container.adapters, container.use_cases):
        members = cast("dict[str, Any]", group.providers)
        for name, provider in members.items():
            skip = name in {"config", "adapters"} or (
                in_memory and group is container.adapters and name not in memory_names
            )
            if not skip:
                built.append((name, provider()))
    names = {name for name, _ in built}
    assert {"secrets", "settings", "environment", "backend", "tool_runner"} <= names
    assert {"set_key", "show_status", "chat", "login", "billing_status", "doctor"} <= names
    assert all(instance is not None for _, instance in built if _ != "explicit_token")


@pytest.mark.parametrize(
    ("choice", "kind"),
    [("file", FileSecretStore), ("keychain", KeyringSecretStore), ("auto", FallbackSecretStore)],
)
def test_the_credentials_store_setting_picks_the_adapter(
    tmp_path: Path, choice: str, kind: type
) -> None:
    container = build_container(_env(tmp_path, TRACE_CREDENTIALS_STORE=choice))
    assert isinstance(container.adapters.secrets(), kind)


def test_an_unknown_store_choice_is_refused_with_the_fix(tmp_path: Path) -> None:
    container = build_container(_env(tmp_path, TRACE_CREDENTIALS_STORE="vault"))
    with pytest.raises(InvalidSettingError) as caught:
        container.adapters.secrets()
    assert "TRACE_CREDENTIALS_STORE" in caught.value.message


def test_the_env_given_to_the_container_is_the_one_the_use_cases_read(tmp_path: Path) -> None:
    env = _env(tmp_path, OPENAI_API_KEY="sk-proj-container-env-key-7777")
    lookup = build_container(env).use_cases.resolve_key().for_provider(Provider.OPENAI)
    assert lookup.winner is not None
    assert lookup.winner.source.label == "env:OPENAI_API_KEY"


def test_byok_status_with_the_file_store_imports_no_network_or_keychain_library(
    tmp_path: Path,
) -> None:
    """Start-up speed: a command that needs neither never pays for httpx or keyring."""
    code = (
        "import sys\n"
        "from entrypoints.cli.app import run\n"
        "try:\n"
        "    run(['byok', 'status', '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ['httpx', 'keyring', 'secretstorage', 'tomlkit']\n"
        "print(__import__('json').dumps([m for m in heavy if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**_env(tmp_path, TRACE_CREDENTIALS_STORE="file"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
