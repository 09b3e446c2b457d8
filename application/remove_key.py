"""RemoveKey: delete a provider's stored key; the active provider reverts to Trace-hosted."""

from __future__ import annotations

import attrs

from application.ports import SecretStore, SettingsStore
from application.services.key_resolution import KeyResolution
from domain.credential import KeySource
from domain.errors import InvalidInputError
from domain.provider import Provider
from domain.settings import Settings
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class RemoveKeyResult(Value):
    """What was removed, whether the active provider changed, and what still supplies a key."""

    provider: Provider
    removed: bool
    reverted_to_trace: bool
    still_from: KeySource | None


class RemoveKey:
    """Remove a stored key; if its provider was active, Trace-hosted becomes active."""

    def __init__(
        self, *, secrets: SecretStore, settings: SettingsStore, key_resolution: KeyResolution
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._key_resolution = key_resolution

    def execute(self, provider: Provider) -> RemoveKeyResult:
        """Delete the stored key of ``provider`` (idempotent)."""
        if not provider.is_byok:
            raise InvalidInputError(
                "Trace-hosted models have no key to remove", "buildwithtrace byok status"
            )
        self._settings.load()
        removed = self._secrets.delete(provider.account)
        reverted = False

        def revert(settings: Settings) -> Settings:
            nonlocal reverted
            reverted = settings.active_provider is provider
            return settings.with_active(Provider.TRACE) if reverted else settings

        self._settings.update(revert)
        remaining = self._key_resolution.for_provider(provider).winner
        return RemoveKeyResult(provider, removed, reverted, remaining.source if remaining else None)
