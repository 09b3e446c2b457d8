"""Login: check a Trace token with the backend, then keep it in the secret store like a key."""

from __future__ import annotations

import attrs

from application.ports import BrowserLogin, LoginPrompts, SecretStore, TraceBackend
from application.services.trace_token import TraceToken
from domain.account import Profile
from domain.credential import KeySource, StoredSecret
from domain.errors import AuthenticationRejectedError, BackendUnavailableError, LoginFailedError
from domain.provider import TRACE_TOKEN_ACCOUNT
from domain.secret import Secret
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class LoginResult(Value):
    """Where the token went, the account it belongs to (when the backend could say)."""

    stored: StoredSecret
    profile: Profile | None
    verified: bool
    overridden_by: KeySource | None


class Login:
    """Obtain a token (through the browser, or as given), check it with the backend, store it."""

    def __init__(
        self,
        *,
        secrets: SecretStore,
        backend: TraceBackend,
        token: TraceToken,
        browser_login: BrowserLogin,
    ) -> None:
        self._secrets = secrets
        self._backend = backend
        self._token = token
        self._browser_login = browser_login

    def through_browser(self, prompts: LoginPrompts, *, open_browser: bool = True) -> LoginResult:
        """Log in through the browser (device code), then check and store the token.

        The store is read first: the user must not approve a login in the browser only
        to learn afterwards that the keychain or the credentials file is unusable.
        A failed or interrupted login leaves the stored token as it was.
        """
        self.prepare()
        return self.execute(self._browser_login.obtain(prompts, open_browser=open_browser))

    def prepare(self) -> None:
        """Raise ``StorageError`` now if the token could not be stored (before a browser login).

        The user should not approve a login in the browser only to learn afterwards that
        the keychain or credentials file is unusable.
        """
        self._secrets.get(TRACE_TOKEN_ACCOUNT)

    def execute(self, secret: Secret) -> LoginResult:
        """Store ``secret``; a token the backend rejects (401) is not stored."""
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
