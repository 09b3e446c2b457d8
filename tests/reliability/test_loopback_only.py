"""Where a key may travel: https, or plain http that provably stays on this machine.

The provider key and the Trace token ride on every chat request. Plain http is allowed
only to a loopback address, and "loopback" is decided without asking the network: the
literal loopback addresses, and ``localhost`` resolved once through the hosts file and
then pinned to the address it gave. Anything a resolver might send elsewhere is refused
before a byte leaves: ``localhost.`` (the trailing dot skips the hosts file and asks
DNS), names that merely start with ``localhost`` or ``127.0.0.1``, numeric spellings
only some resolvers read as loopback, and a ``localhost`` that resolves to a public
address.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.backend.http import HttpTraceBackend
from adapters.backend.http.urls import pin_localhost
from domain.backend_url import check_transport
from domain.errors import InsecureTransportError
from domain.secret import Secret
from tests.e2e.cli_runner import run
from tests.reliability.plugin import Figures
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

pytestmark = pytest.mark.reliability

KEY = "sk-ant-loopback-canary-0123456789abcdef"
NOT_LOOPBACK = [
    "http://localhost.:{port}",
    "http://LOCALHOST.:{port}",
    "http://localhost.localdomain:{port}",
    "http://127.0.0.1.nip.io:{port}",
    "http://127.1:{port}",
    "http://2130706433:{port}",
    "http://0x7f.0.0.1:{port}",
    "http://0.0.0.0:{port}",
    "http://[::ffff:127.0.0.1]:{port}",
    "http://[::]:{port}",
]


@pytest.mark.parametrize("template", NOT_LOOPBACK)
def test_chat_refuses_plain_http_that_a_resolver_could_send_elsewhere(
    template: str, tmp_path: Path, figures: Figures
) -> None:
    """``chat`` with TRACE_BASE_URL set to each such spelling exits 4 with the insecure-transport
    error, and the local server (listening where a lenient resolver would have led) sees no
    request, so neither the key nor the token went anywhere."""
    server = ProtocolServer({"turns": [ps.simple_turn("hi")]}).start()
    try:
        port = server.url.rsplit(":", 1)[1]
        env = {
            "TRACE_BASE_URL": template.format(port=port),
            "TRACE_API_TOKEN": TOKEN,
            "ANTHROPIC_API_KEY": KEY,
            "TRACE_CREDENTIALS_STORE": "file",
        }
        result = run(
            ["chat", "hi", "--provider", "anthropic", "--project", str(tmp_path)], env_extra=env
        )
        recorded = server.requests
    finally:
        server.stop()

    figures.add("urls")
    assert result.code == 4, result
    assert "refusing to send credentials" in result.stderr, result
    assert recorded == []
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize("template", NOT_LOOPBACK)
def test_the_transport_rule_refuses_each_spelling(template: str) -> None:
    """The rule itself, without a server: each spelling is refused."""
    with pytest.raises(InsecureTransportError):
        check_transport(template.format(port=8000))


def test_localhost_resolving_off_the_machine_is_refused(figures: Figures) -> None:
    """A hosts file (or resolver) that maps ``localhost`` to a public address: refused, naming
    what it resolved to; only loopback answers are accepted, and the connection is pinned
    to the address resolved then, whatever a later lookup would say."""

    def public(*_args: Any, **_kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]

    def mixed(*_args: Any, **_kwargs: Any) -> list[tuple[Any, ...]]:
        return [*public(), (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 80, 0, 0))]

    def loopback(*_args: Any, **_kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 80, 0, 0))]

    for resolver in (public, mixed):
        with pytest.raises(InsecureTransportError, match=r"93\.184\.216\.34"):
            pin_localhost("http://localhost:8000", resolver)
        figures.add("resolvers")
    assert pin_localhost("http://localhost:8000/x", loopback) == (
        "http://[::1]:8000/x",
        "localhost:8000",
    )
    assert pin_localhost("https://localhost:8000", public) == ("https://localhost:8000", None)


def test_a_localhost_request_goes_to_the_pinned_address_with_its_host_header() -> None:
    """``http://localhost:PORT`` connects to the loopback literal resolved at start-up and
    still tells the server which host it asked for."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"email": "dev@example.com", "plan": "pro"})

    client = httpx.Client(transport=httpx.MockTransport(record))
    backend = HttpTraceBackend("http://localhost:8000", client=client)
    backend.profile(Secret(TOKEN))
    backend.close()
    client.close()

    assert [str(r.url.host) for r in sent] == ["127.0.0.1"]
    assert sent[0].headers["host"] == "localhost:8000"
