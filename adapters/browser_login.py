"""Browser login: open the Trace login page and take the token from one loopback callback.

The callback server listens on 127.0.0.1 on a random port, checks a random
``state`` (so another page cannot inject a token), accepts exactly one valid
callback and stops; it never listens on other interfaces and gives up at a deadline.

Each connection is served on its own thread with a read timeout: browsers open
speculative connections that send nothing, and one of those must neither block the
real callback nor keep the login waiting past its deadline.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from domain.errors import LoginFailedError
from domain.secret import Secret

_DONE_PAGE = (
    b"<!doctype html><title>Trace</title><p>You are logged in to the Trace CLI. "
    b"You can close this tab.</p>"
)
_BODY_LIMIT = 16 * 1024
_CONNECTION_TIMEOUT = 10.0  # an idle connection's handler thread ends after this


class LoopbackBrowserLogin:
    """Obtain a Trace token through the user's browser."""

    def __init__(
        self,
        login_page: str,
        open_browser: Callable[[str], bool],
        *,
        timeout: float = 180.0,
        on_url: Callable[[str], None] | None = None,
    ) -> None:
        self._login_page = login_page
        self._open_browser = open_browser
        self._timeout = timeout
        self._on_url = on_url

    def obtain(self) -> Secret:
        """Open the page and wait for the callback; raises ``LoginFailedError``."""
        state = secrets.token_urlsafe(24)
        callback = _Callback(state)
        server = _CallbackServer(("127.0.0.1", 0), _handler(callback))
        serving = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        serving.start()
        try:
            port = server.server_address[1]
            query = urllib.parse.urlencode(
                {"redirect_uri": f"http://127.0.0.1:{port}/callback", "state": state}
            )
            url = f"{self._login_page}?{query}"
            if self._on_url is not None:
                self._on_url(url)
            if not self._open_browser(url):
                raise LoginFailedError("no web browser could be opened")
            token = callback.wait(self._timeout)
            if token is None:
                raise LoginFailedError(f"no login callback arrived within {self._timeout:g} s")
        finally:
            server.shutdown()
            server.server_close()
        return Secret.parse(token)


class _Callback:
    """The one token the login accepts, guarded for concurrent connections."""

    def __init__(self, state: str) -> None:
        self._state = state.encode()
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self._token: str | None = None

    def offer(self, path: str, params: dict[str, list[str]]) -> bool:
        """Take the token if this is the first valid callback; False otherwise."""
        given_state = (params.get("state") or [""])[0]
        token = (params.get("token") or [""])[0]
        if path != "/callback" or not token.strip():
            return False
        if not hmac.compare_digest(given_state.encode(), self._state):
            return False
        with self._lock:
            if self._token is not None:
                return False
            self._token = token
        self._arrived.set()
        return True

    def wait(self, timeout: float) -> str | None:
        """The token, or None when none arrived within ``timeout`` seconds."""
        self._arrived.wait(max(0.0, timeout))
        with self._lock:
            return self._token


class _CallbackServer(ThreadingHTTPServer):
    """Threads per connection; closing does not wait for idle connections."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a broken connection from a browser is not the user's concern."""


def _handler(callback: _Callback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = _CONNECTION_TIMEOUT

        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            self._accept(parsed.path, urllib.parse.parse_qs(parsed.query))

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= _BODY_LIMIT:
                self.send_error(400, "invalid login callback")
                return
            body = self.rfile.read(length).decode("utf-8", "replace")
            self._accept(urllib.parse.urlsplit(self.path).path, urllib.parse.parse_qs(body))

        def _accept(self, path: str, params: dict[str, list[str]]) -> None:
            if not callback.offer(path, params):
                self.send_error(400, "invalid login callback")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(_DONE_PAGE)))
            self.end_headers()
            self.wfile.write(_DONE_PAGE)

        def log_message(self, format: str, *args: object) -> None:
            """Silence the default stderr access log (it would print the token URL)."""

    return Handler
