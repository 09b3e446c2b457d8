"""Logout: forget the stored Trace token."""

from __future__ import annotations

from application.ports import SecretStore
from domain.provider import TRACE_TOKEN_ACCOUNT


class Logout:
    """Forget the stored token."""

    def __init__(self, *, secrets: SecretStore) -> None:
        self._secrets = secrets

    def execute(self) -> bool:
        """Delete the stored token; True if there was one."""
        return self._secrets.delete(TRACE_TOKEN_ACCOUNT)
