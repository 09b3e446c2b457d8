"""DeviceCodeLogin (RFC 8628) with the HTTP adapter against the protocol server; hostile answers.

The clock is fake (each ``sleep`` advances it), so the pacing of the polls is checked
exactly and a login that would wait minutes takes none; the server's own interval
check is off for the same reason (tests/e2e runs the real clock against it).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from adapters.backend.http import HttpTraceBackend
from adapters.backend.scripted import DEFAULT_DEVICE_AUTHORIZATION, ScriptedTraceBackend
from adapters.login.device import MAX_INTERVAL, DeviceCodeLogin
from domain.device_login import DeviceAuthorization
from domain.errors import DeviceLoginUnavailableError, LoginFailedError, ProtocolError
from domain.secret import Secret
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

OTHER = "other-account-token-0123456789"


@attrs.define
class User:
    """The person at the terminal and the browser, and a fake clock the flow sleeps on."""

    server: ProtocolServer | None
    now: float = 1000.0
    sleeps: list[float] = attrs.field(factory=list)
    shown: list[tuple[str, str]] = attrs.field(factory=list)
    opened: list[str] = attrs.field(factory=list)
    not_opened: list[str] = attrs.field(factory=list)
    browser_works: bool = True
    # What the user does in the browser after the n-th sleep (0-based): approve as a token.
    approve_after: dict[int, str] = attrs.field(factory=dict)
    deny_after: int | None = None

    def clock(self) -> float:
        """The fake monotonic clock."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Advance the clock; the user acts in the browser meanwhile."""
        assert seconds > 0
        assert len(self.sleeps) < 1000, "the login never ends"
        self.sleeps.append(seconds)
        self.now += seconds
        step = len(self.sleeps) - 1
        if self.server is not None and self.shown:
            code = self.shown[-1][0]
            if step in self.approve_after:
                assert self.server.approve_device(code, self.approve_after[step])[0] == 200
            if step == self.deny_after:
                assert self.server.deny_device(code)[0] == 200

    def show_code(self, user_code: str, url: str) -> None:
        """Record what the terminal shows."""
        self.shown.append((user_code, url))

    def no_browser(self, url: str) -> None:
        """Record that the user was told to open ``url`` themselves."""
        self.not_opened.append(url)

    def open_browser(self, url: str) -> bool:
        """Record what the browser was asked to open."""
        self.opened.append(url)
        return self.browser_works


@pytest.fixture
def server(protocol_server: ProtocolServer) -> ProtocolServer:
    """The protocol server with a second account and the interval check off (fake clock)."""
    protocol_server.load(
        {
            "accounts": {OTHER: {"email": "other@example.com", "plan": "free"}},
            "device": {"enforce_interval": False},
        }
    )
    return protocol_server


@pytest.fixture
def backend(server: ProtocolServer) -> Iterator[HttpTraceBackend]:
    """The HTTP adapter pointed at the server (no retry waits)."""
    made = HttpTraceBackend(server.url, read_timeout=5, sleep=lambda s: None)
    yield made
    made.close()


@attrs.frozen
class Flow:
    """A login wired to one ``User``: their terminal, their browser, their clock."""

    login: DeviceCodeLogin
    user: User
    browser: bool

    def obtain(self) -> Secret:
        """Run the login as the CLI does."""
        return self.login.obtain(self.user, open_browser=self.browser)


def flow(backend: Any, user: User, *, timeout: float = 180.0, browser: bool = True) -> Flow:
    """The login, wired to ``user``."""
    login = DeviceCodeLogin(
        backend, opener=user.open_browser, timeout=timeout, clock=user.clock, sleep=user.sleep
    )
    return Flow(login, user, browser)


def device_code_posts(server: ProtocolServer) -> list[dict[str, Any]]:
    """Bodies of the polls (POST /auth/device/token)."""
    return [r.body for r in server.requests_to("/auth/device/token")]


# --- the flow --------------------------------------------------------------------------


def test_the_token_of_the_account_that_approved_is_returned(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """Code shown, generic page opened, polls until approved: the approving account's token."""
    user = User(server, approve_after={1: TOKEN})

    token = flow(backend, user).obtain()

    assert token == Secret(TOKEN)
    [(code, url)] = user.shown
    assert url == f"{server.url}/login/device"
    assert user.opened == [url]
    assert user.sleeps == [1.0, 1.0]  # pending; approved during the second wait
    [login] = server.device_logins
    assert login["user_code"] == code and login["state"] == "used"
    [start] = server.requests_to("/auth/device/code")
    assert start.body == {"client": "cli"}


def test_the_device_code_goes_only_to_the_token_endpoint_and_no_token_is_sent(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """The device code is in the poll bodies only; the login's requests carry no Authorization."""
    user = User(server, approve_after={0: TOKEN})
    flow(backend, user).obtain()

    [poll] = device_code_posts(server)
    device_code = poll["device_code"]
    assert len(device_code) >= 32
    everything_else = json.dumps(
        [user.shown, user.opened, [r.path for r in server.requests]]
        + [r.to_json() for r in server.requests_to("/auth/device/code")]
    )
    assert device_code not in everything_else
    assert all(r.authorization is None for r in server.requests)


def test_the_browser_url_carries_nothing_that_identifies_the_login(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """Neither the user code nor the device code is in what the browser opens."""
    user = User(server, approve_after={0: TOKEN})
    flow(backend, user).obtain()

    [(code, url)] = user.shown
    [poll] = device_code_posts(server)
    assert code not in url and code.replace("-", "") not in url
    assert poll["device_code"] not in url


def test_no_browser_shows_the_url_and_opens_nothing(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """``--no-browser``: the code and URL are shown; the browser is never asked."""
    user = User(server, approve_after={0: TOKEN})

    assert flow(backend, user, browser=False).obtain() == Secret(TOKEN)
    assert user.opened == [] and user.not_opened == []
    assert len(user.shown) == 1


def test_a_browser_that_cannot_open_is_reported_and_the_login_goes_on(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """No browser (e.g. over SSH): the user is told where to go, and polling continues."""
    user = User(server, approve_after={2: OTHER}, browser_works=False)

    assert flow(backend, user).obtain() == Secret(OTHER)
    assert user.not_opened == [user.shown[0][1]]


def test_slow_down_adds_five_seconds_to_the_interval(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """RFC 8628 section 3.5: each slow_down adds 5 s to the wait before every later poll."""
    refusal = {"error": "slow_down"}
    server.respond_to("device_token", ps.respond(400, {"error": "authorization_pending"}))
    server.respond_to("device_token", ps.respond(400, refusal), ps.respond(400, refusal))
    user = User(server, approve_after={3: TOKEN})

    assert flow(backend, user).obtain() == Secret(TOKEN)
    assert user.sleeps == [1.0, 1.0, 6.0, 11.0]


@pytest.mark.parametrize(("interval", "sleeps"), [(0, [1.0] * 10), (-3, [5.0, 5.0])])
def test_an_interval_below_one_second_polls_once_a_second(
    server: ProtocolServer, backend: HttpTraceBackend, interval: float, sleeps: list[float]
) -> None:
    """Interval 0 is raised to 1 s; a negative one means "none given": RFC 8628's 5 s."""
    server.load({"device": {"interval": interval, "enforce_interval": False}})
    user = User(server)

    with pytest.raises(LoginFailedError) as info:
        flow(backend, user, timeout=10).obtain()

    assert "not approved within 10 s" in info.value.problem
    assert user.sleeps == sleeps


def test_a_huge_interval_still_ends_at_the_timeout(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """Interval 10**9: waits are capped at 60 s and the login still ends at its timeout."""
    server.load({"device": {"interval": 10**9, "enforce_interval": False}})
    user = User(server)

    with pytest.raises(LoginFailedError):
        flow(backend, user, timeout=150).obtain()

    assert user.sleeps == [MAX_INTERVAL, MAX_INTERVAL, 30.0]
    assert sum(user.sleeps) == 150


def test_an_endless_authorization_pending_stops_at_the_timeout(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """Nobody approves: one poll a second until TRACE_LOGIN_TIMEOUT, then a clear error."""
    user = User(server)

    with pytest.raises(LoginFailedError) as info:
        flow(backend, user, timeout=30).obtain()

    assert sum(user.sleeps) == 30
    assert len(device_code_posts(server)) == 30
    assert info.value.problem == "the login was not approved within 30 s; nothing was stored"
    assert "buildwithtrace auth login" in info.value.fix


def test_the_login_ends_when_the_code_expires(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """``expires_in`` shorter than the timeout ends the login as expired."""
    server.load({"device": {"expires_in": 4, "enforce_interval": False}})
    user = User(server)

    with pytest.raises(LoginFailedError) as info:
        flow(backend, user).obtain()

    assert sum(user.sleeps) == 4
    assert "expired" in info.value.problem


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"error": "access_denied"}, "the login was denied in the browser; nothing was stored"),
        ({"error": "expired_token"}, "the login code expired before it was approved"),
        ({"error": "invalid_grant"}, "the Trace backend ended the device login (invalid_grant)"),
        ({"error": "\x1b[2Jgone"}, "the Trace backend ended the device login (an unknown error)"),
    ],
)
def test_refusals_end_the_login_with_a_fix(
    server: ProtocolServer, backend: HttpTraceBackend, answer: dict[str, str], problem: str
) -> None:
    """Denied, expired and unknown refusals are LoginFailedError naming the command."""
    server.respond_to("device_token", ps.respond(400, answer))

    with pytest.raises(LoginFailedError) as info:
        flow(backend, User(server)).obtain()

    assert info.value.problem.startswith(problem)
    assert "buildwithtrace auth login" in info.value.fix
    assert "\x1b" not in str(info.value)


def test_denied_in_the_browser(server: ProtocolServer, backend: HttpTraceBackend) -> None:
    """The user presses Deny: the poll says access_denied and the login ends."""
    with pytest.raises(LoginFailedError, match="denied"):
        flow(backend, User(server, deny_after=1)).obtain()


def test_a_backend_without_device_login_says_so(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """404 on /auth/device/code: DeviceLoginUnavailableError, whose fix is --paste."""
    server.respond_to("device_code", ps.respond(404))

    with pytest.raises(DeviceLoginUnavailableError) as info:
        flow(backend, User(server)).obtain()

    assert "--paste" in info.value.fix


def test_an_unreachable_backend_fails_with_the_fix() -> None:
    """Nothing listens: LoginFailedError that says the backend could not be reached."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    made = HttpTraceBackend(f"http://127.0.0.1:{port}", connect_timeout=2, sleep=lambda s: None)
    user = User(None)

    with pytest.raises(LoginFailedError) as info:
        flow(made, user).obtain()

    made.close()
    assert info.value.problem.startswith("could not start the login")
    assert "buildwithtrace auth login" in info.value.fix
    assert user.shown == [] and user.opened == []


def test_losing_the_backend_while_polling_fails_with_the_fix(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """The backend stops answering mid-login: LoginFailedError, not a hang."""
    server.respond_to("device_token", ps.disconnect(times=10))

    with pytest.raises(LoginFailedError) as info:
        flow(backend, User(server)).obtain()

    assert info.value.problem.startswith("lost the Trace backend while waiting for the login")


# --- hostile answers ------------------------------------------------------------------


def authorization(**changes: Any) -> dict[str, Any]:
    """A valid device/code answer with ``changes`` (None removes a field)."""
    answer: dict[str, Any] = {
        "device_code": "device-code-0123456789abcdef0123456789",
        "user_code": "BCDF-GHJK",
        "verification_uri": "https://app.example.com/device",
        "expires_in": 900,
        "interval": 1,
    }
    answer.update(changes)
    return {k: v for k, v in answer.items() if v is not None}


HOSTILE_URIS = [
    "http://evil.example/device",
    "file:///etc/passwd",
    "javascript:alert(document.cookie)",
    "vscode://extension/run",
    "xdg-open:/usr/bin/xterm",
    "-https://app.example.com/device",
    "--help",
    "https://app.buildwithtrace.com@evil.example/device",
    "https://evil.example\\@app.buildwithtrace.com/",
    "https://evil.example/\x1b]0;pwned\x07",
    "https://evil.example/a b",
    "https://evil.example/\u202edevice",
    "https://\u0430pp.buildwithtrace.com/device",  # a Cyrillic a: shows one host, opens another
    "https:///device",
    "https://evil.example:99999/",
    "https://evil.example/" + "a" * 3000,
    "",
    42,
    None,
]


@pytest.mark.parametrize("uri", HOSTILE_URIS, ids=range(len(HOSTILE_URIS)))
def test_an_unsafe_verification_uri_is_never_shown_nor_opened(
    server: ProtocolServer, backend: HttpTraceBackend, uri: object
) -> None:
    """Only https (or http to loopback) URLs in RFC 3986 characters are opened."""
    server.respond_to("device_code", ps.respond(200, authorization(verification_uri=uri)))
    user = User(server)

    with pytest.raises(ProtocolError) as info:
        flow(backend, user).obtain()

    assert user.shown == [] and user.opened == []
    assert "verification_uri" in info.value.problem
    assert not isinstance(uri, str) or not uri or uri not in str(info.value)


def test_http_to_loopback_is_allowed_for_a_local_backend(
    server: ProtocolServer, backend: HttpTraceBackend
) -> None:
    """A development backend on this machine may use an http login page on loopback."""
    uri = "http://localhost:3000/device"
    server.load({"device": {"verification_uri": uri, "enforce_interval": False}, "token": None})
    user = User(server, approve_after={0: TOKEN})

    assert flow(backend, user).obtain() == Secret(TOKEN)
    assert user.opened == [uri]


HOSTILE_USER_CODES = [
    "ABCD\x1b[2J",
    "ABCD\nEFGH",
    "AB\u200bCD-EFGH",
    "ＡＢＣＤ-ＥＦＧＨ",
    "-ABCDEFG",
    "ABC",
    "A" * 33,
    "",
    ["ABCD"],
    None,
]


@pytest.mark.parametrize("code", HOSTILE_USER_CODES, ids=range(len(HOSTILE_USER_CODES)))
def test_a_user_code_with_anything_but_letters_digits_and_dashes_is_refused(
    server: ProtocolServer, backend: HttpTraceBackend, code: object
) -> None:
    """Control characters, invisible or full-width characters never reach the terminal."""
    server.respond_to("device_code", ps.respond(200, authorization(user_code=code)))
    user = User(server)

    with pytest.raises(ProtocolError, match="user_code"):
        flow(backend, user).obtain()

    assert user.shown == [] and user.opened == []


@pytest.mark.parametrize(
    "changes",
    [
        {"device_code": None},
        {"device_code": ""},
        {"device_code": "has space in it"},
        {"device_code": 123},
        {"device_code": "x" * 5000},
        {"expires_in": None},
        {"expires_in": 0},
        {"expires_in": -5},
        {"expires_in": "soon"},
        {"expires_in": True},
        {"expires_in": float("nan")},
        {"expires_in": 10**400},
    ],
    ids=lambda c: f"{next(iter(c))}={next(iter(c.values()))!r}"[:40],
)
def test_a_malformed_authorization_is_a_protocol_error(
    server: ProtocolServer, backend: HttpTraceBackend, changes: dict[str, Any]
) -> None:
    """A missing or unusable device code or expiry stops the login before anything is shown."""
    body = json.dumps(authorization(**changes), allow_nan=True)
    server.respond_to("device_code", ps.respond(200, body))
    user = User(server)

    with pytest.raises(ProtocolError):
        flow(backend, user).obtain()

    assert user.shown == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '"a string"',
        "[" * 30_000 + "]" * 30_000,
        json.dumps({**authorization(), "padding": "x" * (2 * 1024 * 1024)}),
    ],
    ids=["text", "array", "string", "deeply-nested", "2-MiB"],
)
@pytest.mark.parametrize("endpoint", ["device_code", "device_token"])
def test_a_malformed_or_huge_answer_is_a_protocol_error(
    server: ProtocolServer, backend: HttpTraceBackend, body: str, endpoint: str
) -> None:
    """Not JSON, not an object, nested past the parser's limit, or over 64 KiB: refused."""
    server.respond_to(endpoint, ps.respond(200, body))
    user = User(server)

    with pytest.raises(ProtocolError):
        flow(backend, user).obtain()


@pytest.mark.parametrize("status", [400, 200], ids=["refusal-not-json", "token-not-usable"])
def test_an_unreadable_poll_answer_is_a_protocol_error(
    server: ProtocolServer, backend: HttpTraceBackend, status: int
) -> None:
    """A 400 without an error code, or a 200 whose token has blanks: ProtocolError."""
    body: Any = "<html>bad gateway</html>" if status == 400 else {"token": "has a blank"}
    server.respond_to("device_token", ps.respond(status, body))

    with pytest.raises(ProtocolError):
        flow(backend, User(server)).obtain()


# --- whatever the backend adapter ----------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"verification_uri": "javascript:alert(1)"},
        {"verification_uri": "https://evil.example/\x1b[2J"},
        {"user_code": "ABCD\x07EFGH"},
    ],
)
def test_the_flow_checks_the_answer_again_whatever_the_adapter(change: dict[str, Any]) -> None:
    """Even an adapter that does not check (the scripted fake) cannot make us open or print it."""
    hostile: DeviceAuthorization = attrs.evolve(DEFAULT_DEVICE_AUTHORIZATION, **change)
    backend = ScriptedTraceBackend(device_authorization=hostile)
    user = User(None)

    with pytest.raises(ProtocolError):
        flow(backend, user).obtain()

    assert user.shown == [] and user.opened == []
    assert backend.device_polls_seen == 0


def test_the_scripted_backend_approves_once_its_polls_are_used_up() -> None:
    """The in-memory fake: scripted polls first, then approved with its default token."""
    from adapters.backend.scripted import DEFAULT_DEVICE_TOKEN
    from domain.device_login import DeviceLoginState, DevicePoll

    pending = DevicePoll(DeviceLoginState.PENDING)
    backend = ScriptedTraceBackend(device_polls=[pending, pending])
    user = User(None)

    assert flow(backend, user).obtain() == DEFAULT_DEVICE_TOKEN
    assert backend.device_polls_seen == 3
    assert user.sleeps == [1.0, 1.0, 1.0]
