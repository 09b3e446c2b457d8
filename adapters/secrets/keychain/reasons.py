"""Keychain failures in words: which exceptions mean "the keychain is not usable", and why.

Every library in the chain (keyring, SecretStorage, jeepney, the platform backends)
has its own way of saying "locked", "nobody home" or "refused"; this module turns them
into one short reason for ``KeychainUnavailableError``, or None for an exception that
is a bug (shown as one). No reason ever carries a secret (:func:`redact`).
"""

from __future__ import annotations

import sys
from typing import Any

from adapters.secrets.keychain.backends import RefusedBackendError

_MAX_REASON = 200
# How the bus (InitError, SecretStorage) and keyring's probe (RuntimeError) say "nobody home".
_NOBODY_HOME_REASON = "no Secret Service is running on the D-Bus session bus"
_NO_SECRET_SERVICE_HINTS = ("not provided by any .service files", "neither running nor activatable")


class KeychainFailure(Exception):
    """A condition our own Secret Service reader detected; carries the reason for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reason_for(exc: BaseException) -> str | None:
    """A readable reason for a keychain failure; None for exceptions that are bugs."""
    if isinstance(exc, RefusedBackendError | KeychainFailure):
        return exc.reason
    # A library's exceptions are only looked up once it was imported (nothing can raise
    # them before): a read that never loaded keyring must not load it to explain itself.
    errors = sys.modules.get("keyring.errors")
    if errors is not None:
        keyring_reason = _keyring_reason(exc, errors)
        if keyring_reason is not None:
            return keyring_reason
    if isinstance(exc, RuntimeError) and _nobody_home(exc):
        return _NOBODY_HOME_REASON
    linux_reason = _secret_service_reason(exc)
    if linux_reason is not None:
        return linux_reason
    if isinstance(exc, TimeoutError):
        return "the keychain service did not answer"
    if isinstance(exc, OSError):
        where = "the D-Bus session bus" if sys.platform.startswith("linux") else "the keychain"
        return f"cannot connect to {where} ({exc.strerror or type(exc).__name__})"
    if isinstance(exc, UnicodeDecodeError):
        return "the keychain entry is not UTF-8 text"
    if isinstance(exc, RuntimeError):
        return f"the keychain backend failed ({exc})"
    return None


def _keyring_reason(exc: BaseException, errors: Any) -> str | None:
    if isinstance(exc, errors.KeyringLocked):
        return "the keychain is locked"
    if isinstance(exc, errors.NoKeyringError):
        return "no keychain backend is available"
    if isinstance(exc, errors.InitError) and _nobody_home(exc):
        return _NOBODY_HOME_REASON
    if isinstance(exc, errors.InitError):
        text = str(exc)
        if "Prompt dismissed" in text:
            return "the keychain is locked (unlocking it needs a password prompt)"
        return f"the keychain could not be opened ({text})"
    if isinstance(exc, errors.KeyringError):
        return f"the keychain refused the request ({type(exc).__name__}: {exc})"
    return None


def _secret_service_reason(exc: BaseException) -> str | None:
    """Reasons for SecretStorage and jeepney failures (libraries present on Linux only)."""
    ss = sys.modules.get("secretstorage.exceptions")
    if ss is not None:
        reason = _secretstorage_reason(exc, ss)
        if reason is not None:
            return reason
    if "jeepney" not in sys.modules:
        return None
    from jeepney import DBusErrorResponse
    from jeepney.auth import AuthenticationError

    if isinstance(exc, DBusErrorResponse):
        return f"the Secret Service failed ({exc.name})"
    if isinstance(exc, AuthenticationError):
        return "the D-Bus session bus refused the connection"
    return None


def _secretstorage_reason(exc: BaseException, ss: Any) -> str | None:
    if isinstance(exc, ss.LockedException):
        return "the keychain is locked"
    if isinstance(exc, ss.SecretServiceNotAvailableException):
        text = str(exc)
        if "DBUS_SESSION_BUS_ADDRESS" in text:
            return "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset)"
        if _nobody_home(exc):
            return _NOBODY_HOME_REASON
        return f"the Secret Service is not available ({text})"
    if isinstance(exc, ss.SecretStorageException):
        return f"the Secret Service failed ({type(exc).__name__}: {exc})"
    return None


def _nobody_home(exc: BaseException) -> bool:
    return any(hint in str(exc) for hint in _NO_SECRET_SERVICE_HINTS)


def redact(reason: str, secret: str | None) -> str:
    """Never let a library's message carry the secret into ours; keep it short."""
    if secret:
        reason = reason.replace(secret, "…")
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"
