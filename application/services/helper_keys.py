"""HelperKeys: keys from helper commands, kept in memory for a while, never written anywhere.

A helper's key is held for ``ttl`` seconds (``keys.helper_ttl``) or until shortly before
the ``expires_at`` it printed, whichever comes first, per (key, command): changing the
command starts afresh. Concurrent requests for one key run its helper once. After the
provider rejected a key (the backend's ``provider_auth`` error) the chat asks again
with :meth:`HelperKeys.refresh`, which forgets the held key and runs the helper.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs

from application.ports import KeyHelper
from domain.credential import Credential
from domain.keys import HelperCommand, HelperReason, KeyRef, parse_helper_output
from domain.resolution import PendingKey
from domain.secret import Secret
from domain.value import Value

# An expiring key is dropped this long before its expires_at, so a request that starts
# just before never goes out with a key that dies on the way.
EXPIRY_MARGIN = 30.0


@attrs.frozen(eq=False, repr=False)
class _Held(Value):
    secret: Secret
    until: float


class HelperKeys:
    """Runs helpers through the ``KeyHelper`` port and holds their keys in memory."""

    def __init__(self, *, runner: KeyHelper, clock: Callable[[], float], ttl: float) -> None:
        self._runner = runner
        self._clock = clock
        self._ttl = ttl
        self._held: dict[tuple[KeyRef, HelperCommand], _Held] = {}
        self._locks: dict[tuple[KeyRef, HelperCommand], threading.Lock] = {}
        self._guard = threading.Lock()
        self._runs = 0

    @property
    def runs(self) -> int:
        """How many times a helper ran (for tests and status)."""
        return self._runs

    def fetch(self, pending: PendingKey, reason: HelperReason) -> Credential:
        """The key of ``pending``'s helper: held if still fresh, else from a new run.

        Raises ``KeyHelperError`` (failed, timed out, printed no key).
        """
        slot = (pending.ref, pending.helper)
        with self._lock(slot):
            held = self._held.get(slot)
            if held is not None and self._clock() < held.until:
                return Credential(pending.ref.provider, held.secret, pending.source)
            return self._run(pending, reason)

    def refresh(self, pending: PendingKey, reason: HelperReason) -> Credential:
        """Forget the held key and run the helper again (once), whatever its age."""
        slot = (pending.ref, pending.helper)
        with self._lock(slot):
            self._held.pop(slot, None)
            return self._run(pending, reason)

    def forget(self, ref: KeyRef) -> None:
        """Drop every key held for ``ref`` (its command changed, or it was removed)."""
        with self._guard:
            for slot in [slot for slot in self._held if slot[0] == ref]:
                del self._held[slot]

    def _run(self, pending: PendingKey, reason: HelperReason) -> Credential:
        output = self._runner.run(pending.helper, pending.ref, reason)
        with self._guard:
            self._runs += 1
        found = parse_helper_output(output, pending.ref)
        now = self._clock()
        until = now + self._ttl
        if found.expires_at is not None:
            until = min(until, found.expires_at - EXPIRY_MARGIN)
        slot = (pending.ref, pending.helper)
        if until > now:
            self._held[slot] = _Held(found.secret, until)
        else:
            # Used for this request (clocks differ; the provider decides), never kept.
            self._held.pop(slot, None)
        return Credential(pending.ref.provider, found.secret, pending.source)

    def _lock(self, slot: tuple[KeyRef, HelperCommand]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(slot, threading.Lock())
