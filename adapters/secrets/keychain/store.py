"""``KeyringSecretStore``: secrets in the OS keychain through ``keyring``, every call bounded.

``keyring`` is imported inside the calls, never at import time: a command that needs no
key must not pay ~150 ms for it. Which backend and why it is trusted:
:mod:`adapters.secrets.keychain.backends`; the time bound:
:mod:`adapters.secrets.keychain.bounded`; failures in words:
:mod:`adapters.secrets.keychain.reasons`. On Linux with the default backend, reads go
to the Secret Service directly, all accounts in one round
(:mod:`adapters.secrets.keychain.secret_service`: no keyring import, one connection,
one session); writes and deletes always go through keyring.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from adapters.secrets.keychain.backends import (
    BACKEND_ENV,
    FRIENDLY_NAMES,
    default_backend,
    friendly_name,
    vetted,
)
from adapters.secrets.keychain.bounded import BoundedCalls
from application.ports import SecretStore, StoreCheck, StoreInfo, StoreKind
from domain.credential import KeySource, SourceKind, StoredSecret
from domain.errors import KeychainUnavailableError
from domain.secret import Secret

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

T = TypeVar("T")

_SOURCE = KeySource(SourceKind.KEYCHAIN)
_PROBE_ACCOUNT = "buildwithtrace-probe"  # never written; a read proves the keychain answers


class KeyringSecretStore(SecretStore):
    """Secrets in the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager)."""

    def __init__(
        self,
        service: str,
        backend_factory: Callable[[], object] | None = None,
        timeout: float = 3.0,
        *,
        retry_after: float = 30.0,
        backend_name: str | None = None,
    ) -> None:
        self._service = service
        self._factory = backend_factory
        # PYTHON_KEYRING_BACKEND, handed in by the composition root (never read here).
        self._backend_name = backend_name or None
        self._calls = BoundedCalls(service, timeout, retry_after)
        self._backend: KeyringBackend | None = None
        # keyring's own Secret Service backend would be used: read its items directly.
        self._direct_reads = (
            backend_factory is None
            and self._backend_name is None
            and sys.platform not in ("darwin", "win32")
        )

    def get(self, account: str) -> StoredSecret | None:
        """The keychain's secret for ``account``; None when absent (or stored empty)."""
        return self.get_many((account,))[account]

    def get_many(self, accounts: Sequence[str]) -> dict[str, StoredSecret | None]:
        """Each account's secret, read in one bounded call (one search on the Secret Service)."""
        wanted = tuple(dict.fromkeys(accounts))
        if self._direct_reads:
            values = self._calls.run(lambda: self._read_direct(wanted))
        else:
            values = self._call(
                lambda backend: {a: backend.get_password(self._service, a) for a in wanted}
            )
        # Wrapped as stored, not re-validated: a key another tool stored oddly is still the
        # user's key, and refusing to read it would make it impossible to inspect or replace.
        return {a: StoredSecret(Secret(v), _SOURCE) if (v := values[a]) else None for a in wanted}

    def _read_direct(self, accounts: tuple[str, ...]) -> dict[str, str | None]:
        from adapters.secrets.keychain.secret_service import NoDefaultCollection, read_secrets

        try:
            return read_secrets(self._service, accounts)
        except NoDefaultCollection:
            # Seen under heavy concurrent use of one gnome-keyring: the alias did not
            # answer for a while. keyring's reader (the path writes take) is asked then;
            # if the collection is really gone, it says so in its own words.
            backend = self._ready_backend()
            return {a: backend.get_password(self._service, a) for a in accounts}

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Store ``secret`` under ``account`` in the keychain, replacing any old value."""
        plain = secret.reveal()
        self._call(lambda backend: backend.set_password(self._service, account, plain), plain)
        return StoredSecret(secret, _SOURCE)

    def delete(self, account: str) -> bool:
        """Remove ``account`` from the keychain; True if it was there."""

        def delete(backend: KeyringBackend) -> bool:
            from keyring.errors import PasswordDeleteError

            try:
                backend.delete_password(self._service, account)
            except PasswordDeleteError:  # every backend's way of saying "no such item"
                return False
            return True

        return self._call(delete)

    def info(self) -> StoreInfo:
        """The keychain and its backend's name; does not touch the keychain."""
        return StoreInfo(StoreKind.KEYCHAIN, self._describe())

    def check(self) -> tuple[StoreCheck, ...]:
        """Read a probe account within the time bound; healthy when the keychain answers."""
        started = time.monotonic()
        try:
            self.get(_PROBE_ACCOUNT)
        except KeychainUnavailableError as exc:
            return (StoreCheck("keychain", False, exc.reason, exc),)
        except Exception as exc:  # `doctor` must report, not crash
            return (StoreCheck("keychain", False, f"unexpected {type(exc).__name__}"),)
        elapsed_ms = (time.monotonic() - started) * 1000
        return (
            StoreCheck("keychain", True, f"{self._describe()} answered in {elapsed_ms:.0f} ms"),
        )

    def _call(self, operation: Callable[[KeyringBackend], T], secret: str | None = None) -> T:
        """Run ``operation`` on the backend within the time bound, translating failures."""
        return self._calls.run(lambda: operation(self._ready_backend()), secret)

    def _ready_backend(self) -> KeyringBackend:
        """The backend, created and vetted on first use (in the worker thread: it may block)."""
        backend = self._backend
        if backend is None:
            made = (
                self._factory()
                if self._factory is not None
                else default_backend(self._backend_name)
            )
            backend = vetted(made)
            self._backend = backend
        return backend

    def _describe(self) -> str:
        if self._backend is not None:
            return friendly_name(type(self._backend))
        if self._factory is not None:
            return "keyring backend (not used yet)"
        if self._backend_name:
            return f"{self._backend_name} (from {BACKEND_ENV})"
        if sys.platform == "darwin":
            return FRIENDLY_NAMES["keyring.backends.macOS"]
        if sys.platform == "win32":
            return FRIENDLY_NAMES["keyring.backends.Windows"]
        return FRIENDLY_NAMES["keyring.backends.SecretService"]
