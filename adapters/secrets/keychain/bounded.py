"""Keychain calls bounded in time: an abandonable worker thread, and a remembered failure.

``keyring`` has no timeout: a hung Secret Service blocks its caller forever. Each call
therefore runs in a daemon thread that is abandoned after ``timeout`` seconds (a daemon
thread never delays interpreter exit; an executor's atexit join would). A failure is
remembered for ``retry_after`` seconds so that a CLI command pays the timeout once, not
per call, while a long-running app notices a keychain that came back.

A ``set`` abandoned on timeout may still complete later in its thread, while the caller
has already been told it failed; the fallback store's next successful ``set`` removes
any copy that ends up in two places.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from adapters.secrets.keychain.reasons import reason_for, redact
from domain.errors import KeychainUnavailableError

T = TypeVar("T")


class BoundedCalls:
    """Runs keychain operations with a time bound; raises ``KeychainUnavailableError``."""

    def __init__(self, name: str, timeout: float, retry_after: float) -> None:
        self._name = name
        self._timeout = timeout
        self._retry_after = retry_after
        self._failure: tuple[str, float] | None = None  # reason, time.monotonic() of failure
        self._lock = threading.Lock()

    def run(self, operation: Callable[[], T], secret: str | None = None) -> T:
        """``operation()`` in an abandonable thread; ``secret`` never reaches a message."""
        with self._lock:
            failure = self._failure
            if failure is not None and time.monotonic() - failure[1] >= self._retry_after:
                failure = self._failure = None
        if failure is not None:
            raise KeychainUnavailableError(failure[0])
        outcome: _Outcome[T] = _Outcome()
        worker = threading.Thread(
            target=outcome.run, args=(operation,), name=f"keychain-{self._name}", daemon=True
        )
        worker.start()
        if not outcome.done.wait(self._timeout):
            raise self._fail(f"the keychain did not answer within {self._timeout:g}s")
        if outcome.error is None:
            return outcome.value[0]
        error = outcome.error
        reason = reason_for(error)
        if reason is None:
            if secret and secret in f"{error} {error.args!r}":
                # A bug, but one whose message holds the key: show the bug, never the key.
                shown = f"unexpected {type(error).__name__} from the keychain: {error}"
                raise KeychainUnavailableError(redact(shown, secret)) from None
            raise error  # not a keychain condition: a bug, shown as one
        raise self._fail(redact(reason, secret)) from None

    def _fail(self, reason: str) -> KeychainUnavailableError:
        with self._lock:
            self._failure = (reason, time.monotonic())
        return KeychainUnavailableError(reason)


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
