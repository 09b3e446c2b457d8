"""RemoveKey: delete a provider's stored key or helper; if it was in use, Trace-hosted is active."""

from __future__ import annotations

import attrs

from application.ports import SecretStore, SettingsStore
from application.services.key_resolution import KeyResolution
from domain.credential import KeySource
from domain.errors import InvalidInputError
from domain.keys import KeyRef
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
    key_name: str | None = None


class RemoveKey:
    """Remove a stored key (or helper); if it was the active one, Trace-hosted becomes active."""

    def __init__(
        self, *, secrets: SecretStore, settings: SettingsStore, key_resolution: KeyResolution
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._key_resolution = key_resolution

    def execute(self, provider: Provider, name: str | None = None) -> RemoveKeyResult:
        """Delete the stored key and helper of ``provider`` (named ``name``); idempotent."""
        if not provider.is_byok:
            raise InvalidInputError(
                "Trace-hosted models have no key to remove", "buildwithtrace byok status"
            )
        ref = KeyRef(provider, name)
        before = self._settings.load()
        removed = self._secrets.delete(ref.account)
        removed |= ref in before.helpers or ref in before.named_keys
        reverted = False

        def forget(settings: Settings) -> Settings:
            nonlocal reverted
            in_use = settings.key_name_for(provider) == name
            reverted = settings.active_provider is provider and in_use
            settings = settings.without_key(ref)
            if in_use and name is not None:
                settings = settings.with_key_name(provider, None)
            return settings.with_active(Provider.TRACE) if reverted else settings

        self._settings.update(forget)
        self._key_resolution.forget(ref)
        remaining = self._key_resolution.for_key(ref).source
        return RemoveKeyResult(provider, removed, reverted, remaining, name)
