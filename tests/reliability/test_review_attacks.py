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
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapters.tools.local import LocalToolRunner
from domain.chat import ToolCall
from domain.errors import TraceError
from entrypoints.sdk import Trace
from tests.e2e.cli_runner import child_env
from tests.reliability.plugin import Figures
from tests.reliability.test_hostile_backend import measured_cli

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


# --- 2. nesting that crashes the masker ------------------------------------------------------


@pytest.mark.parametrize("kind", ["tool_call", "metrics", "file_edit"])
def test_deeply_nested_event_data_never_crashes_the_turn(
    hostile: _Hostile, tmp_path: Path, kind: str
) -> None:
    """An event nested 700 levels deep (which the JSON parser accepts) is skipped as
    malformed or ends the turn with a TraceError, never a RecursionError."""
    nested: object = []
    for _ in range(700):
        nested = [nested]
    data: dict[str, object] = {"type": kind, "x": nested}
    if kind == "tool_call":
        data = {
            "type": kind,
            "tool_call_id": "c1",
            "tool_name": "list_dir",
            "tool_args": {"path": ".", "x": nested},
        }
    payload = b"data: " + json.dumps(data).encode() + b"\n\n"
    hostile.stream = lambda: iter([payload, _done()])

    with (
        Trace(token=TOKEN, base_url=hostile.url, project_dir=tmp_path) as trace,
        contextlib.suppress(TraceError),
    ):
        trace.chat("hi", mode="ask")


# --- 3. a flood of tool calls is queued without bound ---------------------------------------

FLOOD_PROBE = """
import sys
from entrypoints.sdk import Trace
url, project, token = sys.argv[1:4]
with Trace(token=token, base_url=url, project_dir=project) as trace:
    for _ in trace.stream("hi", mode="ask"):
        pass
"""


def _peak_rss_mib(pid: int) -> float:
    with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_flood_of_tool_calls_is_not_queued_without_bound(
    hostile: _Hostile, tmp_path: Path, figures: Figures
) -> None:
    """300 ``list_dir`` calls, each carrying 1 MiB of ignored arguments, while the backend
    stalls every ``/tools/result``: the client holds at most a few waiting calls and stops
    reading the stream meanwhile (it read all 300 and held 345 MiB before the fix; peak
    ceiling 200 MiB)."""
    padding = "x" * (1 << 20)

    def flood() -> Iterator[bytes]:
        for number in range(300):
            call = {
                "type": "tool_call",
                "tool_call_id": f"c{number}",
                "tool_name": "list_dir",
                "tool_args": {"path": ".", "padding": padding},
            }
            yield _event(call)
        yield _done()

    hostile.stream = flood
    hostile.tool_result_stall = 600
    project = tmp_path / "project"
    project.mkdir()
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", FLOOD_PROBE, hostile.url, str(project), TOKEN],
        cwd=repo,
        env={**child_env(), "PYTHONPATH": str(repo)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Bounded memory means backpressure: the client stops reading the stream while
        # the calls it holds are unanswered, so the backend's flood stays unread.
        consumed = hostile.stream_consumed.wait(10)
        peak = _peak_rss_mib(child.pid)
    finally:
        child.kill()
        child.wait()
    figures.peak("tool_flood_300x1mib_peak_mib", peak)
    assert peak < MEMORY_CEILING_MIB, (peak, consumed)
    assert not consumed, "the client read a flood of 300 unanswered calls without pause"


# --- 4. unbounded answers outside the event stream ------------------------------------------


def test_a_huge_profile_answer_is_refused_before_it_fills_memory(
    hostile: _Hostile, tmp_path: Path, figures: Figures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``auth status`` against a backend whose profile answer is 400 MiB of blanks stays
    under the memory ceiling (the answer is a few hundred bytes by design)."""
    hostile.get_body = b" " * (400 << 20)
    monkeypatch.setenv("TRACE_BASE_URL", hostile.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    monkeypatch.setenv("TRACE_CONFIG_DIR", str(tmp_path / "config"))

    code, peak, stderr = measured_cli(["auth", "status"], tmp_path / "out.txt")

    figures.peak("profile_400mib_answer_peak_mib", peak)
    assert peak < MEMORY_CEILING_MIB, (peak, code, stderr)


# --- 5. the EDA engine taken from the working directory -------------------------------------


def test_kicad_cli_is_never_taken_from_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``kicad-cli`` planted in the project (the working directory) is never run by
    an ERC call. On Windows ``shutil.which`` searches the working directory first (with
    PATHEXT: ``kicad-cli.cmd``); on POSIX an empty PATH entry does the same, the case
    reproduced here."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "board.kicad_sch").write_text("(kicad_sch)\n")
    marker = tmp_path / "pwned"
    planted = project / "kicad-cli"
    planted.write_text(f"#!/bin/sh\necho pwned > {marker}\n")
    planted.chmod(planted.stat().st_mode | stat.S_IXUSR)
    monkeypatch.chdir(project)
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "empty-bin"), ""]))

    # As the CLI and the SDK build it: kicad-cli looked up on PATH, the environment passed on.
    runner = LocalToolRunner.in_project(
        str(project), find_kicad_cli=True, environment=dict(os.environ)
    )
    result = runner.run(ToolCall("e", "get_erc_violations", {}))

    assert not marker.exists(), result.result
