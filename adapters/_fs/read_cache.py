"""The read cache behind the caching secret and settings stores, for long-lived processes.

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
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Generic, TypeVar

import attrs

from domain.value import Value

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


@attrs.frozen(eq=False, repr=False)
class _Entry(Value, Generic[_T]):
    value: _T
    fingerprint: Hashable
    read_at: float


class ReadCache(Generic[_T]):
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
        return self.read_many((key,), lambda _keys: {key: load()})[key]

    def read_many(
        self, keys: Sequence[str], load: Callable[[Sequence[str]], Mapping[str, _T]]
    ) -> dict[str, _T]:
        """``read`` for several keys: the fresh entries, and one ``load`` of all the others."""
        fingerprint = self._fingerprint()
        now = self._clock()
        with self._lock:
            entries = [(key, self._entries.get(key)) for key in keys]
            generation = self._generation
        found: dict[str, _T] = {}
        missing: list[str] = []
        for key, entry in entries:
            if (
                entry is not None
                and entry.fingerprint == fingerprint
                and (self._max_age is None or now - entry.read_at < self._max_age)
            ):
                found[key] = entry.value
            else:
                missing.append(key)
        if missing:
            # Fingerprint taken before the load: a change in between makes the entries
            # stale on the next read, never the other way round.
            loaded = load(missing)
            with self._lock:
                if generation == self._generation:
                    for key in missing:
                        self._entries[key] = _Entry(loaded[key], fingerprint, now)
            found.update((key, loaded[key]) for key in missing)
        return {key: found[key] for key in keys}

    def write(self, action: Callable[[], _R]) -> _R:
        """Run a write; every entry is dropped (even when it fails: the store may have changed)."""
        try:
            return action()
        finally:
            with self._lock:
                self._generation += 1
                self._entries.clear()
