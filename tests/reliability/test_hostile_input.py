"""Hostile input: property-based tests over everything a user or a backend can hand us.

Provider names, keys, model ids and setting values go through the real CLI code
(in-process, a fresh container per command); config.toml contents are generated,
written and read by the commands; SSE streams (random splits down to single bytes,
garbage, huge lines, any Unicode, invalid UTF-8, a cut connection) come from a raw
HTTP server into the SDK's chat; tool calls with hostile arguments (``..``, NUL,
absolute paths, very long names, wrong types) run in a project directory, also
while another thread swaps its directories for symlinks that lead out. The
properties: no crash and no traceback (only our exit codes and typed errors), files
that stay valid, no secret echoed, and no write outside the project root.
"""

from __future__ import annotations

import json
import os
import random
import socket
import stat
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.backend.http.sse import MAX_EVENT_BYTES, SseDecoder, iter_events
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from adapters.settings.toml import TomlSettingsStore
from adapters.tools.local import LocalToolRunner
from domain.chat import TextDelta, ToolCall, ToolResult
from domain.errors import BackendUnavailableError, ProtocolError, TraceError
from domain.settings import SETTING_KEYS, looks_like_secret
from entrypoints.sdk import Trace
from tests.reliability import workers
from tests.reliability.inprocess import Outcome, cli
from tests.reliability.plugin import Figures, Profile

OUTSIDE_SECRET = "OUTSIDE-SECRET-c0ffee"
ALLOWED_CONFIG_FILES = {
    "config.toml",
    "config.toml.lock",
    "credentials.json",
    "credentials.json.lock",
}


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _clean(outcome: Outcome, allowed: set[int]) -> list[str]:
    """Problems with one run: an exit code outside ``allowed``, a traceback, a crash message."""
    problems = []
    if outcome.code not in allowed:
        problems.append(f"exit {outcome.code} not in {sorted(allowed)}")
    if "Traceback" in outcome.output or "unexpected" in outcome.stderr:
        problems.append("a crash or traceback was shown")
    return [f"{p}:\n{outcome}" for p in problems]


# --- CLI arguments ------------------------------------------------------------------

_NAMES = st.one_of(
    st.sampled_from(["anthropic", "OpenAI", " gemini ", "trace", "TRACE", "anthropic\n"]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=20, max_size=300),
)
_KEYS = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=16, max_size=80).map(
        lambda s: "sk-ant-" + s
    ),
    st.text(min_size=4000, max_size=4200),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
)
_MODELS = st.one_of(st.text(max_size=220), st.sampled_from(["gpt-4o", "claude-opus-4-1", "-"]))
_SETTING_NAMES = st.one_of(st.sampled_from([k.name for k in SETTING_KEYS]), st.text(max_size=30))


@st.composite
def _commands(draw: st.DrawFn) -> tuple[tuple[str, ...], str, str]:
    """(argv, stdin, a secret that must not be echoed if refused)."""
    kind = draw(st.sampled_from(["set", "model", "use", "remove", "config-set", "config-get"]))
    name = draw(_NAMES)
    if kind == "set":
        key = draw(_KEYS)
        return ("byok", "set", name, "--key-stdin"), key, key
    if kind == "model":
        return ("byok", "model", draw(_MODELS), "--provider", name), "", ""
    if kind == "use":
        return ("byok", "use", name), "", ""
    if kind == "remove":
        return ("byok", "remove", name), "", ""
    value = draw(st.one_of(_MODELS, _KEYS))
    if kind == "config-set":  # a refused setting may be quoted, unless it looks like a key
        secret = value if looks_like_secret(value) else ""
        return ("config", "set", draw(_SETTING_NAMES), value), "", secret
    return ("config", "get", draw(_SETTING_NAMES)), "", ""


def _store_files_valid(config_dir: Path) -> list[str]:
    problems = []
    extra = {p.name for p in config_dir.iterdir()} - ALLOWED_CONFIG_FILES
    if extra:
        problems.append(f"unexpected files in the config dir: {extra}")
    config = config_dir / "config.toml"
    if config.exists():
        try:
            TomlSettingsStore(config).load()
        except TraceError as exc:
            problems.append(f"config.toml we wrote no longer loads: {exc.problem}")
    credentials = config_dir / "credentials.json"
    if credentials.exists():
        json.loads(credentials.read_text(encoding="utf-8"))
    return problems


def test_hostile_cli_arguments_never_crash_nor_corrupt_nor_echo_a_key(
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile: Profile,
    figures: Figures,
) -> None:
    """Random provider names, keys (control characters, 4 KiB+, Latin-1 bytes), model ids and
    setting names/values through byok set/model/use/remove and config set/get: exit 0, 2 or 3
    only, no traceback, both files still valid, nothing written elsewhere, a refused key or
    value never echoed."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    problems: list[str] = []

    @_settings(profile.examples * 3)
    @given(_commands())
    def check(command: tuple[tuple[str, ...], str, str]) -> None:
        argv, stdin, secret = command
        outcome = cli(*argv, stdin=stdin)
        figures.add("commands")
        figures.add(f"exit_{outcome.code}")
        figures.peak("max_latency_s", outcome.seconds)
        found = _clean(outcome, {0, 2, 3})
        found += _store_files_valid(isolated_env)
        shown = secret.strip()
        quoted_arg = any(shown in arg for arg in argv)  # an argument may be quoted; stdin not
        if outcome.code != 0 and len(shown) >= 16 and not quoted_arg and shown in outcome.output:
            found.append(f"a refused value was echoed:\n{outcome}")
        if list(cwd.iterdir()):
            found.append(f"files written in the working directory: {list(cwd.iterdir())}")
        problems.extend(found)
        assert found == []

    check()
    figures.add("violations", len(problems))


# --- config.toml contents -------------------------------------------------------------

_SCALARS = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["anthropic", "openai", "trace", "local", "production", "keychain", "file"]),
    st.sampled_from(["sk-ant-api03-" + "Q" * 30, "AIza" + "x1Y" * 12]),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_SECTION_KEYS = {
    "llm": ["provider", "models", "model"],
    "backend": ["env", "api_version"],
    "credentials": ["store"],
    "output": ["format"],
}


@st.composite
def _documents(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["structured", "structured", "text", "bytes", "mangled"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "text":
        return draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    document: dict[str, Any] = {}
    for section, keys in _SECTION_KEYS.items():
        if draw(st.booleans()):
            table = draw(st.dictionaries(st.sampled_from(keys), _VALUES, max_size=3))
            if section == "llm" and draw(st.booleans()):
                table["models"] = draw(
                    st.dictionaries(st.sampled_from(["anthropic", "openai", "x"]), _VALUES)
                )
            document[section] = table
    document.update(draw(st.dictionaries(st.text(min_size=1, max_size=8), _VALUES, max_size=2)))
    try:
        text = tomlkit.dumps(document)
    except Exception:  # tomlkit refuses some shapes (e.g. mixed arrays of tables): keep it simple
        text = "[custom]\nkept = 1\n"
    if kind == "mangled":
        cut = draw(st.integers(min_value=0, max_value=max(len(text) - 1, 0)))
        text = (
            text[:cut] + draw(st.sampled_from(["[", "=", '"', "\x00", "\ufeff", "]]"])) + text[cut:]
        )
    return ("# the user's comment\n" + text).encode("utf-8", "surrogatepass")


_CONFIG_COMMANDS: list[tuple[str, ...]] = [
    ("config", "list", "--json"),
    ("byok", "status", "--json"),
    ("doctor", "--json"),
    ("byok", "use", "trace"),
    ("config", "set", "output.format", "json"),
]


def test_generated_config_files_are_read_or_refused_never_crash_nor_get_destroyed(
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile: Profile,
    figures: Figures,
) -> None:
    """Generated config.toml files (valid TOML with any shapes and types, text, raw bytes, mangled
    TOML): every command exits 0, 2, 3 or 5 without a traceback; a refused file (exit 5) stays
    byte-for-byte; a rewrite keeps the user's comment and unknown keys; a key-shaped value is
    never echoed."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    config = isolated_env / "config.toml"
    problems: list[str] = []

    @_settings(profile.examples)
    @given(_documents(), st.sampled_from(_CONFIG_COMMANDS))
    def check(data: bytes, argv: tuple[str, ...]) -> None:
        config.write_bytes(data)
        outcome = cli(*argv)
        figures.add("files")
        figures.add(f"exit_{outcome.code}")
        found = _clean(outcome, {0, 2, 3, 5})
        after = config.read_bytes()
        if outcome.code == 5 and after != data:
            found.append(f"a refused config.toml was changed:\n{outcome}")
        if after != data:
            text = after.decode("utf-8")
            tomllib.loads(text)
            if b"# the user's comment" in data and "# the user's comment" not in text:
                found.append("a rewrite dropped the user's comment")
            if not set(_top_keys(data)) <= set(tomllib.loads(text)):
                found.append("a rewrite dropped the user's keys")
        for secret in _strings(data):
            if looks_like_secret(secret) and secret in outcome.output:
                found.append(f"a key-shaped value was echoed:\n{outcome}")
        problems.extend(found)
        assert found == []

    check()
    figures.add("violations", len(problems))


def _top_keys(data: bytes) -> list[str]:
    try:
        return list(tomllib.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []


def _strings(data: bytes) -> Iterator[str]:
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


# --- SSE streams from the backend -------------------------------------------------------


class RawSseServer:
    """An HTTP server on 127.0.0.1 that answers /chat/stream with the given bytes, split as given.

    TCP_NODELAY and a flush per piece keep the splits on the wire (down to single bytes);
    the answer has no length and ends when the connection closes. Tool results get 200.
    """

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.reset = False  # end with a TCP reset instead of a clean close
        self.tool_results = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def close(self) -> None:
        """Stop accepting."""
        self._stop.set()
        self._server.close()
        self._thread.join(5)

    def _serve(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            head, _, body = request.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            while len(body) < length:
                body += conn.recv(65536)
            if b"/tools/result" in head.split(b"\r\n", 1)[0]:
                self.tool_results += 1
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 11\r\nConnection: close\r\n\r\n{"ok":true}'
                )
                return
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            )
            try:
                for piece in self.pieces:
                    conn.sendall(piece)
            except OSError:
                return
            if self.reset:  # linger 0: close() sends RST, the client sees a broken connection
                conn.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )


_TEXT = st.text(alphabet=st.characters(codec=None), max_size=30).filter(
    lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)
)
_HOSTILE_ARGS = st.dictionaries(
    st.sampled_from(["file_path", "target_file", "path", "filename", "contents", "pattern", "x"]),
    st.one_of(
        st.sampled_from(
            [
                "../outside/secret.kicad_sch",
                "/etc/passwd",
                "a\x00b",
                "x" * 300,
                "sch/../../outside/x.kicad_sch",
                "~/.bashrc",
                "link_out/secret.kicad_sch",
            ]
        ),
        st.text(max_size=20),
        st.integers(),
        st.none(),
        st.lists(st.text(max_size=3), max_size=2),
    ),
    max_size=3,
)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[list[bytes], str, bool, bool]:
    """(pieces on the wire, the text of the valid text_delta events, ends with done, reset)."""
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    items: list[bytes] = [b"\xef\xbb\xbf"] if draw(st.booleans()) else []
    text: list[str] = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        kind = draw(
            st.sampled_from(["text", "text", "huge", "garbage", "bytes", "field", "other", "tool"])
        )
        if kind in ("text", "huge"):
            content = (
                draw(_TEXT) if kind == "text" else "Ω" * draw(st.sampled_from([70_000, 600_000]))
            )
            text.append(content)
            payload: Any = {"type": "text_delta", "content": content}
        elif kind == "garbage":
            payload = draw(st.sampled_from(["not json {", "[1, 2]", '"text"', '{"type": 5}', ""]))
        elif kind == "bytes":
            raw = draw(st.binary(max_size=40)).replace(b"\n", b"").replace(b"\r", b"")
            items.append(b"data: " + raw + eol + eol)
            continue
        elif kind == "field":
            items.append(
                draw(st.sampled_from([b": comment", b"event: x", b"id: 7", b"retry: 1"])) + eol
            )
            continue
        elif kind == "tool":
            payload = {
                "type": "tool_call",
                "tool_call_id": f"t{len(items)}",
                "tool_name": draw(
                    st.sampled_from(["write", "read_file", "delete_trace_file", "grep", "nope"])
                ),
                "tool_args": draw(_HOSTILE_ARGS),
            }
        else:
            payload = {
                "type": draw(st.sampled_from(["status", "thinking", "metrics", "mystery"])),
                "content": draw(_TEXT),
            }
        if not isinstance(payload, str):
            payload = json.dumps(payload, ensure_ascii=draw(st.booleans()))
        items.append(b"data: " + payload.encode() + eol + eol)
    done = draw(st.booleans())
    if done:
        items.append(b'data: {"type": "done", "conversation_id": "c1"}' + eol + eol)
    stream = b"".join(items)
    cuts = sorted(
        set(
            draw(st.lists(st.integers(min_value=1, max_value=max(len(stream) - 1, 1)), max_size=12))
        )
    )
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        cuts = list(range(1, min(len(stream), 300)))  # byte by byte, for a while
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True) if a < b]
    return pieces, "".join(text), done, draw(st.booleans())


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A project root and, beside it, an outside directory holding a secret and a link to it."""
    root, outside = tmp_path / "project", tmp_path / "outside"
    (root / "sch").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.kicad_sch").write_text(OUTSIDE_SECRET)
    (root / "link_out").symlink_to(outside)
    (root / "sch" / "a.kicad_sch").write_text("(kicad_sch)\n")
    yield root, outside


def _tree(top: Path) -> dict[str, tuple[int, bytes | str]]:
    found: dict[str, tuple[int, bytes | str]] = {}
    for directory, dirs, files in os.walk(top, followlinks=False):
        for name in dirs + files:
            path = Path(directory, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[str(path)] = (info.st_mode, str(path.readlink()))
            elif stat.S_ISREG(info.st_mode):
                found[str(path)] = (info.st_mode, path.read_bytes())
            else:
                found[str(path)] = (info.st_mode, b"")
    return found


def test_hostile_sse_streams_end_in_a_reply_or_a_typed_error(
    project: tuple[Path, Path],
    tmp_path: Path,
    profile: Profile,
    figures: Figures,
) -> None:
    """Generated SSE streams (random splits down to single bytes, LF/CRLF/CR, BOM, garbage and
    non-UTF-8 payloads, 70 KB-600 KB lines, any Unicode, tool calls with hostile arguments,
    with or without done, closed cleanly or reset) through the SDK's chat: a reply whose text
    is exactly the valid text_delta events, or a ProtocolError (BackendUnavailableError when
    reset) when done is missing; nothing outside the project changes."""
    root, outside = project
    outside_before = _tree(outside)
    top_before = sorted(p.name for p in tmp_path.iterdir())
    server = RawSseServer()
    problems: list[str] = []
    trace = Trace(
        token="trace-token-" + "h" * 30,
        base_url=server.url,
        env={},
        secrets=InMemorySecretStore(),
        settings=InMemorySettingsStore(),
        project_dir=root,
    )

    @_settings(max(profile.examples // 2, 20))
    @given(_streams())
    def check(stream: tuple[list[bytes], str, bool, bool]) -> None:
        pieces, text, done, reset = stream
        server.pieces, server.reset = pieces, reset
        started = time.monotonic()
        found: list[str] = []
        try:
            reply = trace.chat("hi", mode="agent")
        except ProtocolError:
            if done and not reset:
                found.append("a stream with done raised ProtocolError")
        except BackendUnavailableError as exc:
            if not reset:  # a reset may also discard the last bytes, done included
                found.append(f"a stream that was not cut raised: {exc}")
        except TraceError as exc:
            found.append(f"unexpected {type(exc).__name__}: {exc}")
        else:
            if not done:
                found.append("a stream without done gave a reply")
            elif reply.text != text:
                found.append(f"text {reply.text[:80]!r} != {text[:80]!r}")
        elapsed = time.monotonic() - started
        figures.add("streams")
        figures.add("bytes", sum(map(len, pieces)))
        figures.peak("max_chat_s", elapsed)
        if elapsed > 20:
            found.append(f"took {elapsed:.1f}s")
        problems.extend(found)
        assert found == []

    try:
        check()
    finally:
        trace.close()
        server.close()
    figures.add("tool_results_posted", server.tool_results)
    assert _tree(outside) == outside_before
    assert sorted(p.name for p in tmp_path.iterdir()) == top_before
    figures.add("violations", len(problems))


def test_an_endless_line_is_cut_off_and_a_long_one_stays_linear(figures: Figures) -> None:
    """A line that never ends is refused at the 24 MiB cap with a ProtocolError, not buffered;
    a 16 MiB line in 64 KiB chunks decodes in linear time (it was quadratic) under 1 s."""
    chunk = b"x" * 65536

    def endless() -> Iterator[bytes]:
        yield b"data: "
        for _ in range(MAX_EVENT_BYTES // len(chunk) + 2):
            yield chunk

    started = time.monotonic()
    with pytest.raises(ProtocolError, match=f"larger than {MAX_EVENT_BYTES // 2**20} MiB"):
        list(iter_events(endless(), lambda: None))
    figures.peak("endless_line_refused_after_s", time.monotonic() - started)

    content = "y" * (16 * 1024 * 1024)
    event = b'data: {"type": "text_delta", "content": "' + content.encode() + b'"}\n\n'
    started = time.monotonic()
    events = list(
        iter_events((event[i : i + 65536] for i in range(0, len(event), 65536)), lambda: None)
    )
    elapsed = time.monotonic() - started
    figures.peak("line_16mib_s", elapsed)
    assert events == [TextDelta(content)]
    assert elapsed < 1.0

    decoder = SseDecoder(max_event_bytes=1000)
    with pytest.raises(ProtocolError):  # many short data lines of one event count too
        for _ in range(100):
            decoder.feed(b"data: " + b"z" * 50 + b"\n")


# --- tool calls -------------------------------------------------------------------------

_TOOLS = [
    "read_file",
    "write",
    "search_replace",
    "list_dir",
    "grep",
    "delete_trace_file",
    "get_erc_violations",
    "get_drc_violations",
]
_PATHS = st.one_of(
    st.sampled_from(
        [
            "..",
            "../outside/secret.kicad_sch",
            "sch/../../outside/secret.kicad_sch",
            "link_out/secret.kicad_sch",
            "link_out",
            "/etc/passwd",
            "a\x00b.kicad_sch",
            "x" * 256 + ".kicad_sch",
            "sch/" + "d" * 250 + "/x.kicad_sch",
            "~",
            "",
            ".",
            "sch/a.kicad_sch",
            "sch/new.kicad_sch",
            "\\..\\outside",
            "sch//../a.kicad_sch",
        ]
    ),
    st.text(max_size=30),
)
_ARG_VALUES = st.one_of(
    _PATHS,
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.lists(_PATHS, max_size=2),
    st.dictionaries(st.text(max_size=3), _PATHS, max_size=2),
)
_ARG_NAMES = st.sampled_from(
    [
        "file_path",
        "target_file",
        "path",
        "filename",
        "file_name",
        "contents",
        "old_string",
        "new_string",
        "replace_all",
        "pattern",
        "offset",
        "limit",
        "i",
        "output_mode",
        "A",
        "B",
        "C",
        "head_limit",
        "unknown",
    ]
)


def test_hostile_tool_arguments_never_raise_nor_write_outside_the_root(
    project: tuple[Path, Path], tmp_path: Path, profile: Profile, figures: Figures
) -> None:
    """Every tool with generated arguments (``..``, NUL, absolute, 256-byte names, links out,
    wrong types, unknown names): a ToolResult, never an exception; the outside directory and
    the project's siblings unchanged; the outside secret never in a result."""
    root, outside = project
    runner = LocalToolRunner(root)
    outside_before = _tree(outside)
    top_before = sorted(p.name for p in tmp_path.iterdir())

    @_settings(profile.examples * 3)
    @given(
        st.one_of(st.sampled_from(_TOOLS), st.text(max_size=12)),
        st.dictionaries(_ARG_NAMES, _ARG_VALUES, max_size=5),
    )
    def check(tool: str, args: dict[str, Any]) -> None:
        result = runner.run(ToolCall("c1", tool, args))
        figures.add("calls")
        figures.add("refused", result.is_error)
        assert isinstance(result, ToolResult)
        # The runner turns any exception into an error result: "never raise" means no crash.
        assert "failed unexpectedly" not in result.result, result.result
        assert OUTSIDE_SECRET not in result.result
        assert _tree(outside) == outside_before
        assert sorted(p.name for p in tmp_path.iterdir()) == top_before

    check()
    figures.add("violations", 0)


def test_directories_swapped_for_links_out_during_tool_calls_never_leak_a_write(
    project: tuple[Path, Path], profile: Profile, figures: Figures
) -> None:
    """While another process keeps swapping sch/ for a symlink to the outside directory and
    back, four threads run write, search_replace, delete_trace_file, read_file, list_dir and
    grep on sch/: the outside directory never changes and never shows in a result."""
    root, outside = project
    runner = LocalToolRunner(root)
    outside_before = _tree(outside)
    stop = root.parent / "stop-swapping"
    calls = [
        ("write", {"file_path": "sch/new.kicad_sch", "contents": "pwned"}),
        ("write", {"file_path": "sch/secret.kicad_sch", "contents": "pwned"}),
        (
            "search_replace",
            {"file_path": "sch/secret.kicad_sch", "old_string": "OUTSIDE", "new_string": "pwned"},
        ),
        ("delete_trace_file", {"filename": "sch/secret.kicad_sch"}),
        ("read_file", {"target_file": "sch/secret.kicad_sch"}),
        ("list_dir", {"path": "sch"}),
        ("grep", {"pattern": "OUTSIDE", "path": "sch"}),
    ]
    rng = random.Random(7)
    plan = [rng.choice(calls) for _ in range(profile.examples * 8)]
    swapper = workers.start("swapper", str(root), str(outside), str(stop))
    assert swapper.stdout is not None and swapper.stdout.readline() == "ready\n"
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda c: runner.run(ToolCall("c", c[0], c[1])), plan))
    finally:
        stop.touch()
        out, err = swapper.communicate(timeout=30)
    assert swapper.returncode == 0, err
    swaps = int(out)

    leaked = [r for r in results if OUTSIDE_SECRET in r.result]
    crashed = [r.result for r in results if "failed unexpectedly" in r.result]
    figures.add("calls", len(results))
    figures.add("swaps", swaps)
    figures.add("refused_calls", sum(r.is_error for r in results))
    figures.add("violations", len(leaked) + (_tree(outside) != outside_before))
    assert leaked == []
    assert crashed == []
    assert _tree(outside) == outside_before
    assert swaps > 10, "the swapper hardly ran; the race proves nothing"
