"""The OS keychain through ``keyring``, with every call bounded in time.

``keyring`` has no timeout: a hung Secret Service blocks its caller forever. Each call
therefore runs in a daemon thread that is abandoned after ``timeout`` seconds (a
daemon thread never delays interpreter exit; an executor's atexit join would). A
failure is remembered for ``retry_after`` seconds so that a CLI command pays the
timeout once, not per call, while a long-running app notices a keychain that came back.

``keyring`` is imported inside the calls, never at import time: a command that needs
no key must not pay ~150 ms for it.

The backend is chosen explicitly per platform (skipping keyring's entry-point discovery
and its config file); ``PYTHON_KEYRING_BACKEND`` still selects another one. Backends
that store nothing or store plain text are refused. On Linux the Secret Service
backend is keyring's own, changed so that it never opens an unlock prompt (a prompt
nobody answers would hang a headless run; in a desktop session it would outlive the
timeout) and never leaks its D-Bus connection when it fails. A prompt cannot be ruled
out entirely in-process: another keychain client or a backend named in
``PYTHON_KEYRING_BACKEND`` may still ask the desktop for one; the timeout bounds it.

A ``set`` abandoned on timeout may still complete later in its thread, while the
caller has already been told it failed; the fallback store's next successful ``set``
removes any copy that ends up in two places.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from application.ports import SecretStore, StoreCheck, StoreInfo, StoreKind, StoreNotice
from domain.credential import KeySource, SourceKind, StoredSecret
from domain.errors import KeychainUnavailableError
from domain.secret import Secret

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

T = TypeVar("T")

_SOURCE = KeySource(SourceKind.KEYCHAIN)
_PROBE_ACCOUNT = "buildwithtrace-probe"  # never written; a read proves the keychain answers
_BACKEND_ENV = "PYTHON_KEYRING_BACKEND"
_MAX_REASON = 200
_VANISHED_RETRIES = 6  # tries at an item other processes keep deleting and re-creating
# Modules whose backends keep nothing or keep it readable by anyone with the disk.
_UNSAFE_MODULES = ("keyring.backends.null", "keyring.backends.fail", "keyrings.alt")
# How the bus (InitError, SecretStorage) and keyring's probe (RuntimeError) say "nobody home".
_NOBODY_HOME_REASON = "no Secret Service is running on the D-Bus session bus"
_NO_SECRET_SERVICE_HINTS = ("not provided by any .service files", "neither running nor activatable")
_FRIENDLY_NAMES = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service (libsecret)",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
}


class KeyringSecretStore(SecretStore):
    """Secrets in the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager)."""

    def __init__(
        self,
        service: str,
        backend_factory: Callable[[], object] | None = None,
        timeout: float = 3.0,
        *,
        retry_after: float = 30.0,
    ) -> None:
        self._service = service
        self._factory = backend_factory
        self._timeout = timeout
        self._retry_after = retry_after
        self._backend: KeyringBackend | None = None
        self._failure: tuple[str, float] | None = None  # reason, time.monotonic() of failure
        self._lock = threading.Lock()

    def get(self, account: str) -> StoredSecret | None:
        """The keychain's secret for ``account``; None when absent (or stored empty)."""
        value = self._call(lambda backend: backend.get_password(self._service, account))
        if not value:
            return None
        # Wrapped as stored, not re-validated: a key another tool stored oddly is still the
        # user's key, and refusing to read it would make it impossible to inspect or replace.
        return StoredSecret(Secret(value), _SOURCE)

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

    def notices(self) -> list[StoreNotice]:
        """Nothing to tell: failures are raised, not noted."""
        return []

    def check(self) -> tuple[StoreCheck, ...]:
        """Read a probe account within the time bound; healthy when the keychain answers."""
        started = time.monotonic()
        try:
            self._call(lambda backend: backend.get_password(self._service, _PROBE_ACCOUNT))
        except KeychainUnavailableError as exc:
            return (StoreCheck("keychain", False, exc.reason, exc),)
        except Exception as exc:  # `doctor` must report, not crash
            return (StoreCheck("keychain", False, f"unexpected {type(exc).__name__}"),)
        elapsed_ms = (time.monotonic() - started) * 1000
        return (
            StoreCheck("keychain", True, f"{self._describe()} answered in {elapsed_ms:.0f} ms"),
        )

    def _call(self, operation: Callable[[KeyringBackend], T], secret: str | None = None) -> T:
        """Run ``operation`` on the backend in an abandonable thread, translating failures."""
        with self._lock:
            failure = self._failure
            if failure is not None and time.monotonic() - failure[1] >= self._retry_after:
                failure = self._failure = None
        if failure is not None:
            raise KeychainUnavailableError(failure[0])
        outcome: _Outcome[T] = _Outcome()
        worker = threading.Thread(
            target=outcome.run,
            args=(lambda: operation(self._ready_backend()),),
            name=f"keychain-{self._service}",
            daemon=True,
        )
        worker.start()
        if not outcome.done.wait(self._timeout):
            raise self._fail(f"the keychain did not answer within {self._timeout:g}s")
        if outcome.error is None:
            return outcome.value[0]
        error = outcome.error
        reason = _reason(error)
        if reason is None:
            if secret and secret in f"{error} {error.args!r}":
                # A bug, but one whose message holds the key: show the bug, never the key.
                shown = f"unexpected {type(error).__name__} from the keychain: {error}"
                raise KeychainUnavailableError(_redact(shown, secret)) from None
            raise error  # not a keychain condition: a bug, shown as one
        raise self._fail(_redact(reason, secret)) from None

    def _fail(self, reason: str) -> KeychainUnavailableError:
        with self._lock:
            self._failure = (reason, time.monotonic())
        return KeychainUnavailableError(reason)

    def _ready_backend(self) -> KeyringBackend:
        """The backend, created and vetted on first use (in the worker thread: it may block)."""
        backend = self._backend
        if backend is None:
            made = self._factory() if self._factory is not None else _default_backend()
            backend = _vetted(made)
            self._backend = backend
        return backend

    def _describe(self) -> str:
        if self._backend is not None:
            return _friendly_name(type(self._backend))
        if self._factory is not None:
            return "keyring backend (not used yet)"
        if named := os.environ.get(_BACKEND_ENV):
            return f"{named} (from {_BACKEND_ENV})"
        if sys.platform == "darwin":
            return _FRIENDLY_NAMES["keyring.backends.macOS"]
        if sys.platform == "win32":
            return _FRIENDLY_NAMES["keyring.backends.Windows"]
        return _FRIENDLY_NAMES["keyring.backends.SecretService"]


class _Outcome(Generic[T]):
    """The result of one call, filled in by the worker thread."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: list[T] = []  # one element once the call returned
        self.error: Exception | None = None

    def run(self, call: Callable[[], T]) -> None:
        try:
            self.value.append(call())
        except Exception as exc:  # handed to the waiting thread to translate
            self.error = exc
        finally:
            self.done.set()


class _RefusedBackendError(Exception):
    """A backend we will not use; carries the reason for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _default_backend() -> object:
    """``PYTHON_KEYRING_BACKEND`` if set, else the platform's keychain, chosen without discovery."""
    named = os.environ.get(_BACKEND_ENV)
    if named:
        from keyring.core import load_keyring

        try:
            return load_keyring(named)
        except (ImportError, AttributeError, ValueError) as exc:
            raise _RefusedBackendError(
                f"{_BACKEND_ENV}={named!r} cannot be loaded ({type(exc).__name__})"
            ) from None
    if sys.platform == "darwin":
        from keyring.backends import macOS

        return macOS.Keyring()
    if sys.platform == "win32":
        from keyring.backends import Windows

        return Windows.WinVaultKeyring()
    return _quiet_secret_service()()


def _vetted(backend: object) -> KeyringBackend:
    """``backend`` if it keeps secrets safely; raises ``_RefusedBackendError`` otherwise."""
    from keyring.backend import KeyringBackend
    from keyring.core import recommended

    if not isinstance(backend, KeyringBackend):
        raise _RefusedBackendError(f"{type(backend).__name__} is not a keyring backend")
    module = type(backend).__module__
    if getattr(backend, "trace_vetted", False):
        return backend  # ours; its priority would cost a D-Bus round trip to confirm
    # recommended() reads the priority, which may probe the keychain (hence the thread).
    if module.startswith(_UNSAFE_MODULES) or not recommended(backend):
        raise _RefusedBackendError(
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
            for attempt in range(1, _VANISHED_RETRIES + 1):
                try:
                    found: str | None = super().get_password(service, username)  # type: ignore[no-untyped-call]
                except ItemNotFoundException:
                    _pause(attempt)
                    continue
                return found
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            """Create or replace the item; retried if another process deletes it meanwhile."""
            for attempt in range(1, _VANISHED_RETRIES + 1):
                try:
                    super().set_password(service, username, password)  # type: ignore[no-untyped-call]
                except ItemNotFoundException:
                    if attempt == _VANISHED_RETRIES:
                        raise
                    _pause(attempt)
                    continue
                return

        def delete_password(self, service: str, username: str) -> None:
            """Delete the item; one deleted by someone else mid-call counts as not there."""
            for attempt in range(1, _VANISHED_RETRIES + 1):
                try:
                    super().delete_password(service, username)  # type: ignore[no-untyped-call]
                except ItemNotFoundException:
                    _pause(attempt)
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


def _pause(attempt: int) -> None:
    """A short random wait before trying a vanished item again (at most ~0.3 s in all)."""
    import random

    time.sleep(random.uniform(0.002, 0.02) * attempt)  # noqa: S311 - jitter, not crypto


def _friendly_name(backend_type: type) -> str:
    module = backend_type.__module__
    if getattr(backend_type, "trace_vetted", False):
        return _FRIENDLY_NAMES["keyring.backends.SecretService"]
    if module in _FRIENDLY_NAMES:
        return _FRIENDLY_NAMES[module]
    return f"{module}.{backend_type.__name__}"


def _reason(exc: BaseException) -> str | None:
    """A readable reason for a keychain failure; None for exceptions that are bugs."""
    from keyring import errors

    if isinstance(exc, _RefusedBackendError):
        return exc.reason
    if isinstance(exc, errors.KeyringLocked):
        return "the keychain is locked"
    if isinstance(exc, errors.NoKeyringError):
        return "no keychain backend is available"
    if isinstance(exc, errors.InitError | RuntimeError) and _nobody_home(exc):
        return _NOBODY_HOME_REASON
    if isinstance(exc, errors.InitError):
        text = str(exc)
        if "Prompt dismissed" in text:
            return "the keychain is locked (unlocking it needs a password prompt)"
        return f"the keychain could not be opened ({text})"
    if isinstance(exc, errors.KeyringError):
        return f"the keychain refused the request ({type(exc).__name__}: {exc})"
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


def _secret_service_reason(exc: BaseException) -> str | None:
    """Reasons for SecretStorage and jeepney failures (libraries present on Linux only)."""
    try:
        import secretstorage.exceptions as ss
        from jeepney import DBusErrorResponse
        from jeepney.auth import AuthenticationError
    except ImportError:
        return None
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
    if isinstance(exc, DBusErrorResponse):
        return f"the Secret Service failed ({exc.name})"
    if isinstance(exc, AuthenticationError):
        return "the D-Bus session bus refused the connection"
    return None


def _nobody_home(exc: BaseException) -> bool:
    return any(hint in str(exc) for hint in _NO_SECRET_SERVICE_HINTS)


def _redact(reason: str, secret: str | None) -> str:
    """Never let a library's message carry the secret into ours; keep it short."""
    if secret:
        reason = reason.replace(secret, "…")
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"
