"""VerifyKey: ask the provider's own models endpoint whether the key in use works."""

from __future__ import annotations

import attrs

from application.ports import KeyVerifier
from application.services.key_resolution import KeyResolution
from domain.errors import InvalidInputError
from domain.keys import HelperReason, KeyRef
from domain.provider import Provider
from domain.verification import KeyVerification


class VerifyKey:
    """Verify the key a provider resolves to (env, helper or stored), or one named key."""

    def __init__(self, *, key_resolution: KeyResolution, verifier: KeyVerifier) -> None:
        self._key_resolution = key_resolution
        self._verifier = verifier

    def execute(
        self,
        provider: Provider,
        name: str | None = None,
        *,
        project_dir: str | None = None,
        reason: HelperReason = HelperReason.VERIFY,
    ) -> KeyVerification:
        """The provider's verdict on the key (``name``: that named key, env vars included).

        A helper is run (``reason``). Raises ``MissingKeyError`` when there is no key,
        ``KeyHelperError`` when a helper fails; the verdict itself never raises (its
        ``failure`` says what a rejected or unreachable verdict means).
        """
        if not provider.is_byok:
            raise InvalidInputError(
                "Trace-hosted models take no key to verify", "buildwithtrace auth status"
            )
        if name is not None:
            lookup = self._key_resolution.for_key(KeyRef(provider, name))
        else:
            context = self._key_resolution.context(project_dir)
            lookup = self._key_resolution.for_provider(provider, context)
        if not lookup.found:
            raise lookup.missing()
        lookup = self._key_resolution.fetch(lookup, reason)
        assert lookup.winner is not None  # fetch ran the helper, or raised
        found = self._verifier.verify(provider, lookup.winner.secret)
        return attrs.evolve(found, source=lookup.winner.source)
