"""Test isolation shared by every tier: own config dir, clean environment, own keychain service."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.support.keychain",
    "tests.support.protocol_server",
    "tests.support.provider_stub",
    "tests.reliability.plugin",
]

# Variables that would leak the developer's real keys or settings into a test.
_SCRUBBED_PREFIXES = ("TRACE_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_API")
_SCRUBBED_NAMES = ("PYTHON_KEYRING_BACKEND", "XDG_CONFIG_HOME", "DISPLAY")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Give each test its own config dir and keychain service, and no provider keys in env."""
    import os

    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) or name in _SCRUBBED_NAMES:
            monkeypatch.delenv(name, raising=False)
    config_dir = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("TRACE_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("TRACE_KEYCHAIN_SERVICE", f"buildwithtrace-test-{uuid.uuid4().hex[:12]}")
    yield config_dir
