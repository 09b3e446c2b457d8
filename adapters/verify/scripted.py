"""``ScriptedKeyVerifier``: an in-memory verifier (valid keys listed; others rejected)."""

from __future__ import annotations

from collections.abc import Iterable

from application.ports import KeyVerifier
from domain.provider import Provider
from domain.secret import Secret
from domain.verification import KeyVerification, Verdict


class ScriptedKeyVerifier(KeyVerifier):
    """Valid for the keys in ``valid`` (200), rejected otherwise (401); ``unreachable``: always
    unreachable. Records the (provider, masked key) of every check."""

    def __init__(self, valid: Iterable[str] = (), *, unreachable: bool = False) -> None:
        self._valid = set(valid)
        self._unreachable = unreachable
        self.checked: list[tuple[Provider, str]] = []

    def verify(self, provider: Provider, secret: Secret) -> KeyVerification:
        """The scripted verdict."""
        self.checked.append((provider, secret.masked()))
        if self._unreachable:
            return KeyVerification(
                provider, Verdict.UNREACHABLE, None, "could not connect", secret.masked()
            )
        if secret.reveal() in self._valid:
            return KeyVerification(
                provider,
                Verdict.VALID,
                200,
                "the models endpoint accepted the key (HTTP 200)",
                secret.masked(),
            )
        return KeyVerification(
            provider,
            Verdict.REJECTED,
            401,
            "the provider rejected the key (HTTP 401)",
            secret.masked(),
        )
