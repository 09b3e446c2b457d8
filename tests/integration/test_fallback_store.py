"""FallbackSecretStore over a real keychain that breaks and comes back, and a real 0600 file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.secrets.fallback import FallbackSecretStore
from adapters.secrets.file import FileSecretStore
from adapters.secrets.keychain import KeyringSecretStore
from application.ports import StoreKind
from domain.credential import SourceKind
from domain.errors import CorruptFileError, InsecurePermissionsError
from domain.secret import Secret
from tests.support.keychain import RunningSecretService

KEY = Secret.parse("sk-test-0123456789abcdef")
NEW_KEY = Secret.parse("sk-test-fedcba9876543210")


@pytest.fixture
def credentials_file(tmp_path: Path) -> Path:
    """Where the fallback file goes (not created yet)."""
    return tmp_path / "config" / "credentials.json"


@pytest.fixture
def no_keychain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point D-Bus at a socket that does not exist: the keychain really cannot be reached."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")


class Told(list[str]):
    """The notice sink handed to the store: what the user was told, taken once."""

    def drain(self) -> list[str]:
        """Everything told since the last drain."""
        taken = list(self)
        self.clear()
        return taken


@pytest.fixture
def told() -> Told:
    """A fresh notice sink."""
    return Told()


@pytest.fixture
def store(keychain_service: str, credentials_file: Path, told: Told) -> FallbackSecretStore:
    """Keychain (retrying at once after a failure, so a test can bring it back) else file."""
    keychain = KeyringSecretStore(keychain_service, retry_after=0)
    return FallbackSecretStore(keychain, FileSecretStore(credentials_file), notify=told.append)


@pytest.fixture
def locked_keychain(secret_service: RunningSecretService) -> Iterator[RunningSecretService]:
    """The real keychain, locked for the test (unlock it with ``.unlock()``); unlocked after."""
    secret_service.lock()
    yield secret_service
    if secret_service.is_locked():
        secret_service.unlock()


def _file_secrets(path: Path) -> dict[str, str]:
    secrets: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["secrets"]
    return secrets


@pytest.mark.usefixtures("no_keychain")
def test_without_a_keychain_the_key_goes_to_the_file_with_one_notice(
    store: FallbackSecretStore, told: Told, credentials_file: Path
) -> None:
    stored = store.set("llm:anthropic", KEY)
    assert stored.source.kind is SourceKind.FILE
    assert _file_secrets(credentials_file) == {"llm:anthropic": KEY.reveal()}
    assert credentials_file.stat().st_mode & 0o777 == 0o600
    (notice,) = told.drain()
    assert "the OS keychain is not usable (cannot connect to the D-Bus session bus" in notice
    assert f"the key was stored in {credentials_file} (mode 0600) instead" in notice
    assert KEY.reveal() not in notice
    store.set("llm:openai", NEW_KEY)
    store.get("llm:openai")
    assert told.drain() == []


@pytest.mark.usefixtures("no_keychain")
def test_reading_without_a_keychain_uses_the_file_and_says_so_once(
    store: FallbackSecretStore, told: Told, credentials_file: Path
) -> None:
    FileSecretStore(credentials_file).set("llm:anthropic", KEY)
    found = store.get("llm:anthropic")
    assert found is not None
    assert found.secret == KEY
    assert found.source.kind is SourceKind.FILE
    (notice,) = told.drain()
    assert "keys are read from" in notice
    store.get("llm:anthropic")
    assert told.drain() == []


@pytest.mark.usefixtures("no_keychain")
def test_info_names_the_file_and_why_after_a_fall_back(
    store: FallbackSecretStore, credentials_file: Path
) -> None:
    assert store.info().kind is StoreKind.KEYCHAIN  # not tried yet
    store.get("llm:anthropic")
    info = store.info()
    assert info.kind is StoreKind.FILE
    assert str(credentials_file) in info.detail
    assert "keychain unavailable: cannot connect to the D-Bus session bus" in info.detail


@pytest.mark.usefixtures("no_keychain")
def test_delete_without_a_keychain_removes_the_file_copy_and_says_the_keychain_was_skipped(
    store: FallbackSecretStore, told: Told, credentials_file: Path
) -> None:
    store.set("llm:anthropic", KEY)
    told.drain()
    assert store.delete("llm:anthropic") is True
    assert _file_secrets(credentials_file) == {}
    (notice,) = told.drain()
    assert "was not removed" in notice
    assert store.delete("llm:anthropic") is False


@pytest.mark.keychain
def test_a_locked_keychain_falls_back_and_the_file_copy_is_found_once_it_is_unlocked(
    store: FallbackSecretStore,
    told: Told,
    locked_keychain: RunningSecretService,
    keychain_service: str,
    credentials_file: Path,
) -> None:
    store.set("llm:anthropic", KEY)
    (notice,) = told.drain()
    assert "(the keychain is locked)" in notice
    locked_keychain.unlock()
    found = store.get("llm:anthropic")
    assert found is not None
    assert found.secret == KEY
    assert found.source.kind is SourceKind.FILE
    assert store.info().kind is StoreKind.KEYCHAIN  # the keychain answered (with "none")
    assert locked_keychain.accounts(keychain_service) == {}


@pytest.mark.keychain
def test_a_set_to_the_working_keychain_removes_the_stale_file_copy(
    store: FallbackSecretStore,
    locked_keychain: RunningSecretService,
    keychain_service: str,
    credentials_file: Path,
) -> None:
    store.set("llm:anthropic", KEY)
    locked_keychain.unlock()
    stored = store.set("llm:anthropic", NEW_KEY)
    assert stored.source.kind is SourceKind.KEYCHAIN
    assert locked_keychain.accounts(keychain_service) == {"llm:anthropic": NEW_KEY.reveal()}
    assert _file_secrets(credentials_file) == {}
    found = store.get("llm:anthropic")
    assert found is not None
    assert found.secret == NEW_KEY
    assert found.source.kind is SourceKind.KEYCHAIN


@pytest.mark.keychain
def test_with_a_working_keychain_no_file_is_created(
    store: FallbackSecretStore, told: Told, credentials_file: Path
) -> None:
    store.set("llm:anthropic", KEY)
    assert store.get("llm:anthropic") is not None
    assert store.delete("llm:anthropic") is True
    assert store.delete("llm:anthropic") is False
    assert not credentials_file.parent.exists()
    assert told.drain() == []


@pytest.mark.keychain
def test_delete_removes_the_key_from_both_stores(
    store: FallbackSecretStore,
    secret_service: RunningSecretService,
    keychain_service: str,
    credentials_file: Path,
) -> None:
    KeyringSecretStore(keychain_service).set("llm:anthropic", KEY)
    FileSecretStore(credentials_file).set("llm:anthropic", NEW_KEY)
    assert store.delete("llm:anthropic") is True
    assert secret_service.accounts(keychain_service) == {}
    assert _file_secrets(credentials_file) == {}


@pytest.mark.keychain
def test_a_corrupt_file_stops_a_read_the_keychain_cannot_answer(
    store: FallbackSecretStore, credentials_file: Path
) -> None:
    credentials_file.parent.mkdir(mode=0o700)
    credentials_file.write_text("{not json", encoding="utf-8")
    credentials_file.chmod(0o600)
    with pytest.raises(CorruptFileError):
        store.get("llm:anthropic")
    assert credentials_file.read_text(encoding="utf-8") == "{not json"


@pytest.mark.keychain
def test_a_corrupt_file_stops_a_set_before_anything_changes(
    store: FallbackSecretStore,
    secret_service: RunningSecretService,
    keychain_service: str,
    credentials_file: Path,
) -> None:
    credentials_file.parent.mkdir(mode=0o700)
    credentials_file.write_text("{not json", encoding="utf-8")
    credentials_file.chmod(0o600)
    with pytest.raises(CorruptFileError):
        store.set("llm:anthropic", KEY)
    assert secret_service.accounts(keychain_service) == {}
    assert credentials_file.read_text(encoding="utf-8") == "{not json"


@pytest.mark.usefixtures("no_keychain")
def test_a_corrupt_file_is_not_replaced_when_the_keychain_is_unusable(
    store: FallbackSecretStore, credentials_file: Path
) -> None:
    credentials_file.parent.mkdir(mode=0o700)
    credentials_file.write_text('{"version": 1, "secrets": [', encoding="utf-8")
    credentials_file.chmod(0o600)
    with pytest.raises(CorruptFileError):
        store.set("llm:anthropic", KEY)
    assert credentials_file.read_text(encoding="utf-8") == '{"version": 1, "secrets": ['


@pytest.mark.usefixtures("no_keychain")
def test_a_file_others_can_read_is_an_error_not_a_fall_back_target(
    store: FallbackSecretStore, credentials_file: Path
) -> None:
    FileSecretStore(credentials_file).set("llm:anthropic", KEY)
    credentials_file.chmod(0o644)
    with pytest.raises(InsecurePermissionsError):
        store.get("llm:anthropic")


@pytest.mark.keychain
def test_check_reports_both_stores(store: FallbackSecretStore) -> None:
    keychain, file = store.check()
    assert keychain.name == "keychain"
    assert keychain.ok
    assert file.name == "file"
    assert file.ok
