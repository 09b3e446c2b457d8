"""ShowStatus: every provider's key (masked), its source, what it shadows, model, billing."""

from __future__ import annotations

import attrs

from application.ports import SecretStore, SettingsStore, StoreInfo
from application.services.key_resolution import KeyResolution
from domain.billing import BillingMode
from domain.credential import KeySource, SourceKind
from domain.model_id import ModelSource
from domain.provider import Provider
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class KeyStatus(Value):
    """Whether a provider has a key, where it comes from, and its masked form."""

    present: bool
    source: KeySource | None = None
    masked: str | None = None


@attrs.frozen(eq=False, repr=False)
class ProviderStatus(Value):
    """One row of the status table."""

    provider: Provider
    active: bool
    key: KeyStatus
    shadowed: tuple[KeySource, ...]
    model: str | None
    model_source: ModelSource
    billing: BillingMode


@attrs.frozen(eq=False, repr=False)
class StatusReport(Value):
    """The whole status (its JSON shape is a documented interface)."""

    active_provider: Provider
    billing: BillingMode
    secret_store: StoreInfo
    config_path: str
    providers: tuple[ProviderStatus, ...]

    @property
    def active(self) -> ProviderStatus:
        """The row of the active provider."""
        return next(p for p in self.providers if p.active)


class ShowStatus:
    """Report the BYOK state without changing anything."""

    def __init__(
        self, *, secrets: SecretStore, settings: SettingsStore, key_resolution: KeyResolution
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self._key_resolution = key_resolution

    def execute(self) -> StatusReport:
        """Read settings, environment and secret store into a report."""
        settings = self._settings.load()
        active = settings.provider
        rows = []
        providers = tuple(Provider)
        for provider, lookup in zip(
            providers, self._key_resolution.for_providers(providers), strict=True
        ):
            winner = lookup.winner
            key = (
                KeyStatus(True, winner.source, winner.secret.masked())
                if winner
                else KeyStatus(False)
            )
            remembered = settings.model_for(provider)
            rows.append(
                ProviderStatus(
                    provider=provider,
                    active=provider is active,
                    key=key,
                    shadowed=lookup.shadowed,
                    model=remembered or provider.spec.default_model,
                    model_source=ModelSource.CONFIG if remembered else ModelSource.DEFAULT,
                    billing=provider.spec.billing,
                )
            )
        return StatusReport(
            active_provider=active,
            billing=active.spec.billing,
            secret_store=self._secrets.info(),
            config_path=self._settings.location(),
            providers=tuple(rows),
        )


def overriding_env(row: ProviderStatus) -> bool:
    """True when an environment variable wins over a stored key for this row."""
    return (
        row.key.source is not None
        and row.key.source.kind is SourceKind.ENV
        and any(s.kind is not SourceKind.ENV for s in row.shadowed)
    )
