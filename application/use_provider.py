"""UseProvider: make a provider active, only when a key resolves for it."""

from __future__ import annotations

import attrs

from application.ports import SettingsStore
from application.services.key_resolution import KeyResolution
from domain.credential import Credential
from domain.errors import MissingKeyError
from domain.provider import Provider
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class UseProviderResult(Value):
    """The provider now active and the key it will use (None for Trace-hosted)."""

    provider: Provider
    credential: Credential | None


class UseProvider:
    """Switch the active provider; refuses a BYOK provider with no key."""

    def __init__(self, *, settings: SettingsStore, key_resolution: KeyResolution) -> None:
        self._settings = settings
        self._key_resolution = key_resolution

    def execute(self, provider: Provider) -> UseProviderResult:
        """Activate ``provider``; raises ``MissingKeyError`` when it has no key."""
        self._settings.load()
        credential = None
        if provider.is_byok:
            credential = self._key_resolution.for_provider(provider).winner
            if credential is None:
                raise MissingKeyError(provider.value, provider.spec.env_vars)
        self._settings.update(lambda s: s.with_active(provider))
        return UseProviderResult(provider, credential)
