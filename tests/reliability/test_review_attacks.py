"""Second trust-boundary review: attacks the first pass (issue 10) did not stop.

Each test is one attack found by the review, reproduced against the real code: a
hostile backend (a small raw HTTP server here, or the protocol server), a hostile
model asking for tools, or a hostile file planted in a cloned project. Tests marked
``xfail(strict=True)`` reproduce an open finding: they fail today and turn the
suite red once the finding is fixed, so the marker must then be removed.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapters.tools.local import LocalToolRunner
from domain.chat import ToolCall

pytestmark = pytest.mark.reliability

TOKEN = "tok-review-0123456789abcdefghij"
MEMORY_CEILING_MIB = 200


# --- a raw hostile backend --------------------------------------------------------------


class _Hostile(ThreadingHTTPServer):
    """A backend whose answers a test writes as raw bytes."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stream: Callable[[], Iterator[bytes]] = lambda: iter(())
        self.get_body = b"{}"
        self.tool_result_stall = 0.0
        self.stream_consumed = threading.Event()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        """The base URL to give the client."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Hostile

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body = self.server.get_body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/tools/result"):
            # A backend that never finishes taking results: the client's tool workers wait.
            self.server.release.wait(self.server.tool_result_stall)
            self._json(b'{"ok": true}')
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for chunk in self.server.stream():
                self.wfile.write(chunk)
            self.wfile.flush()
            # The client closes the connection once it has read the 'done' event.
            self.connection.settimeout(120)
            with_eof = self.connection.recv(1)
            del with_eof
        except OSError:
            pass
        finally:
            self.server.stream_consumed.set()
            self.close_connection = True

    def _json(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


@pytest.fixture
def hostile() -> Iterator[_Hostile]:
    """A raw hostile backend on loopback."""
    server = _Hostile()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def _event(data: object) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def _done() -> bytes:
    return _event({"type": "done", "conversation_id": "c"})


# --- 1. writes that other tools execute (write allow-list) ----------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "AGENTS.override.md",  # Codex CLI prefers it to AGENTS.md in every directory
        "opencode.json",  # OpenCode: "mcp" local servers are commands it starts
        "crush.json",  # Crush: "mcp" stdio servers and "lsp" commands it starts
        "CRUSH.md",  # Crush's instructions file
        "QWEN.md",  # Qwen Code's instructions file
        "dprint.json",  # dprint: "plugins" may be process plugins (native, unsandboxed)
        "simple-git-hooks.json",  # git hook commands installed by `npx simple-git-hooks`
        "sub/Crush.JSON",
    ],
)
def test_write_refuses_agent_and_hook_configs_that_run_commands(tmp_path: Path, name: str) -> None:
    """Configs of coding agents, formatters and git hook managers that start commands,
    and agents' instruction files, are refused like ``package.json`` and ``AGENTS.md``
    (each was written before the fix)."""
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)

    result = LocalToolRunner(root).run(
        ToolCall("w", "write", {"file_path": name, "contents": '{"mcp": {}}'})
    )

    assert result.is_error and "refusing" in result.result, result.result
    assert not (root / name).exists()
