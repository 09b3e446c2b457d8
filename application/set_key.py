"""SetKey: store a provider's key and make that provider active."""

from __future__ import annotations

import attrs

from application.key_shape import key_shape_warning
from application.ports import Environment, SecretStore, SettingsStore
from domain.credential import KeySource, StoredSecret
from domain.errors import InvalidInputError
from domain.provider import Provider
from domain.resolution import resolve_key
from domain.secret import Secret
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class SetKeyResult(Value):
    """What ``SetKey`` did: where the key went and what the user should know."""

    provider: Provider
    stored: StoredSecret
    warnings: tuple[str, ...]
    overridden_by: KeySource | None


class SetKey:
    """Validate and store a key, then make its provider active."""

    def __init__(
        self, *, secrets: SecretStore, settings: SettingsStore, environment: Environment
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._environment = environment

    def execute(self, provider: Provider, secret: Secret) -> SetKeyResult:
        """Store ``secret`` for ``provider`` and make it active; nothing changes on failure."""
        if not provider.is_byok:
            raise InvalidInputError(
                "Trace-hosted models need no key", "buildwithtrace byok use trace"
            )
        # Read the settings first: a corrupt config must stop us before the key is stored.
        self._settings.load()
        stored = self._secrets.set(provider.account, secret)
        self._settings.update(lambda s: s.with_active(provider))
        warning = key_shape_warning(provider, secret)
        return SetKeyResult(
            provider=provider,
            stored=stored,
            warnings=(warning,) if warning else (),
            overridden_by=self._overriding_env(provider),
        )

    def _overriding_env(self, provider: Provider) -> KeySource | None:
        # The CLI order with no stored key: its winner, if any, is the overriding variable.
        env = self._environment.snapshot(provider.spec.env_vars)
        winner = resolve_key(provider, env, None).winner
        return winner.source if winner else None
