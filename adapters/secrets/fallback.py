"""Keychain, else file: a secret store that wraps two stores and says when it fell back.

Only ``KeychainUnavailableError`` from the primary leads to the fallback; every other
``StorageError`` (a corrupt or insecure file) propagates, since a store we cannot trust
must stop the command rather than be silently bypassed. A secret lives in one place:
a successful write to the primary removes the fallback's copy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from application.ports import SecretStore, StoreCheck, StoreInfo, StoreKind
from domain.credential import StoredSecret
from domain.errors import KeychainUnavailableError
from domain.secret import Secret


class FallbackSecretStore(SecretStore):
    """``primary`` (the OS keychain) while it works, else ``fallback`` (the 0600 file)."""

    def __init__(
        self,
        primary: SecretStore,
        fallback: SecretStore,
        *,
        notify: Callable[[str], None] = lambda _text: None,
    ) -> None:
        """``notify`` receives what the user should be told, once per process each."""
        self._primary = primary
        self._fallback = fallback
        self._notify = notify
        self._unavailable: str | None = None  # the primary's last failure, None once it works
        self._told_read = False
        self._told_write = False
        self._told_delete = False
        self._lock = threading.Lock()

    def get(self, account: str) -> StoredSecret | None:
        """The primary's secret, else the fallback's (it may hold keys from a keychain outage)."""
        try:
            found = self._primary.get(account)
        except KeychainUnavailableError as exc:
            self._primary_failed(exc.reason)
            self._tell_read(exc.reason)
            return self._fallback.get(account)
        self._primary_worked()
        return found if found is not None else self._fallback.get(account)

    def get_many(self, accounts: Sequence[str]) -> dict[str, StoredSecret | None]:
        """``get`` for each account: one round on the primary, then one on the fallback."""
        try:
            found = dict(self._primary.get_many(accounts))
        except KeychainUnavailableError as exc:
            self._primary_failed(exc.reason)
            self._tell_read(exc.reason)
            return self._fallback.get_many(accounts)
        self._primary_worked()
        missing = [account for account in accounts if found.get(account) is None]
        if missing:
            found.update(self._fallback.get_many(missing))
        return found

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Store in the primary (dropping the fallback's copy), else in the fallback."""
        # Read the fallback first: a corrupt file stops the command before anything changes.
        stale = self._fallback.get(account) is not None
        try:
            stored = self._primary.set(account, secret)
        except KeychainUnavailableError as exc:
            self._primary_failed(exc.reason)
            stored = self._fallback.set(account, secret)
            self._tell_write(exc.reason)
            return stored
        self._primary_worked()
        if stale:
            self._fallback.delete(account)
        return stored

    def delete(self, account: str) -> bool:
        """Remove from both stores; True if either had it. An unusable primary is noted."""
        in_primary = False
        try:
            in_primary = self._primary.delete(account)
        except KeychainUnavailableError as exc:
            self._primary_failed(exc.reason)
            self._tell_delete(exc.reason)
        else:
            self._primary_worked()
        # A file store reads before it locks: deleting an absent key creates nothing.
        in_fallback = self._fallback.delete(account)
        return in_primary or in_fallback

    def info(self) -> StoreInfo:
        """The store in use: the primary unless it failed last time it was tried."""
        with self._lock:
            reason = self._unavailable
        if reason is None:
            return self._primary.info()
        fallback = self._fallback.info()
        return StoreInfo(fallback.kind, f"{fallback.detail} (keychain unavailable: {reason})")

    def check(self) -> tuple[StoreCheck, ...]:
        """Both stores' checks, primary first."""
        return self._primary.check() + self._fallback.check()

    def _primary_failed(self, reason: str) -> None:
        with self._lock:
            self._unavailable = reason

    def _primary_worked(self) -> None:
        with self._lock:
            self._unavailable = None

    def _tell_read(self, reason: str) -> None:
        with self._lock:
            # After a write or delete notice the user already knows the keychain is out.
            if self._told_read or self._told_write or self._told_delete:
                return
            self._told_read = True
        self._notify(
            f"the OS keychain is not usable ({reason}); "
            f"keys are read from {self._fallback_place()} instead"
        )

    def _tell_write(self, reason: str) -> None:
        # Told even after a read notice: the user must learn where the key went.
        with self._lock:
            if self._told_write:
                return
            self._told_write = self._told_read = True
        self._notify(
            f"the OS keychain is not usable ({reason}); "
            f"the key was stored in {self._fallback_place()} instead"
        )

    def _tell_delete(self, reason: str) -> None:
        with self._lock:
            if self._told_delete:
                return
            self._told_delete = True
        self._notify(
            f"the OS keychain is not usable ({reason}); a key stored there, "
            "if any, was not removed (run the command again once it is unlocked)"
        )

    def _fallback_place(self) -> str:
        info = self._fallback.info()
        if info.kind is StoreKind.FILE:
            return f"{info.detail} (mode 0600)"
        return f"the {info.kind.value} store ({info.detail})"
