"""Which keyring backend to use, and whether to trust it.

The backend is chosen explicitly per platform (skipping keyring's entry-point discovery
and its config file); ``PYTHON_KEYRING_BACKEND`` (passed in, never read here) still
selects another one. Backends that store nothing or store plain text are refused. On
Linux the Secret Service backend is keyring's own, changed so that it never opens an
unlock prompt (a prompt nobody answers would hang a headless run; in a desktop session
it would outlive the timeout) and never leaks its D-Bus connection when it fails. A
prompt cannot be ruled out entirely in-process: another keychain client or a backend
named in ``PYTHON_KEYRING_BACKEND`` may still ask the desktop for one; the caller's
timeout bounds it.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

BACKEND_ENV = "PYTHON_KEYRING_BACKEND"
VANISHED_RETRIES = 6  # tries at an item other processes keep deleting and re-creating
# Modules whose backends keep nothing or keep it readable by anyone with the disk.
_UNSAFE_MODULES = ("keyring.backends.null", "keyring.backends.fail", "keyrings.alt")
FRIENDLY_NAMES = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service (libsecret)",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
}


class RefusedBackendError(Exception):
    """A backend we will not use; carries the reason for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def default_backend(named: str | None) -> object:
    """The backend ``named`` (``PYTHON_KEYRING_BACKEND``), else the platform's (no discovery)."""
    if named:
        from keyring.core import load_keyring

        try:
            return load_keyring(named)
        except (ImportError, AttributeError, ValueError) as exc:
            raise RefusedBackendError(
                f"{BACKEND_ENV}={named!r} cannot be loaded ({type(exc).__name__})"
            ) from None
    if sys.platform == "darwin":
        from keyring.backends import macOS

        return macOS.Keyring()
    if sys.platform == "win32":
        from keyring.backends import Windows

        return Windows.WinVaultKeyring()
    return _quiet_secret_service()()


def vetted(backend: object) -> KeyringBackend:
    """``backend`` if it keeps secrets safely; raises ``RefusedBackendError`` otherwise."""
    from keyring.backend import KeyringBackend
    from keyring.core import recommended

    if not isinstance(backend, KeyringBackend):
        raise RefusedBackendError(f"{type(backend).__name__} is not a keyring backend")
    module = type(backend).__module__
    if getattr(backend, "trace_vetted", False):
        return backend  # ours; its priority would cost a D-Bus round trip to confirm
    # recommended() reads the priority, which may probe the keychain (hence the thread).
    if module.startswith(_UNSAFE_MODULES) or not recommended(backend):
        raise RefusedBackendError(
            f"the keyring backend {module}.{type(backend).__name__} stores nothing or stores "
            "plain text; refusing it"
        )
    return backend


@functools.cache
def _quiet_secret_service() -> type[KeyringBackend]:
    """keyring's Secret Service backend, minus the unlock prompt and the leaked connection."""
    import secretstorage
    from keyring.backends import SecretService
    from keyring.errors import InitError, KeyringLocked, PasswordDeleteError
    from secretstorage.exceptions import ItemNotFoundException

    class QuietSecretService(SecretService.Keyring):
        """Secret Service via keyring; a locked collection raises instead of prompting."""

        trace_vetted = True

        # keyring finds an item, then reads, deletes or (after creating it) inspects it:
        # another process deleting it in between made the call fail as if the keychain
        # were broken (seen with 8 processes in tests/reliability). Try again, after a
        # short random pause so that racing processes fall out of step; an item that
        # keeps vanishing is absent (a set that keeps failing still raises).
        def get_password(self, service: str, username: str) -> str | None:
            """The stored password, or None; an item deleted mid-read is looked up again."""
            for attempt in range(1, VANISHED_RETRIES + 1):
                try:
                    found: str | None = super().get_password(service, username)  # type: ignore[no-untyped-call]
                except ItemNotFoundException:
                    pause(attempt)
                    continue
                return found
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            """Create or replace the item; retried if another process deletes it meanwhile."""
            for attempt in range(1, VANISHED_RETRIES + 1):
                try:
                    super().set_password(service, username, password)  # type: ignore[no-untyped-call]
                except ItemNotFoundException:
                    if attempt == VANISHED_RETRIES:
                        raise
                    pause(attempt)
                    continue
                return

        def delete_password(self, service: str, username: str) -> None:
            """Delete the item; one deleted by someone else mid-call counts as not there."""
            for attempt in range(1, VANISHED_RETRIES + 1):
                try:
                    super().delete_password(service, username)  # type: ignore[no-untyped-call]
                except ItemNotFoundException:
                    pause(attempt)
                    continue
                return
            raise PasswordDeleteError("No such password!")

        def get_preferred_collection(self) -> secretstorage.Collection:
            """The collection to use, unlocked; raises ``KeyringLocked``/``InitError`` otherwise."""
            bus = secretstorage.dbus_init()
            try:
                path = getattr(self, "preferred_collection", None)
                if path is None:
                    collection = secretstorage.Collection(bus)
                else:
                    collection = secretstorage.Collection(bus, path)
                if collection.is_locked():
                    raise KeyringLocked("the collection is locked")
            except secretstorage.exceptions.ItemNotFoundException:
                bus.close()
                # keyring would create one, which opens a password prompt.
                raise InitError("the Secret Service has no default collection") from None
            except BaseException:
                bus.close()  # keyring leaves it open here; its socket would warn at GC
                raise
            return collection

    return QuietSecretService


def pause(attempt: int) -> None:
    """A short random wait before trying a vanished item again (at most ~0.3 s in all)."""
    import random

    time.sleep(random.uniform(0.002, 0.02) * attempt)  # noqa: S311 - jitter, not crypto


def friendly_name(backend_type: type) -> str:
    module = backend_type.__module__
    if getattr(backend_type, "trace_vetted", False):
        return FRIENDLY_NAMES["keyring.backends.SecretService"]
    if module in FRIENDLY_NAMES:
        return FRIENDLY_NAMES[module]
    return f"{module}.{backend_type.__name__}"
