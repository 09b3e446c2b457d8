"""Browser login: open the Trace login page and take the token from one loopback callback.

The callback server listens on 127.0.0.1 on a random port, checks a random
``state`` (so another page cannot inject a token), accepts exactly one valid
callback and stops; it never listens on other interfaces and gives up at a deadline.
"""

from __future__ import annotations

import hmac
import secrets
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer

from domain.errors import LoginFailedError
from domain.secret import Secret

_DONE_PAGE = (
    b"<!doctype html><title>Trace</title><p>You are logged in to the Trace CLI. "
    b"You can close this tab.</p>"
)


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
        received: list[str] = []
        server = HTTPServer(("127.0.0.1", 0), _handler(state, received))
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
            deadline = time.monotonic() + self._timeout
            while not received:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LoginFailedError(
                        f"no login callback arrived within {self._timeout:.0f} s"
                    )
                server.timeout = remaining
                server.handle_request()
        finally:
            server.server_close()
        return Secret.parse(received[0])


def _handler(state: str, received: list[str]) -> type[BaseHTTPRequestHandler]:
    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            self._accept(parsed.path, urllib.parse.parse_qs(parsed.query))

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), 16 * 1024)
            body = self.rfile.read(length).decode("utf-8", "replace")
            self._accept(urllib.parse.urlsplit(self.path).path, urllib.parse.parse_qs(body))

        def _accept(self, path: str, params: dict[str, list[str]]) -> None:
            given_state = (params.get("state") or [""])[0]
            token = (params.get("token") or [""])[0]
            valid = (
                path == "/callback"
                and not received
                and hmac.compare_digest(given_state.encode(), state.encode())
                and bool(token.strip())
            )
            if not valid:
                self.send_error(400, "invalid login callback")
                return
            received.append(token)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(_DONE_PAGE)))
            self.end_headers()
            self.wfile.write(_DONE_PAGE)

        def log_message(self, format: str, *args: object) -> None:
            """Silence the default stderr access log (it would print the token URL)."""

    return Callback
