"""Browser login with the device authorization grant (RFC 8628), as ``gh auth login`` does.

Why not a loopback callback: the URL a CLI opens is in the browser's command line,
which every local user can read in ``/proc/<pid>/cmdline``. Whatever in it identifies
the login (a ``state``, a PKCE challenge, the callback port) lets another user complete
that login with *their* account (approve the challenge, or call the callback with
their token), and the victim's chats then go to the attacker's account. Here the
browser opens only the generic ``verification_uri``; the user types the ``user_code``
that only their terminal shows, and the token comes back to this process alone, from
polling the backend with the secret ``device_code``. No port is opened at all.

The URL is checked again before it is opened (https, or http to loopback; nothing
that would start another program), whatever backend adapter produced it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from application.ports import BrowserLogin, LoginPrompts, TraceBackend
from domain.account import ClientKind
from domain.backend_url import is_safe_browser_url, is_valid_user_code
from domain.device_login import DeviceAuthorization, DeviceLoginState
from domain.errors import BackendUnavailableError, LoginFailedError, ProtocolError
from domain.secret import Secret

MIN_INTERVAL = 1.0  # never poll faster, whatever the backend says (interval 0)
MAX_INTERVAL = 60.0  # nor wait longer between polls (interval 10**9 would never poll)
SLOW_DOWN_STEP = 5.0  # RFC 8628 section 3.5: each slow_down adds 5 seconds
_AGAIN = "buildwithtrace auth login"


def open_in_browser(url: str) -> bool:
    """Open ``url`` in the user's browser (``BROWSER`` is honoured); False when none opened."""
    import webbrowser

    try:
        return webbrowser.open(url)
    except (webbrowser.Error, OSError):
        return False


class DeviceCodeLogin(BrowserLogin):
    """Obtain a Trace token through the user's browser: show a code, open a page, poll."""

    def __init__(
        self,
        backend: TraceBackend,
        *,
        client: ClientKind = ClientKind.CLI,
        opener: Callable[[str], bool] = open_in_browser,
        timeout: float = 180.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``opener(url)`` opens a browser (False when none could be); ``timeout`` in seconds."""
        self._backend = backend
        self._client = client
        self._opener = opener
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep

    def obtain(self, prompts: LoginPrompts, *, open_browser: bool = True) -> Secret:
        """The token, once the user approved this login; raises ``LoginFailedError``.

        ``open_browser`` False (``--no-browser``): only show the page and the code.

        Also ``ProtocolError`` for an unsafe or unreadable backend answer and
        ``DeviceLoginUnavailableError`` for a backend without device login.
        Interrupting (Ctrl-C) propagates as ``KeyboardInterrupt``: nothing was obtained.
        """
        try:
            authorization = self._backend.start_device_login(self._client)
        except BackendUnavailableError as exc:
            raise LoginFailedError(
                f"could not start the login: {exc.problem}",
                f"check the network and TRACE_BASE_URL, then log in again: {_AGAIN}",
            ) from None
        self._check(authorization)
        url = authorization.verification_uri
        prompts.show_code(authorization.user_code, url)
        if open_browser and not self._opener(url):
            prompts.no_browser(url)
        return self._poll(authorization)

    @staticmethod
    def _check(authorization: DeviceAuthorization) -> None:
        if not is_safe_browser_url(authorization.verification_uri):
            raise ProtocolError(
                "the Trace backend's login page is not an https URL (or http to this "
                "machine); nothing was opened"
            )
        if not is_valid_user_code(authorization.user_code):
            raise ProtocolError("the Trace backend's login code is not letters, digits and dashes")

    def _poll(self, authorization: DeviceAuthorization) -> Secret:
        expires = authorization.expires_in < self._timeout
        limit = min(self._timeout, authorization.expires_in)
        deadline = self._clock() + limit
        interval = _clamp(authorization.interval)
        while True:
            left = deadline - self._clock()
            if left <= 0:
                if expires:
                    raise _expired()
                raise LoginFailedError(
                    f"the login was not approved within {limit:g} s; nothing was stored",
                    f"{_AGAIN}   (approve it in the browser in time; TRACE_LOGIN_TIMEOUT "
                    "allows longer), or: buildwithtrace auth login --token-stdin",
                )
            self._sleep(min(interval, left))
            try:
                poll = self._backend.poll_device_login(authorization.device_code)
            except BackendUnavailableError as exc:
                raise LoginFailedError(
                    f"lost the Trace backend while waiting for the login: {exc.problem}",
                    f"check the network and TRACE_BASE_URL, then log in again: {_AGAIN}",
                ) from None
            if poll.state is DeviceLoginState.APPROVED and poll.token is not None:
                return poll.token
            if poll.state is DeviceLoginState.SLOW_DOWN:
                interval = _clamp(interval + SLOW_DOWN_STEP)
            elif poll.state is DeviceLoginState.DENIED:
                raise LoginFailedError(
                    "the login was denied in the browser; nothing was stored",
                    f"{_AGAIN}   (and approve the request in the browser)",
                )
            elif poll.state is DeviceLoginState.EXPIRED:
                raise _expired()


def _expired() -> LoginFailedError:
    return LoginFailedError(
        "the login code expired before it was approved; nothing was stored",
        f"{_AGAIN}   (for a new code; approve it before it expires)",
    )


def _clamp(interval: float) -> float:
    if not math.isfinite(interval):
        return MAX_INTERVAL
    return min(max(interval, MIN_INTERVAL), MAX_INTERVAL)
