"""UseProvider: make a provider active, only when a key resolves for it."""

from __future__ import annotations

import attrs

from application.ports import SettingsStore
from application.resolve_key import ResolveKey
from domain.credential import Credential
from domain.errors import MissingKeyError
from domain.provider import Provider


@attrs.frozen
class UseProviderResult:
    """The provider now active and the key it will use (None for Trace-hosted)."""

    provider: Provider
    credential: Credential | None


class UseProvider:
    """Switch the active provider; refuses a BYOK provider with no key."""

    def __init__(self, *, settings: SettingsStore, resolve_key: ResolveKey) -> None:
        self._settings = settings
        self._resolve_key = resolve_key

    def execute(self, provider_name: str) -> UseProviderResult:
        """Activate ``provider_name``; raises ``MissingKeyError`` when it has no key."""
        provider = Provider.parse(provider_name)
        self._settings.load()
        credential = None
        if provider.is_byok:
            credential = self._resolve_key.for_provider(provider).winner
            if credential is None:
                raise MissingKeyError(provider.value, provider.spec.env_vars)
        self._settings.update(lambda s: s.with_active(provider))
        return UseProviderResult(provider, credential)
