"""The composition root: every provider builds what it names, store choice, one environment,
one close, notices to the sink, lazy imports."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from dependency_injector import providers

from adapters.backend.scripted import ScriptedTraceBackend
from adapters.environment import MappingEnvironment
from adapters.login.device import DeviceCodeLogin
from adapters.secrets.fallback import FallbackSecretStore
from adapters.secrets.file import FileSecretStore
from adapters.secrets.keychain import KeyringSecretStore
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.caching import CachingSettingsStore
from adapters.settings.memory import InMemorySettingsStore
from adapters.tools.local import LocalToolRunner
from domain.errors import InvalidSettingError
from domain.provider import Provider
from domain.runtime import RuntimeConfig
from entrypoints.runtime import Runtime


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TRACE_CONFIG_DIR": str(tmp_path / "config"),
        "TRACE_BASE_URL": "http://127.0.0.1:9",
        **extra,
    }


# What each adapter provider must build, real and in memory.
REAL = {
    "environment": MappingEnvironment,
    "settings": CachingSettingsStore,
    "config": RuntimeConfig,
    "keychain": KeyringSecretStore,
    "credentials_file": FileSecretStore,
    "chosen_store": FallbackSecretStore,
    "secrets": FallbackSecretStore,
    "browser_login": DeviceCodeLogin,
}
MEMORY = {
    "environment": MappingEnvironment,
    "settings": InMemorySettingsStore,
    "config": RuntimeConfig,
    "secrets": InMemorySecretStore,
    "backend": ScriptedTraceBackend,
    "browser_login": DeviceCodeLogin,
}


def _built_class(provides: object) -> type:
    """The class a provider builds: itself, or the one a ``deferred`` path names."""
    if isinstance(provides, type):
        return provides
    found = re.fullmatch(r"deferred\('([\w.]+):(\w+)'\)", getattr(provides, "__qualname__", ""))
    assert found is not None, provides
    built: type = getattr(importlib.import_module(found[1]), found[2])
    return built


@pytest.mark.parametrize("in_memory", [False, True], ids=["real", "in-memory"])
def test_every_provider_builds_what_it_names(tmp_path: Path, in_memory: bool) -> None:
    runtime = Runtime(_env(tmp_path), in_memory=in_memory)
    adapters = cast("dict[str, Any]", runtime.adapters.providers)
    expected = MEMORY if in_memory else REAL
    for name, kind in expected.items():
        assert isinstance(adapters[name](), kind), name
    runner = adapters["tool_runner"](str(tmp_path))
    assert isinstance(runner, LocalToolRunner)
    assert runner.root == tmp_path.resolve()
    use_cases = cast("dict[str, Any]", runtime.use_cases.providers)
    built = 0
    for name, provider in use_cases.items():
        if isinstance(provider, providers.Factory | providers.Singleton):
            assert isinstance(provider(), _built_class(provider.provides)), name
            built += 1
    assert built >= 17  # every use-case and service, not an empty container
    runtime.close()


def test_the_real_backend_is_http_and_closed_with_the_runtime(tmp_path: Path) -> None:
    from adapters.backend.http.client import HttpTraceBackend

    runtime = Runtime(_env(tmp_path))
    backend = runtime.adapters.backend()
    assert isinstance(backend, HttpTraceBackend)
    assert runtime.adapters.backend() is backend  # one connection pool per runtime
    runtime.close()
    runtime.close()  # idempotent
    assert backend._closed


@pytest.mark.parametrize(
    ("choice", "kind"),
    [("file", FileSecretStore), ("keychain", KeyringSecretStore), ("auto", FallbackSecretStore)],
)
def test_the_credentials_store_setting_picks_the_adapter(
    tmp_path: Path, choice: str, kind: type
) -> None:
    runtime = Runtime(_env(tmp_path, TRACE_CREDENTIALS_STORE=choice))
    assert isinstance(runtime.adapters.secrets(), kind)


def test_an_unknown_store_choice_is_refused_with_the_fix(tmp_path: Path) -> None:
    runtime = Runtime(_env(tmp_path, TRACE_CREDENTIALS_STORE="vault"))
    with pytest.raises(InvalidSettingError) as caught:
        runtime.adapters.secrets()
    assert "TRACE_CREDENTIALS_STORE" in caught.value.message


def test_the_env_given_to_the_runtime_is_the_one_the_use_cases_read(tmp_path: Path) -> None:
    env = _env(tmp_path, OPENAI_API_KEY="sk-proj-container-env-key-7777")
    lookup = Runtime(env).use_cases.key_resolution().for_provider(Provider.OPENAI)
    assert lookup.winner is not None
    assert lookup.winner.source.label == "env:OPENAI_API_KEY"


def test_the_keyring_backend_variable_reaches_the_keychain_store(tmp_path: Path) -> None:
    env = _env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    keychain = Runtime(env).adapters.keychain()
    assert keychain.info().detail == "keyring.backends.null.Keyring (from PYTHON_KEYRING_BACKEND)"


@pytest.fixture
def no_keychain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point D-Bus (read by keyring from the process) at a socket that does not exist."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")


@pytest.mark.usefixtures("no_keychain")
def test_fall_back_notices_reach_the_sink_given_to_the_runtime(tmp_path: Path) -> None:
    told: list[str] = []
    runtime = Runtime(_env(tmp_path), notify=told.append)
    runtime.use_cases.set_key().execute(Provider.ANTHROPIC, _secret())
    assert len(told) == 1
    assert "the key was stored in" in told[0]
    assert runtime.notices() == []  # a sink was given: nothing is kept besides


@pytest.mark.usefixtures("no_keychain")
def test_without_a_sink_notices_are_kept_until_drained(tmp_path: Path) -> None:
    runtime = Runtime(_env(tmp_path))
    runtime.use_cases.set_key().execute(Provider.ANTHROPIC, _secret())
    (notice,) = runtime.notices()
    assert "the key was stored in" in notice
    assert runtime.notices() == []


def _secret() -> Any:
    from domain.secret import Secret

    return Secret.parse("sk-ant-api03-container-test-key-0001", "anthropic")


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
        "heavy = ['httpx', 'keyring', 'secretstorage', 'tomlkit', 're2']\n"
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
