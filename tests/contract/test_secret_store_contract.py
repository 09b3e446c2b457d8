"""The SecretStore contract: every implementation passes the same suite.

To add an adapter, add a case to ``_CASES`` and a branch to ``case`` that builds it.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from adapters._fs.read_cache import file_fingerprint
from adapters.secrets.caching import CachingSecretStore
from adapters.secrets.fallback import FallbackSecretStore
from adapters.secrets.file import FileSecretStore
from adapters.secrets.keychain import KeyringSecretStore
from adapters.secrets.memory import InMemorySecretStore
from application.ports import SecretStore, StoreKind
from domain.credential import SourceKind
from domain.secret import MAX_SECRET_BYTES, Secret


@attrs.frozen
class Case:
    """A store under test and what it must report about itself."""

    store: SecretStore
    source: SourceKind
    kind: StoreKind
    healthy: bool = True


_CASES = [
    pytest.param("memory"),
    pytest.param("file"),
    pytest.param("caching-memory"),
    pytest.param("caching-file"),
    pytest.param("fallback-keychain", marks=pytest.mark.keychain),
    pytest.param("fallback-nokeychain"),
    pytest.param("keychain", marks=pytest.mark.keychain),
]


@pytest.fixture(params=_CASES)
def case(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    """One implementation of SecretStore, freshly empty."""
    file = FileSecretStore(tmp_path / "secrets" / "credentials.json")
    if request.param == "memory":
        return Case(InMemorySecretStore(), SourceKind.MEMORY, StoreKind.MEMORY)
    if request.param == "file":
        return Case(file, SourceKind.FILE, StoreKind.FILE)
    if request.param == "caching-memory":
        return Case(CachingSecretStore(InMemorySecretStore()), SourceKind.MEMORY, StoreKind.MEMORY)
    if request.param == "caching-file":
        cached = CachingSecretStore(
            file, fingerprint=file_fingerprint(tmp_path / "secrets" / "credentials.json")
        )
        return Case(cached, SourceKind.FILE, StoreKind.FILE)
    if request.param == "fallback-nokeychain":
        # A real failure: the production backend, aimed at a bus socket that does not exist.
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
        keychain = KeyringSecretStore("buildwithtrace-contract-nokeychain")
        return Case(FallbackSecretStore(keychain, file), SourceKind.FILE, StoreKind.FILE, False)
    keychain_store: KeyringSecretStore = request.getfixturevalue("keychain_store")
    if request.param == "keychain":
        return Case(keychain_store, SourceKind.KEYCHAIN, StoreKind.KEYCHAIN)
    assert request.param == "fallback-keychain"
    store = FallbackSecretStore(keychain_store, file)
    return Case(store, SourceKind.KEYCHAIN, StoreKind.KEYCHAIN)


def test_get_of_a_missing_account_is_none(case: Case) -> None:
    assert case.store.get("llm:anthropic") is None


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("sk-ant-api03-Zx9_abc-DEF", id="typical"),
        pytest.param("k" * MAX_SECRET_BYTES, id="4096-bytes"),
        pytest.param("é" * (MAX_SECRET_BYTES // 2), id="4096-bytes-unicode"),
        pytest.param("ключ-密钥-🔑-ß", id="unicode"),
    ],
)
def test_set_then_get_round_trips_exactly(case: Case, raw: str) -> None:
    secret = Secret.parse(raw)
    stored = case.store.set("llm:openai", secret)
    found = case.store.get("llm:openai")
    assert found is not None
    assert found.secret.reveal() == raw
    assert stored.secret == secret


def test_set_replaces_the_old_value(case: Case) -> None:
    case.store.set("llm:gemini", Secret.parse("first-key-1111"))
    case.store.set("llm:gemini", Secret.parse("second-key-2222"))
    found = case.store.get("llm:gemini")
    assert found is not None
    assert found.secret.reveal() == "second-key-2222"


def test_delete_returns_true_then_false(case: Case) -> None:
    case.store.set("trace:token", Secret.parse("tok-123456789"))
    assert case.store.delete("trace:token") is True
    assert case.store.get("trace:token") is None
    assert case.store.delete("trace:token") is False


def test_delete_of_an_account_never_set_is_false(case: Case) -> None:
    assert case.store.delete("llm:never") is False


def test_accounts_are_independent(case: Case) -> None:
    case.store.set("llm:anthropic", Secret.parse("anthropic-key-0001"))
    case.store.set("llm:openai", Secret.parse("openai-key-0002"))
    case.store.delete("llm:anthropic")
    found = case.store.get("llm:openai")
    assert found is not None
    assert found.secret.reveal() == "openai-key-0002"
    assert case.store.get("llm:anthropic") is None


def test_the_source_names_the_backing_store(case: Case) -> None:
    stored = case.store.set("llm:anthropic", Secret.parse("anthropic-key-0001"))
    found = case.store.get("llm:anthropic")
    assert found is not None
    assert stored.source.kind is case.source
    assert found.source.kind is case.source


def test_info_reports_the_store_in_use(case: Case) -> None:
    case.store.set("llm:anthropic", Secret.parse("anthropic-key-0001"))
    info = case.store.info()
    assert info.kind is case.kind
    assert info.detail


def test_check_reports_every_backing_store(case: Case) -> None:
    checks = case.store.check()
    assert checks
    assert all(check.name and check.detail for check in checks)
    assert all(check.ok for check in checks) is case.healthy


def test_get_many_answers_every_account_like_get(case: Case) -> None:
    case.store.set("llm:anthropic", Secret.parse("anthropic-key-0001"))
    case.store.set("trace:token", Secret.parse("tok-123456789"))
    accounts = ["llm:anthropic", "llm:openai", "trace:token"]

    found = case.store.get_many(accounts)

    assert list(found) == accounts
    for account in accounts:
        single = case.store.get(account)
        many = found[account]
        assert (many is None) is (single is None)
        if many is not None and single is not None:
            assert many.secret.reveal() == single.secret.reveal()
            assert many.source == single.source


def test_get_many_of_nothing_stored_is_all_none(case: Case) -> None:
    assert case.store.get_many(["llm:gemini", "llm:openai"]) == {
        "llm:gemini": None,
        "llm:openai": None,
    }


def test_get_many_sees_deletes_and_replacements(case: Case) -> None:
    case.store.set("llm:gemini", Secret.parse("first-key-1111"))
    case.store.set("llm:openai", Secret.parse("openai-key-0002"))
    case.store.get_many(["llm:gemini", "llm:openai"])  # a caching store keeps these
    case.store.set("llm:gemini", Secret.parse("second-key-2222"))
    case.store.delete("llm:openai")

    found = case.store.get_many(["llm:gemini", "llm:openai"])

    gemini = found["llm:gemini"]
    assert gemini is not None
    assert gemini.secret.reveal() == "second-key-2222"
    assert found["llm:openai"] is None
