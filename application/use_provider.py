"""UseProvider: make a provider (and one of its keys) active, only when that key resolves."""

from __future__ import annotations

import attrs

from application.ports import SettingsStore
from application.services.key_resolution import KeyResolution
from domain.credential import Credential, KeySource
from domain.keys import KeyRef
from domain.provider import Provider
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class UseProviderResult(Value):
    """The provider now active and the key it will use (None for Trace-hosted).

    ``credential`` is None too when a helper supplies the key (it runs at request time);
    ``source`` says where the key comes from either way.
    """

    provider: Provider
    credential: Credential | None
    key_name: str | None = None
    source: KeySource | None = None


class UseProvider:
    """Switch the active provider; refuses a BYOK provider (or named key) with no key."""

    def __init__(self, *, settings: SettingsStore, key_resolution: KeyResolution) -> None:
        self._settings = settings
        self._key_resolution = key_resolution

    def execute(self, provider: Provider, name: str | None = None) -> UseProviderResult:
        """Activate ``provider`` with its key ``name`` (default: its default key).

        Raises ``MissingKeyError`` (``MissingNamedKeyError``) when that key is not there.
        """
        self._settings.load()
        credential = None
        source = None
        if provider.is_byok:
            lookup = self._key_resolution.for_key(KeyRef(provider, name))
            if not lookup.found:
                raise lookup.missing()
            credential, source = lookup.winner, lookup.source
        elif name is not None:
            name = None  # Trace-hosted models have no keys to choose among
        self._settings.update(
            lambda s: (
                s.with_active(provider).with_key_name(provider, name)
                if provider.is_byok
                else s.with_active(provider)
            )
        )
        return UseProviderResult(provider, credential, name, source)
