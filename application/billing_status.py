"""BillingStatus: the Trace plan's usage, and who pays for AI requests right now."""

from __future__ import annotations

import attrs

from application.ports import SettingsStore, TraceBackend
from application.services.key_resolution import KeyResolution
from application.services.trace_token import TraceToken
from domain.account import Quota
from domain.billing import BillingMode
from domain.errors import BackendError, MissingKeyError
from domain.provider import Provider
from domain.secret import Secret
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class BillingReport(Value):
    """The plan figures plus the active provider and its payer.

    ``plan`` is the one answer to "which Trace plan": the profile's (what ``auth
    status`` shows), else the quota's; ``quota.plan`` is what the quota alone said.
    """

    quota: Quota
    active_provider: Provider
    billing: BillingMode
    payer: str
    key_ready: bool
    plan: str | None = None


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
                key_ready = self._key_resolution.for_provider(provider).found
            except MissingKeyError:
                key_ready = False
        token = self._token.require().secret
        quota = self._backend.quota(token)
        return BillingReport(
            quota,
            provider,
            provider.spec.billing,
            provider.payer,
            key_ready,
            self._plan(token, quota),
        )

    def _plan(self, token: Secret, quota: Quota) -> str | None:
        """The profile's plan (the one ``auth status`` shows), else the quota's."""
        try:
            profile = self._backend.profile(token)
        except BackendError:
            return quota.plan  # the quota answered; a failed profile costs only the fallback
        return profile.plan or quota.plan
