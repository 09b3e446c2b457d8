"""BillingStatus: the Trace plan's usage, and who pays for AI requests right now."""

from __future__ import annotations

import attrs

from application.ports import SettingsStore, TraceBackend
from application.services.key_resolution import KeyResolution
from application.services.trace_token import TraceToken
from domain.account import Quota
from domain.billing import BillingMode
from domain.errors import MissingKeyError
from domain.provider import Provider
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class BillingReport(Value):
    """The plan figures plus the active provider and its payer."""

    quota: Quota
    active_provider: Provider
    billing: BillingMode
    payer: str
    key_ready: bool


class BillingStatus:
    """Combine the backend's quota with the local BYOK choice."""

    def __init__(
        self,
        *,
        backend: TraceBackend,
        token: TraceToken,
        settings: SettingsStore,
        key_resolution: KeyResolution,
    ) -> None:
        self._backend = backend
        self._token = token
        self._settings = settings
        self._key_resolution = key_resolution

    def execute(self) -> BillingReport:
        """Ask the backend for the quota; raises ``NotLoggedInError``/``BackendError``."""
        provider = self._settings.load().provider
        key_ready = True
        if provider.is_byok:
            try:
                key_ready = self._key_resolution.for_provider(provider).winner is not None
            except MissingKeyError:
                key_ready = False
        quota = self._backend.quota(self._token.require().secret)
        spec = provider.spec
        return BillingReport(
            quota, provider, spec.billing, spec.billing.describe(spec.label), key_ready
        )
