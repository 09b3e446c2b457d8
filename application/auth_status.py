"""AuthStatus: whether a Trace token is present, from where, and whether the backend takes it."""

from __future__ import annotations

import attrs

from application.ports import TraceBackend
from application.services.trace_token import TraceToken
from domain.account import Profile
from domain.credential import KeySource
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class AuthReport(Value):
    """Whether a token is present, its source, and what the backend says about it."""

    logged_in: bool
    source: KeySource | None
    masked: str | None
    checked: bool
    valid: bool | None
    profile: Profile | None
    problem: str | None


class AuthStatus:
    """Report the login state, checking the token with the backend when reachable."""

    def __init__(self, *, backend: TraceBackend, token: TraceToken) -> None:
        self._backend = backend
        self._token = token

    def execute(self, check: bool = True) -> AuthReport:
        """The report; never raises for an unreachable backend (it says so instead)."""
        found = self._token.find()
        if found is None:
            return AuthReport(False, None, None, False, None, None, None)
        source, masked = found.source, found.secret.masked()
        if not check:
            return AuthReport(True, source, masked, False, None, None, None)
        from domain.errors import AuthenticationRejectedError, BackendError

        try:
            profile = self._backend.profile(found.secret)
        except AuthenticationRejectedError as exc:
            return AuthReport(True, source, masked, True, False, None, exc.problem)
        except BackendError as exc:
            return AuthReport(True, source, masked, False, None, None, exc.problem)
        return AuthReport(True, source, masked, True, True, profile, None)
