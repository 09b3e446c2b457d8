"""Login, Logout and AuthStatus: the Trace token, kept in the secret store like a key."""

from __future__ import annotations

import attrs

from application.ports import SecretStore, TraceBackend
from application.trace_token import TraceToken
from domain.chat import Profile
from domain.credential import KeySource, StoredSecret
from domain.errors import AuthenticationRejectedError, BackendUnavailableError, LoginFailedError
from domain.provider import TRACE_TOKEN_ACCOUNT
from domain.secret import Secret


@attrs.frozen
class LoginResult:
    """Where the token went, the account it belongs to (when the backend could say)."""

    stored: StoredSecret
    profile: Profile | None
    verified: bool
    overridden_by: KeySource | None


class Login:
    """Check a token with the backend (when reachable), then store it."""

    def __init__(self, *, secrets: SecretStore, backend: TraceBackend, token: TraceToken) -> None:
        self._secrets = secrets
        self._backend = backend
        self._token = token

    def execute(self, raw_token: str) -> LoginResult:
        """Store ``raw_token``; a token the backend rejects (401) is not stored."""
        secret = Secret.parse(raw_token, None)
        # Read the store first: one we cannot use (corrupt, insecure, keychain out) must
        # stop us before a network round trip that may retry for many seconds.
        self._secrets.get(TRACE_TOKEN_ACCOUNT)
        profile: Profile | None = None
        rejected = False
        try:
            profile = self._backend.profile(secret)
        except BackendUnavailableError:
            pass  # offline: keep the token, say it is unverified
        except AuthenticationRejectedError:
            rejected = True
        if rejected:
            # Not the 401's own fix ("log in again"): the user is logging in right now.
            raise LoginFailedError("the Trace backend rejected this token (401); it was not stored")
        stored = self._secrets.set(TRACE_TOKEN_ACCOUNT, secret)
        current = self._token.find()
        overridden = current.source if current and current.source.name else None
        return LoginResult(stored, profile, profile is not None, overridden)


class Logout:
    """Forget the stored token."""

    def __init__(self, *, secrets: SecretStore) -> None:
        self._secrets = secrets

    def execute(self) -> bool:
        """Delete the stored token; True if there was one."""
        return self._secrets.delete(TRACE_TOKEN_ACCOUNT)


@attrs.frozen
class AuthReport:
    """Whether a token is present, its source, and what the backend says about it."""

    logged_in: bool
    source: str | None
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
        source, masked = found.source.label, found.secret.masked()
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
