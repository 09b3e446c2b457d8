"""Read caches for the secret and settings stores, for long-lived processes (the SDK).

A chat resolves its key and token on every request; without a cache that is a
keychain round trip (D-Bus, milliseconds) plus a TOML parse each time. These
wrappers keep what the wrapped store answered and ask it again only when

- a write went through the wrapper (our own use-cases: ``byok set/use/remove``,
  ``auth login``...): the entry is dropped at once;
- the ``fingerprint`` changed: a cheap probe of the backing file (``stat``), so an
  edit by another process (``buildwithtrace byok set`` in a shell) is seen on the
  next read;
- the entry is older than ``max_age`` seconds: the keychain has no cheap change
  probe, so a key another process put there is seen after at most that long.

Misses are cached like hits (an environment key shadows the store, and the store is
still read for status); errors never are. A read that raced a write through the
wrapper does not cache what it read, so a write is never hidden by an older value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

import attrs

from application.ports import SecretStore, SettingsStore, StoreCheck, StoreInfo, StoreNotice
from domain.credential import StoredSecret
from domain.secret import Secret
from domain.settings import Settings

Fingerprint = Callable[[], Hashable]
_T = TypeVar("_T")
_R = TypeVar("_R")


def file_fingerprint(path: Path) -> Fingerprint:
    """A probe that changes whenever ``path`` is replaced, written or removed (one ``stat``)."""

    def probe() -> Hashable:
        try:
            found = path.stat()
        except OSError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_size, found.st_ctime_ns)

    return probe


def _no_fingerprint() -> Hashable:
    return None


@attrs.frozen
class _Entry(Generic[_T]):
    value: _T
    fingerprint: Hashable
    read_at: float


class _Cache(Generic[_T]):
    """Entries by key, with the staleness rules of the module docstring."""

    def __init__(
        self,
        fingerprint: Fingerprint | None,
        max_age: float | None,
        clock: Callable[[], float],
    ) -> None:
        self._fingerprint = fingerprint or _no_fingerprint
        self._max_age = max_age
        self._clock = clock
        self._entries: dict[str, _Entry[_T]] = {}
        self._generation = 0  # bumped by every write through the wrapper
        self._lock = threading.Lock()

    def read(self, key: str, load: Callable[[], _T]) -> _T:
        """The cached value while fresh, else ``load()`` (kept unless a write raced it)."""
        fingerprint = self._fingerprint()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            generation = self._generation
        if (
            entry is not None
            and entry.fingerprint == fingerprint
            and (self._max_age is None or now - entry.read_at < self._max_age)
        ):
            return entry.value
        # Fingerprint taken before the load: a change in between makes the entry stale
        # on the next read, never the other way round.
        value = load()
        with self._lock:
            if generation == self._generation:
                self._entries[key] = _Entry(value, fingerprint, now)
        return value

    def write(self, action: Callable[[], _R]) -> _R:
        """Run a write; every entry is dropped (even when it fails: the store may have changed)."""
        try:
            return action()
        finally:
            with self._lock:
                self._generation += 1
                self._entries.clear()


class CachingSecretStore(SecretStore):
    """Wraps a :class:`SecretStore`: cached ``get``; ``set`` and ``delete`` invalidate."""

    def __init__(
        self,
        inner: SecretStore,
        *,
        fingerprint: Fingerprint | None = None,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._cache: _Cache[StoredSecret | None] = _Cache(fingerprint, max_age, clock)

    def get(self, account: str) -> StoredSecret | None:
        """The wrapped store's answer, from the cache while it is fresh."""
        return self._cache.read(account, lambda: self._inner.get(account))

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Store through the wrapped store; the next ``get`` asks it again."""
        return self._cache.write(lambda: self._inner.set(account, secret))

    def delete(self, account: str) -> bool:
        """Delete through the wrapped store; the next ``get`` asks it again."""
        return self._cache.write(lambda: self._inner.delete(account))

    def info(self) -> StoreInfo:
        """The wrapped store's info."""
        return self._inner.info()

    def notices(self) -> list[StoreNotice]:
        """The wrapped store's notices."""
        return self._inner.notices()

    def check(self) -> tuple[StoreCheck, ...]:
        """The wrapped store's health checks (never cached)."""
        return self._inner.check()


class CachingSettingsStore(SettingsStore):
    """Wraps a :class:`SettingsStore`: cached ``load``; ``update`` goes through and invalidates."""

    def __init__(
        self,
        inner: SettingsStore,
        *,
        fingerprint: Fingerprint | None = None,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._cache: _Cache[Settings] = _Cache(fingerprint, max_age, clock)

    def load(self) -> Settings:
        """The wrapped store's settings, from the cache while they are fresh."""
        return self._cache.read("settings", self._inner.load)

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Update through the wrapped store; the next ``load`` asks it again."""
        return self._cache.write(lambda: self._inner.update(change))

    def location(self) -> str:
        """The wrapped store's location."""
        return self._inner.location()
