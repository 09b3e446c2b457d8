"""Fixtures of the e2e tier: the config dir, and the secret store a test runs against."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import attrs
import pytest

CREDENTIALS = "credentials.json"
CONFIG = "config.toml"


class SecretService(Protocol):
    """What these tests use of tests.support.keychain's running Secret Service."""

    @property
    def address(self) -> str:
        """The D-Bus address of its bus."""
        ...

    def accounts(self, service: str) -> dict[str, str]:
        """Every item stored under keyring's ``service`` attribute: username -> secret."""
        ...

    def forget(self, service: str) -> None:
        """Delete every item stored under ``service``."""
        ...

    def watch(self) -> AbstractContextManager[list[str]]:
        """Record the ``interface.member`` of every method call to the Secret Service."""
        ...


@attrs.frozen
class Backing:
    """The secret store the CLI uses in a test, and how to look inside it behind the CLI's back."""

    kind: str  # "file" or "keychain": the value of TRACE_CREDENTIALS_STORE
    config_dir: Path
    service: str  # the keychain service name (TRACE_KEYCHAIN_SERVICE)
    secret_service: SecretService | None = None

    @property
    def credentials(self) -> Path:
        """The fallback file's path."""
        return self.config_dir / CREDENTIALS

    @property
    def config(self) -> Path:
        """config.toml's path."""
        return self.config_dir / CONFIG

    def secrets(self) -> dict[str, str]:
        """Everything the store holds: account -> secret."""
        if self.secret_service is not None:
            return self.secret_service.accounts(self.service)
        return file_secrets(self.config_dir)

    def drop(self, account: str) -> None:
        """Delete ``account`` without the CLI, as another tool (or the user) could."""
        if self.secret_service is not None:
            import secretstorage
            from jeepney.io.blocking import open_dbus_connection

            with open_dbus_connection(bus=self.secret_service.address) as bus:
                collection = secretstorage.Collection(bus)
                for item in collection.search_items({"service": self.service, "username": account}):
                    item.delete()
            return
        data = json.loads(self.credentials.read_text(encoding="utf-8"))
        del data["secrets"][account]
        self.credentials.write_text(json.dumps(data), encoding="utf-8")


def file_secrets(config_dir: Path) -> dict[str, str]:
    """The secrets in credentials.json ({} when it does not exist)."""
    path = config_dir / CREDENTIALS
    if not path.exists():
        return {}
    secrets: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["secrets"]
    return secrets


def config_text(config_dir: Path) -> str:
    """config.toml's text ('' when it does not exist)."""
    path = config_dir / CONFIG
    return path.read_text(encoding="utf-8") if path.exists() else ""


def active_provider(config_dir: Path) -> str | None:
    """``llm.provider`` as stored in config.toml, read without our code."""
    import tomllib

    path = config_dir / CONFIG
    if not path.exists():
        return None
    value = tomllib.loads(path.read_text(encoding="utf-8")).get("llm", {}).get("provider")
    return None if value is None else str(value)


def stored_models(config_dir: Path) -> dict[str, str]:
    """``llm.models`` as stored in config.toml, read without our code."""
    import tomllib

    path = config_dir / CONFIG
    if not path.exists():
        return {}
    models = tomllib.loads(path.read_text(encoding="utf-8")).get("llm", {}).get("models", {})
    return {str(k): str(v) for k, v in models.items()}


@pytest.fixture
def config_dir(isolated_env: Path) -> Path:
    """This test's TRACE_CONFIG_DIR (made by the autouse isolation fixture)."""
    return isolated_env


@pytest.fixture
def file_store(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Backing:
    """The CLI uses the 0600 file store."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return Backing("file", config_dir, os.environ["TRACE_KEYCHAIN_SERVICE"])


@pytest.fixture(params=["file", pytest.param("keychain", marks=pytest.mark.keychain)])
def backing(
    request: pytest.FixtureRequest, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backing]:
    """The CLI uses the file store, or the real keychain (a private Secret Service)."""
    kind: str = request.param
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", kind)
    service = os.environ["TRACE_KEYCHAIN_SERVICE"]
    if kind == "file":
        yield Backing(kind, config_dir, service)
        return
    secret_service: SecretService = request.getfixturevalue("secret_service")
    yield Backing(kind, config_dir, service, secret_service)
    secret_service.forget(service)
