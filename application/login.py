"""Login: check a Trace token with the backend, then keep it in the secret store like a key."""

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

    def prepare(self) -> None:
        """Raise ``StorageError`` now if the token could not be stored (before a browser login).

        The user should not approve a login in the browser only to learn afterwards that
        the keychain or credentials file is unusable.
        """
        self._secrets.get(TRACE_TOKEN_ACCOUNT)

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
