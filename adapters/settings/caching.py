"""``CachingSettingsStore``: a read cache around a settings store.

When a cached answer is kept and when it is not: ``adapters._fs.read_cache``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters._fs.read_cache import Fingerprint, ReadCache
from application.ports import SettingsStore
from domain.settings import Settings


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
        self._cache: ReadCache[Settings] = ReadCache(fingerprint, max_age, clock)

    def load(self) -> Settings:
        """The wrapped store's settings, from the cache while they are fresh."""
        return self._cache.read("settings", self._inner.load)

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Update through the wrapped store; the next ``load`` asks it again."""
        return self._cache.write(lambda: self._inner.update(change))

    def location(self) -> str:
        """The wrapped store's location."""
        return self._inner.location()
