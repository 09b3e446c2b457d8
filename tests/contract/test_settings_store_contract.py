"""The SettingsStore contract: every implementation passes the same suite.

To add an adapter, add its name to ``_CASES`` and a branch to ``case`` that builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from adapters._fs.read_cache import file_fingerprint
from adapters.settings.caching import CachingSettingsStore
from adapters.settings.memory import InMemorySettingsStore
from adapters.settings.toml import TomlSettingsStore
from application.ports import SettingsStore
from domain.provider import Provider
from domain.settings import BackendEnv, OutputFormat, Settings, StoreChoice


@attrs.frozen
class Case:
    """A store under test, and how to open the same backing storage again."""

    store: SettingsStore
    reopen: Callable[[], SettingsStore]


_CASES = ["memory", "toml", "caching-memory", "caching-toml"]


@pytest.fixture(params=_CASES)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    """One implementation of SettingsStore over empty storage."""
    if request.param == "memory":
        memory = InMemorySettingsStore()
        return Case(memory, lambda: memory)
    if request.param == "caching-memory":
        inner = InMemorySettingsStore()
        cached = CachingSettingsStore(inner)
        return Case(cached, lambda: cached)
    path = tmp_path / "config" / "config.toml"
    if request.param == "caching-toml":

        def cached_toml() -> SettingsStore:
            return CachingSettingsStore(TomlSettingsStore(path), fingerprint=file_fingerprint(path))

        return Case(cached_toml(), cached_toml)
    assert request.param == "toml"
    return Case(TomlSettingsStore(path), lambda: TomlSettingsStore(path))


class Boom(Exception):
    """Raised by a change to prove that a failed update changes nothing."""


def test_empty_store_loads_defaults(case: Case) -> None:
    settings = case.store.load()

    assert settings == Settings()
    assert settings.provider is Provider.TRACE


def test_update_returns_the_new_settings_and_persists_them(case: Case) -> None:
    returned = case.store.update(lambda s: s.with_active(Provider.OPENAI))

    assert returned == Settings(active_provider=Provider.OPENAI)
    assert case.store.load() == returned
    assert case.reopen().load() == returned


def test_update_gives_the_change_the_current_settings(case: Case) -> None:
    case.store.update(lambda s: s.with_model(Provider.ANTHROPIC, "claude-opus-4"))
    seen: list[Settings] = []

    def change(current: Settings) -> Settings:
        seen.append(current)
        return current.with_active(Provider.ANTHROPIC)

    case.reopen().update(change)

    assert seen == [Settings(models={Provider.ANTHROPIC: "claude-opus-4"})]


def test_models_are_remembered_per_provider(case: Case) -> None:
    case.store.update(lambda s: s.with_model(Provider.ANTHROPIC, "claude-opus-4"))
    case.store.update(lambda s: s.with_model(Provider.OPENAI, "gpt-4.1"))
    case.store.update(lambda s: s.with_active(Provider.OPENAI))

    loaded = case.reopen().load()
    assert loaded.model_for(Provider.ANTHROPIC) == "claude-opus-4"
    assert loaded.model_for(Provider.OPENAI) == "gpt-4.1"
    assert loaded.model_for(Provider.GEMINI) is None

    case.store.update(lambda s: s.with_model(Provider.OPENAI, None))

    loaded = case.reopen().load()
    assert loaded.model_for(Provider.OPENAI) is None
    assert loaded.model_for(Provider.ANTHROPIC) == "claude-opus-4"


@pytest.mark.parametrize("provider", list(Provider), ids=lambda p: p.value)
def test_active_provider_round_trips(case: Case, provider: Provider) -> None:
    other = Provider.OPENAI if provider is Provider.GEMINI else Provider.GEMINI
    case.store.update(lambda s: s.with_active(other))

    case.store.update(lambda s: s.with_active(provider))

    assert case.reopen().load().provider is provider


def test_clearing_the_active_provider_returns_to_trace(case: Case) -> None:
    case.store.update(lambda s: s.with_active(Provider.GEMINI))

    case.store.update(lambda s: s.with_active(None))

    assert case.reopen().load() == Settings()


def test_every_setting_round_trips(case: Case) -> None:
    full = Settings(
        active_provider=Provider.ANTHROPIC,
        models={Provider.ANTHROPIC: "claude-sonnet-4-6", Provider.GEMINI: "gemini-2.5-pro"},
        backend_env=BackendEnv.LOCAL,
        api_version="v1",
        output_format=OutputFormat.JSON,
        credentials_store=StoreChoice.KEYCHAIN,
    )

    assert case.store.update(lambda _: full) == full
    assert case.reopen().load() == full


def test_failed_update_leaves_the_settings_unchanged(case: Case) -> None:
    before = case.store.update(
        lambda s: s.with_active(Provider.OPENAI).with_model(Provider.OPENAI, "gpt-4o")
    )

    def change(current: Settings) -> Settings:
        raise Boom

    with pytest.raises(Boom):
        case.store.update(change)

    assert case.store.load() == before
    assert case.reopen().load() == before
    after = case.store.update(lambda s: s.with_active(Provider.GEMINI))  # not left locked
    assert after.provider is Provider.GEMINI


def test_location_is_reported(case: Case) -> None:
    assert case.store.location().strip()
