"""Where the Trace login token comes from: ``TRACE_API_TOKEN``, else the secret store."""

from __future__ import annotations

from application.ports import Environment, SecretStore
from domain.credential import KeySource, SourceKind, StoredSecret
from domain.errors import NotLoggedInError
from domain.provider import TRACE_TOKEN_ACCOUNT, TRACE_TOKEN_ENV
from domain.resolution import env_value
from domain.secret import Secret


class TraceToken:
    """Reads the Trace token: an explicit one (SDK ``token=``), env, then the secret store."""

    def __init__(
        self, *, secrets: SecretStore, environment: Environment, explicit: Secret | None = None
    ) -> None:
        self._secrets = secrets
        self._environment = environment
        self._explicit = explicit

    def find(self) -> StoredSecret | None:
        """The token and its source, or None when not logged in."""
        if self._explicit is not None:
            return StoredSecret(self._explicit, KeySource(SourceKind.ARGUMENT))
        value = env_value(self._environment.snapshot((TRACE_TOKEN_ENV,)), TRACE_TOKEN_ENV)
        if value is not None:
            return StoredSecret(Secret(value), KeySource.env(TRACE_TOKEN_ENV))
        return self._secrets.get(TRACE_TOKEN_ACCOUNT)

    def require(self) -> StoredSecret:
        """The token; raises ``NotLoggedInError`` when there is none."""
        found = self.find()
        if found is None:
            raise NotLoggedInError()
        return found
