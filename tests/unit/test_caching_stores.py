"""The read caches of ``adapters._fs.read_cache``: when a cached answer is kept, and when it is not.

The contract suites (tests/contract) prove the wrappers are still correct stores. These
tests prove the caching itself, by state: a change made *behind* the wrapper (straight
on the wrapped store, or by another store on the same file, as another process would)
stays invisible while the entry is fresh, and shows as soon as the file changes, the
entry ages out, or a write goes through the wrapper.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from adapters._fs.read_cache import file_fingerprint
from adapters.secrets.caching import CachingSecretStore
from adapters.secrets.file import FileSecretStore
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.caching import CachingSettingsStore
from adapters.settings.memory import InMemorySettingsStore
from adapters.settings.toml import TomlSettingsStore
from domain.credential import StoredSecret
from domain.errors import CorruptFileError
from domain.provider import Provider
from domain.secret import Secret
from domain.settings import Settings

ACCOUNT = "llm:anthropic"
OLD, NEW = Secret("sk-ant-old-key-0000OLD"), Secret("sk-ant-new-key-0000NEW")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def secret_of(found: StoredSecret | None) -> Secret | None:
    """The secret in a store's answer."""
    return found.secret if found is not None else None


def test_a_read_is_kept_while_fresh() -> None:
    inner = InMemorySecretStore({ACCOUNT: OLD})
    cached = CachingSecretStore(inner)
    assert secret_of(cached.get(ACCOUNT)) == OLD

    inner.set(ACCOUNT, NEW)  # behind the wrapper's back

    assert secret_of(cached.get(ACCOUNT)) == OLD


def test_a_miss_is_kept_too() -> None:
    inner = InMemorySecretStore()
    cached = CachingSecretStore(inner)
    assert cached.get(ACCOUNT) is None

    inner.set(ACCOUNT, NEW)

    assert cached.get(ACCOUNT) is None


@pytest.mark.parametrize("write", ["set", "delete"])
def test_a_write_through_the_wrapper_is_seen_by_the_next_read(write: str) -> None:
    inner = InMemorySecretStore({ACCOUNT: OLD, "llm:openai": OLD})
    cached = CachingSecretStore(inner)
    cached.get(ACCOUNT)
    cached.get("llm:openai")
    inner.set("llm:openai", NEW)  # an unrelated change behind the wrapper's back

    if write == "set":
        cached.set(ACCOUNT, NEW)
        assert secret_of(cached.get(ACCOUNT)) == NEW
    else:
        assert cached.delete(ACCOUNT) is True
        assert cached.get(ACCOUNT) is None
    # Every entry is dropped on a write, not only the one written.
    assert secret_of(cached.get("llm:openai")) == NEW


def test_an_entry_older_than_max_age_is_read_again() -> None:
    clock = Clock()
    inner = InMemorySecretStore({ACCOUNT: OLD})
    cached = CachingSecretStore(inner, max_age=5.0, clock=clock)
    cached.get(ACCOUNT)
    inner.set(ACCOUNT, NEW)

    clock.now += 4.9
    assert secret_of(cached.get(ACCOUNT)) == OLD
    clock.now += 0.1
    assert secret_of(cached.get(ACCOUNT)) == NEW


def test_a_changed_fingerprint_reads_again() -> None:
    version = [0]
    inner = InMemorySecretStore({ACCOUNT: OLD})
    cached = CachingSecretStore(inner, fingerprint=lambda: version[0])
    cached.get(ACCOUNT)
    inner.set(ACCOUNT, NEW)
    assert secret_of(cached.get(ACCOUNT)) == OLD

    version[0] += 1

    assert secret_of(cached.get(ACCOUNT)) == NEW


def test_errors_are_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("{ not json", encoding="utf-8")
    path.chmod(0o600)
    cached = CachingSecretStore(FileSecretStore(path))
    with pytest.raises(CorruptFileError):
        cached.get(ACCOUNT)

    path.unlink()

    assert cached.get(ACCOUNT) is None


class PausingSecretStore(InMemorySecretStore):
    """An in-memory store whose ``get`` pauses after reading, until the test lets it go on."""

    def __init__(self, initial: dict[str, Secret]) -> None:
        super().__init__(initial)
        self.read_done = threading.Event()
        self.go_on = threading.Event()

    def get(self, account: str) -> StoredSecret | None:
        found = super().get(account)
        self.read_done.set()
        self.go_on.wait(5)
        return found


def test_a_read_that_raced_a_write_does_not_cache_the_old_value() -> None:
    inner = PausingSecretStore({ACCOUNT: OLD})
    cached = CachingSecretStore(inner)
    seen: list[Secret | None] = []
    reader = threading.Thread(target=lambda: seen.append(secret_of(cached.get(ACCOUNT))))
    reader.start()
    assert inner.read_done.wait(5)

    cached.set(ACCOUNT, NEW)  # lands while the reader holds the old value
    inner.go_on.set()
    reader.join(5)

    assert seen == [OLD]  # that read raced the write: it may answer the old value...
    assert secret_of(cached.get(ACCOUNT)) == NEW  # ...but must not keep it


def test_another_file_store_on_the_same_file_is_seen_at_once(tmp_path: Path) -> None:
    """What ``buildwithtrace byok set`` in a shell does to a running SDK process."""
    path = tmp_path / "credentials.json"
    cached = CachingSecretStore(FileSecretStore(path), fingerprint=file_fingerprint(path))
    assert cached.get(ACCOUNT) is None
    other_process = FileSecretStore(path)

    other_process.set(ACCOUNT, OLD)
    assert secret_of(cached.get(ACCOUNT)) == OLD
    other_process.set(ACCOUNT, NEW)
    assert secret_of(cached.get(ACCOUNT)) == NEW
    other_process.delete(ACCOUNT)
    assert cached.get(ACCOUNT) is None


def test_file_fingerprint_changes_when_the_file_is_replaced_or_removed(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    probe = file_fingerprint(path)
    assert probe() is None
    path.write_text("a = 1\n", encoding="utf-8")
    first = probe()
    assert first is not None
    assert probe() == first
    replacement = tmp_path / "config.toml.tmp"
    replacement.write_text("a = 2\n", encoding="utf-8")
    replacement.replace(path)
    assert probe() != first
    path.unlink()
    assert probe() is None


# --- settings ---------------------------------------------------------------------------


def test_settings_are_kept_until_an_update_through_the_wrapper() -> None:
    inner = InMemorySettingsStore(Settings(active_provider=Provider.ANTHROPIC))
    cached = CachingSettingsStore(inner)
    assert cached.load().provider is Provider.ANTHROPIC
    inner.update(lambda s: s.with_active(Provider.GEMINI))  # behind the wrapper's back
    assert cached.load().provider is Provider.ANTHROPIC

    returned = cached.update(lambda s: s.with_model(Provider.GEMINI, "gemini-2.5-pro"))

    assert returned.provider is Provider.GEMINI  # the change saw the current settings
    assert cached.load() == returned


def test_another_toml_store_on_the_same_file_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    cached = CachingSettingsStore(TomlSettingsStore(path), fingerprint=file_fingerprint(path))
    assert cached.load() == Settings()
    other_process = TomlSettingsStore(path)

    other_process.update(lambda s: s.with_active(Provider.OPENAI))
    assert cached.load().provider is Provider.OPENAI
    other_process.update(lambda s: s.with_model(Provider.OPENAI, "gpt-4.1"))
    assert cached.load().model_for(Provider.OPENAI) == "gpt-4.1"


def test_a_failed_update_still_drops_the_cache() -> None:
    inner = InMemorySettingsStore()
    cached = CachingSettingsStore(inner)
    cached.load()
    inner.update(lambda s: s.with_active(Provider.OPENAI))

    def boom(settings: Settings) -> Settings:
        raise CorruptFileError("config.toml", "test")

    with pytest.raises(CorruptFileError):
        cached.update(boom)

    assert cached.load().provider is Provider.OPENAI
