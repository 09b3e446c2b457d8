"""A local stub of the three model providers' models endpoints, for ``byok verify`` tests.

One HTTP server on 127.0.0.1 plays each provider under its own prefix, answering the
way the real APIs do (the shapes of their documented errors)::

    GET /anthropic/v1/models     x-api-key: K, anthropic-version: 2023-06-01
        200 {"data": [...]}, or 401 {"type": "error", "error": {"type": "authentication_error"}}
    GET /openai/v1/models        Authorization: Bearer K
        200 {"data": [...]}, or 401 {"error": {"code": "invalid_api_key"}}
    GET /gemini/v1beta/models    x-goog-api-key: K
        200 {"models": [...]}, or 400 {"error": {"status": "INVALID_ARGUMENT",
                                       "details": [{"reason": "API_KEY_INVALID"}]}}

``base_url(provider)`` is what ``TRACE_<PROVIDER>_BASE_URL`` is set to. ``valid`` holds
the keys each accepts; ``behaviour[provider]`` makes one misbehave: ``"error"`` (HTTP
500), ``"redirect"`` (302 to ``redirect_to``), ``"hang"`` (no answer for 30 s),
``"forbidden"`` (403). Every request is recorded (path, query, headers).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest

from domain.provider import Provider

PATHS = {
    "/anthropic/v1/models": Provider.ANTHROPIC,
    "/openai/v1/models": Provider.OPENAI,
    "/gemini/v1beta/models": Provider.GEMINI,
}


@attrs.frozen
class StubRequest:
    """One request as the stub saw it."""

    provider: Provider | None
    path: str
    query: str
    headers: dict[str, str]


class ProviderStub:
    """The stub server; ``start()``, point ``TRACE_*_BASE_URL`` at ``base_url(p)``, ``stop()``."""

    def __init__(self) -> None:
        self.valid: dict[Provider, set[str]] = {p: set() for p in Provider.byok()}
        self.behaviour: dict[Provider, str] = {}
        self.redirect_to = "http://127.0.0.1:9/elsewhere"
        self._requests: list[StubRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> ProviderStub:
        """Listen on a free port."""
        owner = self

        class Handler(_Handler):
            stub = owner

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def base_url(self, provider: Provider) -> str:
        """The base URL for ``provider`` (its API paths go below it)."""
        return f"{self.url}/{provider.value}"

    def env(self) -> dict[str, str]:
        """``TRACE_<PROVIDER>_BASE_URL`` for all three providers."""
        return {f"TRACE_{p.value.upper()}_BASE_URL": self.base_url(p) for p in Provider.byok()}

    @property
    def requests(self) -> list[StubRequest]:
        """Every request so far."""
        with self._lock:
            return list(self._requests)

    def record(self, request: StubRequest) -> None:
        """Keep ``request``."""
        with self._lock:
            self._requests.append(request)


class _Handler(BaseHTTPRequestHandler):
    stub: ProviderStub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        headers = {name.lower(): value for name, value in self.headers.items()}
        provider = PATHS.get(path)
        self.stub.record(StubRequest(provider, path, query, headers))
        if provider is None:
            self._send(404, {"error": "not found"})
            return
        behaviour = self.stub.behaviour.get(provider)
        if behaviour == "hang":
            self.stub._stopping.wait(30)
            return
        if behaviour == "error":
            self._send(500, {"error": "internal"})
            return
        if behaviour == "redirect":
            self._send(302, {}, {"Location": self.stub.redirect_to})
            return
        if behaviour == "forbidden":
            self._send(403, {"error": {"type": "permission_error"}})
            return
        key = _key(provider, headers)
        if key is not None and key in self.stub.valid[provider]:
            listing = "models" if provider is Provider.GEMINI else "data"
            self._send(200, {listing: [{"id": "a-model"}]})
        elif provider is Provider.ANTHROPIC:
            self._send(
                401,
                {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                },
            )
        elif provider is Provider.OPENAI:
            self._send(
                401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
            )
        else:
            self._send(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                        "details": [{"reason": "API_KEY_INVALID"}],
                    }
                },
            )

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _key(provider: Provider, headers: dict[str, str]) -> str | None:
    if provider is Provider.ANTHROPIC:
        if headers.get("anthropic-version") != "2023-06-01":
            return None
        return headers.get("x-api-key")
    if provider is Provider.OPENAI:
        auth = headers.get("authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None
    return headers.get("x-goog-api-key")


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT (for the Node suite); print the stub's URL first.

    ``--valid PROVIDER=KEY`` (repeatable) and ``--behaviour PROVIDER=hang|error|...``
    script it; ``--record FILE`` appends each request as a JSON line.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--valid", action="append", default=[], metavar="PROVIDER=KEY")
    parser.add_argument("--behaviour", action="append", default=[], metavar="PROVIDER=WHAT")
    parser.add_argument("--record", type=Path)
    args = parser.parse_args(argv)
    stub = ProviderStub()
    for pair in args.valid:
        provider, _, key = pair.partition("=")
        stub.valid[Provider(provider)].add(key)
    for pair in args.behaviour:
        provider, _, what = pair.partition("=")
        stub.behaviour[Provider(provider)] = what
    if args.record is not None:
        record, path = stub.record, args.record

        def recorded(request: StubRequest) -> None:
            record(request)
            line = {"path": request.path, "query": request.query, "headers": request.headers}
            with path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")

        stub.record = recorded  # type: ignore[method-assign]
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stub.start()
    print(stub.url, flush=True)
    try:
        while not stopped.wait(0.2):
            pass
    finally:
        stub.stop()
    return 0


@pytest.fixture
def provider_stub() -> Iterator[ProviderStub]:
    """A started stub of the three providers' models endpoints; stopped after the test."""
    stub = ProviderStub().start()
    try:
        yield stub
    finally:
        stub.stop()


if __name__ == "__main__":
    raise SystemExit(main())
