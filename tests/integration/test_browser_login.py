"""LoopbackBrowserLogin against real HTTP callbacks on 127.0.0.1 (the "browser" is this test)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence

import attrs
import pytest

from adapters.browser_login import LoopbackBrowserLogin
from domain.errors import LoginFailedError
from domain.secret import Secret

LOGIN_PAGE = "https://app.example.com/cli/login"
TOKEN = "trace-token-from-the-browser-0123"


@attrs.frozen
class Opened:
    """What the login asked the browser to open."""

    url: str
    redirect_uri: str
    state: str
    port: int


def parse(url: str) -> Opened:
    """The callback address and state carried by the login page URL."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    redirect = query["redirect_uri"][0]
    port = urllib.parse.urlsplit(redirect).port
    assert port is not None
    return Opened(url, redirect, query["state"][0], port)


def callback(url: str, *, post: bool = False) -> int:
    """Call ``url`` like a browser does (GET, or a form POST); the HTTP status."""
    data = None
    if post:
        split = urllib.parse.urlsplit(url)
        url, data = split._replace(query="").geturl(), split.query.encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=5) as answer:  # noqa: S310
            status: int = answer.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def with_query(base: str, **params: str) -> str:
    """``base`` with ``params`` as its query string."""
    return f"{base}?{urllib.parse.urlencode(params)}"


class Browser:
    """A fake browser: records the URL and, in the background, runs a list of callbacks."""

    def __init__(self, plan: Callable[[Opened], Sequence[Callable[[], int]]]) -> None:
        self._plan = plan
        self.opened: list[Opened] = []
        self.statuses: list[int | str] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, url: str) -> bool:
        opened = parse(url)
        self.opened.append(opened)
        steps = self._plan(opened)

        def run() -> None:
            for step in steps:
                try:
                    self.statuses.append(step())
                except OSError as error:  # refused or reset once the login stopped listening
                    self.statuses.append(type(error).__name__)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._threads.append(thread)
        return True

    def join(self) -> None:
        """Wait for the background callbacks to finish."""
        for thread in self._threads:
            thread.join(10)


@pytest.fixture
def seen_urls() -> list[str]:
    """URLs the login reported through on_url."""
    return []


def login(browser: Callable[[str], bool], seen: list[str], timeout: float = 10.0) -> Secret:
    """Run the flow with ``browser``."""
    flow = LoopbackBrowserLogin(LOGIN_PAGE, browser, timeout=timeout, on_url=seen.append)
    return flow.obtain()


def test_a_valid_callback_delivers_the_token(seen_urls: list[str]) -> None:
    browser = Browser(
        lambda o: [lambda: callback(with_query(o.redirect_uri, state=o.state, token=TOKEN))]
    )

    token = login(browser, seen_urls)
    browser.join()

    assert token == Secret(TOKEN)
    assert browser.statuses == [200]
    [opened] = browser.opened
    assert seen_urls == [opened.url]
    assert opened.url.startswith(f"{LOGIN_PAGE}?")
    assert opened.redirect_uri == f"http://127.0.0.1:{opened.port}/callback"
    assert len(opened.state) >= 24


def test_a_form_post_callback_is_accepted_too(seen_urls: list[str]) -> None:
    browser = Browser(
        lambda o: [
            lambda: callback(with_query(o.redirect_uri, state=o.state, token=TOKEN), post=True)
        ]
    )

    assert login(browser, seen_urls) == Secret(TOKEN)


def test_each_login_uses_a_fresh_state_and_port(seen_urls: list[str]) -> None:
    def plan(o: Opened) -> list[Callable[[], int]]:
        return [lambda: callback(with_query(o.redirect_uri, state=o.state, token=TOKEN))]

    first, second = Browser(plan), Browser(plan)
    login(first, seen_urls)
    login(second, seen_urls)

    assert first.opened[0].state != second.opened[0].state


def test_a_wrong_state_is_refused_and_the_login_keeps_waiting(seen_urls: list[str]) -> None:
    browser = Browser(
        lambda o: [
            lambda: callback(with_query(o.redirect_uri, state="forged-state", token="evil-token")),
            lambda: callback(with_query(o.redirect_uri, token="evil-token")),
            lambda: callback(with_query(o.redirect_uri, state=o.state, token=TOKEN)),
        ]
    )

    token = login(browser, seen_urls)
    browser.join()

    assert browser.statuses == [400, 400, 200]
    assert token == Secret(TOKEN)


def test_a_wrong_path_or_an_empty_token_is_refused(seen_urls: list[str]) -> None:
    browser = Browser(
        lambda o: [
            lambda: callback(
                with_query(f"http://127.0.0.1:{o.port}/other", state=o.state, token="x" * 20)
            ),
            lambda: callback(with_query(o.redirect_uri, state=o.state, token="  ")),
            lambda: callback(with_query(o.redirect_uri, state=o.state, token=TOKEN)),
        ]
    )

    token = login(browser, seen_urls)
    browser.join()

    assert browser.statuses == [400, 400, 200]
    assert token == Secret(TOKEN)


def test_only_the_first_valid_callback_counts(seen_urls: list[str]) -> None:
    browser = Browser(
        lambda o: [
            lambda: callback(with_query(o.redirect_uri, state=o.state, token=TOKEN)),
            lambda: callback(with_query(o.redirect_uri, state=o.state, token="second-token-xyz")),
        ]
    )

    token = login(browser, seen_urls)
    browser.join()

    assert token == Secret(TOKEN)
    assert browser.statuses[0] == 200
    # Refused (400) while the server still runs, or no longer listening at all.
    assert browser.statuses[1] != 200


def test_no_callback_times_out_quickly_with_the_fix(seen_urls: list[str]) -> None:
    started = time.monotonic()
    with pytest.raises(LoginFailedError) as info:
        login(Browser(lambda o: []), seen_urls, timeout=0.5)

    assert time.monotonic() - started < 3
    assert "no login callback arrived within 0.5 s" in info.value.problem
    assert "--token-stdin" in info.value.fix


def test_the_callback_port_is_closed_after_a_timeout(seen_urls: list[str]) -> None:
    browser = Browser(lambda o: [])
    with pytest.raises(LoginFailedError):
        login(browser, seen_urls, timeout=0.3)

    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", browser.opened[0].port)):
        pass


def test_a_browser_that_cannot_open_fails_at_once(seen_urls: list[str]) -> None:
    with pytest.raises(LoginFailedError) as info:
        login(lambda url: False, seen_urls)

    assert "no web browser" in info.value.problem


def test_an_idle_connection_neither_blocks_the_callback_nor_the_deadline(
    seen_urls: list[str],
) -> None:
    held: list[socket.socket] = []

    def preconnect(o: Opened) -> int:
        # Browsers open speculative connections that send nothing.
        held.append(socket.create_connection(("127.0.0.1", o.port)))
        return 0

    browser = Browser(
        lambda o: [
            lambda: preconnect(o),
            lambda: callback(with_query(o.redirect_uri, state=o.state, token=TOKEN)),
        ]
    )
    try:
        started = time.monotonic()
        assert login(browser, seen_urls, timeout=5) == Secret(TOKEN)
        assert time.monotonic() - started < 3

        idle_only = Browser(lambda o: [lambda: preconnect(o)])
        started = time.monotonic()
        with pytest.raises(LoginFailedError):
            login(idle_only, seen_urls, timeout=0.5)
        assert time.monotonic() - started < 3
    finally:
        for sock in held:
            sock.close()


def _other_local_addresses() -> Iterator[str]:
    """Addresses of this machine that are not 127.0.0.1 (another loopback, the LAN address)."""
    yield "127.0.0.2"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for UDP connect
            address = str(probe.getsockname()[0])
    except OSError:
        return
    if not address.startswith("127."):
        yield address


def test_the_callback_server_listens_on_127_0_0_1_only(seen_urls: list[str]) -> None:
    reachable: dict[str, bool] = {}

    def probe(o: Opened) -> int:
        for address in ("127.0.0.1", *_other_local_addresses()):
            try:
                socket.create_connection((address, o.port), timeout=2).close()
            except OSError:
                reachable[address] = False
            else:
                reachable[address] = True
        return callback(with_query(o.redirect_uri, state=o.state, token=TOKEN))

    browser = Browser(lambda o: [lambda: probe(o)])
    assert login(browser, seen_urls) == Secret(TOKEN)
    browser.join()

    assert reachable.pop("127.0.0.1") is True
    assert reachable, "no other local address to probe"
    assert not any(reachable.values()), reachable
