"""The in-memory secret store: first-class, for tests, SDK users and the desktop app."""

from __future__ import annotations

import threading

from application.ports import SecretStore, StoreCheck, StoreInfo, StoreKind
from domain.credential import KeySource, SourceKind, StoredSecret
from domain.secret import Secret


class InMemorySecretStore(SecretStore):
    """Secrets in a dict; thread-safe."""

    def __init__(self, initial: dict[str, Secret] | None = None) -> None:
        self._secrets: dict[str, Secret] = dict(initial or {})
        self._lock = threading.Lock()

    def get(self, account: str) -> StoredSecret | None:
        """The secret for ``account``, or None."""
        with self._lock:
            secret = self._secrets.get(account)
        return None if secret is None else StoredSecret(secret, KeySource(SourceKind.MEMORY))

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Store ``secret`` under ``account``."""
        with self._lock:
            self._secrets[account] = secret
        return StoredSecret(secret, KeySource(SourceKind.MEMORY))

    def delete(self, account: str) -> bool:
        """Remove ``account``; True if it existed."""
        with self._lock:
            return self._secrets.pop(account, None) is not None

    def info(self) -> StoreInfo:
        """An in-memory store."""
        return StoreInfo(StoreKind.MEMORY, "in-memory")

    def check(self) -> tuple[StoreCheck, ...]:
        """Always healthy."""
        return (StoreCheck("memory", True, "in-memory store"),)
