"""``CachingSecretStore``: a read cache around a secret store.

When a cached answer is kept and when it is not: ``adapters._fs.read_cache``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from adapters._fs.read_cache import Fingerprint, ReadCache
from application.ports import SecretStore, StoreCheck, StoreInfo
from domain.credential import StoredSecret
from domain.secret import Secret


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
        self._cache: ReadCache[StoredSecret | None] = ReadCache(fingerprint, max_age, clock)

    def get(self, account: str) -> StoredSecret | None:
        """The wrapped store's answer, from the cache while it is fresh."""
        return self._cache.read(account, lambda: self._inner.get(account))

    def get_many(self, accounts: Sequence[str]) -> dict[str, StoredSecret | None]:
        """The cached answers while fresh; the others from one ``get_many`` of the wrapped store."""
        return self._cache.read_many(accounts, self._inner.get_many)

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Store through the wrapped store; the next ``get`` asks it again."""
        return self._cache.write(lambda: self._inner.set(account, secret))

    def delete(self, account: str) -> bool:
        """Delete through the wrapped store; the next ``get`` asks it again."""
        return self._cache.write(lambda: self._inner.delete(account))

    def info(self) -> StoreInfo:
        """The wrapped store's info."""
        return self._inner.info()

    def check(self) -> tuple[StoreCheck, ...]:
        """The wrapped store's health checks (never cached)."""
        return self._inner.check()
