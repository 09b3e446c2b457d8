"""The device login half of the TraceBackend contract: the scripted fake and the HTTP adapter alike.

To add an adapter, add a harness that can make the user approve the pending login.
The HTTP case runs against the real protocol server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest

from adapters.backend.http import HttpTraceBackend
from adapters.backend.scripted import ScriptedTraceBackend
from adapters.login.device import DeviceCodeLogin
from application.ports import LoginPrompts, TraceBackend
from domain.backend_url import is_safe_browser_url, is_valid_user_code
from domain.chat import ClientKind
from domain.device_login import DeviceLoginState, DevicePoll
from domain.errors import LoginFailedError
from domain.secret import Secret
from tests.support.protocol_server import TOKEN, ProtocolServer

GOOD_TOKEN = Secret(TOKEN)


class Harness(Protocol):
    """A backend under test, and the user who approves its pending login."""

    backend: TraceBackend

    def approve(self, user_code: str) -> None:
        """The user types ``user_code`` on the page, logged in as the account of TOKEN."""
        ...


class ScriptedHarness:
    """The in-memory fake: one pending poll, then approved (its scripted default)."""

    def __init__(self) -> None:
        self.backend: TraceBackend = ScriptedTraceBackend(
            valid_token=GOOD_TOKEN, device_polls=[DevicePoll(DeviceLoginState.PENDING)]
        )

    def approve(self, user_code: str) -> None:
        """Nothing to do: the fake approves once its scripted polls are used up."""


class HttpHarness:
    """The HTTP adapter against the protocol server."""

    def __init__(self, server: ProtocolServer) -> None:
        server.load({"device": {"enforce_interval": False}})
        self.server = server
        self.backend: TraceBackend = HttpTraceBackend(server.url, read_timeout=5)

    def approve(self, user_code: str) -> None:
        """Approve at the server's control endpoint."""
        assert self.server.approve_device(user_code, TOKEN)[0] == 200


@pytest.fixture(params=["scripted", "http"])
def harness(request: pytest.FixtureRequest, protocol_server: ProtocolServer) -> Iterator[Harness]:
    """One TraceBackend implementation."""
    made: Harness = (
        ScriptedHarness() if request.param == "scripted" else HttpHarness(protocol_server)
    )
    yield made
    made.backend.close()


def test_a_login_is_pending_until_approved_then_yields_the_token_once(harness: Harness) -> None:
    """Pending, approved with the token, then the device code is used up."""
    started = harness.backend.start_device_login(ClientKind.CLI)

    assert is_safe_browser_url(started.verification_uri)
    assert is_valid_user_code(started.user_code)
    assert started.expires_in > 0 and started.interval >= 0
    assert harness.backend.poll_device_login(started.device_code) == DevicePoll(
        DeviceLoginState.PENDING
    )
    harness.approve(started.user_code)
    assert harness.backend.poll_device_login(started.device_code) == DevicePoll(
        DeviceLoginState.APPROVED, GOOD_TOKEN
    )
    with pytest.raises(LoginFailedError, match="invalid_grant"):
        harness.backend.poll_device_login(started.device_code)


def test_an_unknown_device_code_is_refused(harness: Harness) -> None:
    """A device code the backend never issued ends the login (invalid_grant)."""
    harness.backend.start_device_login(ClientKind.CLI)

    with pytest.raises(LoginFailedError, match="invalid_grant"):
        harness.backend.poll_device_login(Secret("never-issued-device-code-0123456789"))


def test_the_device_code_login_completes_on_either_adapter(harness: Harness) -> None:
    """The whole flow, with the approval made while it waits."""
    shown: list[str] = []

    def sleep(seconds: float) -> None:
        if shown:
            harness.approve(shown.pop())

    class Terminal(LoginPrompts):
        def show_code(self, user_code: str, url: str) -> None:
            shown.append(user_code)

        def no_browser(self, url: str) -> None:
            raise AssertionError("no browser is opened here")

    login = DeviceCodeLogin(harness.backend, sleep=sleep)

    assert login.obtain(Terminal(), open_browser=False) == GOOD_TOKEN
