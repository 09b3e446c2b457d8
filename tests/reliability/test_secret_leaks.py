"""Secret leaks: one canary key (and a canary Trace token) through every way in and out.

The canary key may appear in exactly two places: the secret store while it is stored,
and the body of the chat requests to the backend (``llm_api_key``); the canary token
only in the secret store and the ``Authorization`` header. Everywhere else is
checked: stdout and stderr of every CLI command (success and every error path), the
argv of the running CLI as ``ps`` shows it (while it waits at the hidden prompt and
on stdin), log records at DEBUG from every logger, the text, repr and traceback of
every exception the SDK raises, the texts of the desktop panel, core files, and every
file created or changed during the test under the config dir, the project, HOME,
TMPDIR and /tmp. A fragment of the secret counts as a leak (its last 8 characters,
or its random part without the last 4 a masked key shows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from adapters.secrets.file import FileSecretStore
from domain.errors import TraceError
from entrypoints.sdk import AsyncTrace, Trace
from tests.e2e.cli_runner import CliResult, child_env, run, run_in_terminal
from tests.reliability.plugin import Figures
from tests.support import protocol_server as ps
from tests.support.keychain import (
    BUS_ENV,
    PrivateSecretService,
    SecretServiceUnavailableError,
    silent_secret_service,
    unavailable,
)
from tests.support.protocol_server import ProtocolServer

CLI = Path(sys.executable).with_name("buildwithtrace")


@attrs.frozen
class Canary:
    """A secret made to be found: the key itself and the fragments that also count."""

    value: str
    prefix: str

    @classmethod
    def new(cls, prefix: str) -> Canary:
        """A unique canary with a recognisable prefix."""
        return cls(f"{prefix}{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}", prefix)

    @property
    def fragments(self) -> tuple[str, ...]:
        """The whole value, its last 8 characters, its random part minus the 4 a mask shows."""
        return (self.value, self.value[-8:], self.value[len(self.prefix) : -4])

    def found_in(self, text: str | bytes) -> bool:
        """Whether any fragment is in ``text``."""
        if isinstance(text, bytes):
            return any(f.encode() in text for f in self.fragments)
        return any(f in text for f in self.fragments)


@attrs.define
class Places:
    """The directories a test's processes may write to, and when the test started."""

    config: Path
    project: Path
    home: Path
    tmp: Path
    cwd: Path
    started: float

    def roots(self) -> list[Path]:
        """Every directory to scan (the real /tmp last: other tests' files live there too)."""
        return [self.config, self.project, self.home, self.tmp, self.cwd, Path("/tmp")]


@pytest.fixture
def places(isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Places]:
    """HOME, TMPDIR, cwd and a project of our own, so nothing a command writes goes unseen."""
    found = Places(
        isolated_env,
        tmp_path / "project",
        tmp_path / "home",
        tmp_path / "tmpdir",
        tmp_path / "cwd",
        time.time() - 1,
    )
    for directory in (found.project, found.home, found.tmp, found.cwd):
        directory.mkdir(mode=0o700)
    (found.project / "board.kicad_sch").write_text("(symbol R1)\n")
    monkeypatch.setenv("HOME", str(found.home))
    monkeypatch.setenv("TMPDIR", str(found.tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(found.tmp))
    monkeypatch.chdir(found.cwd)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    yield found


def files_with(places: Places, canaries: list[Canary]) -> set[Path]:
    """Files created or changed since the test started, anywhere in ``places``, with a canary."""
    hits: set[Path] = set()
    for root in places.roots():
        for directory, _dirs, files in os.walk(root):
            for name in files:
                if name.startswith(".coverage"):
                    # Test tooling, not the product: coverage.py records the argv of every
                    # process it measures, and one path here passes the key in argv on
                    # purpose (`--key`, which warns that argv is visible).
                    continue
                path = Path(directory, name)
                try:
                    info = path.lstat()
                    if info.st_mtime < places.started or info.st_size > 64 * 1024 * 1024:
                        continue
                    if not stat.S_ISREG(info.st_mode):
                        continue  # a FIFO another test left in /tmp would block the read
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(c.found_in(data) for c in canaries):
                    hits.add(path)
    return hits


def _proc_cmdlines() -> dict[int, bytes]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
    return found


def argv_leaks(canaries: list[Canary]) -> list[str]:
    """Processes whose argv (what ``ps`` shows) holds a canary."""
    return [
        f"pid {pid}: {cmd[:200]!r}"
        for pid, cmd in _proc_cmdlines().items()
        if any(c.found_in(cmd) for c in canaries)
    ]


def _script(key: Canary, token: Canary) -> dict[str, Any]:
    """The backend's turns, in the order the test's chat commands use them."""
    tool = ps.tool_call(
        "w1",
        "search_replace",
        {"file_path": "board.kicad_sch", "old_string": "R1", "new_string": "R1 R2"},
        echo="{result}",
    )
    return {
        "token": token.value,
        "turns": [
            ps.turn(ps.text("Adding R2. "), tool, ps.metrics(input_tokens=5), ps.done("c1")),
            ps.turn(ps.text("again"), ps.done("c2")),
            # A 500 whose body echoes the key, then an error event quoting it.
            ps.turn(
                ps.error(f"provider said: invalid x-api-key {key.value}"),
                ps.done(),
                respond=[ps.respond(500, {"detail": f"bad request llm_api_key={key.value}"})],
            ),
            ps.turn(ps.text("cut "), ps.drop()),
            ps.turn(ps.text("after"), ps.done(), respond=[ps.respond(402), ps.respond(401)]),
        ],
    }


def _check_requests(server: ProtocolServer, key: Canary, token: Canary) -> list[str]:
    """The canary key only in chat bodies (llm_api_key), the token only in Authorization."""
    problems = []
    chat_bodies_with_key = 0
    for request in server.requests:
        if key.found_in(request.path) or token.found_in(request.path):
            problems.append(f"a canary in the URL {request.path}")
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        if any(key.found_in(v) or token.found_in(v) for v in headers.values()):
            problems.append(f"a canary in a header of {request.path}")
        if key.found_in(request.authorization or ""):
            problems.append("the key in an Authorization header")
        if token.found_in(request.text):
            problems.append(f"the token in the body of {request.path}")
        if key.found_in(request.text):
            if (
                request.path.endswith("/chat/stream")
                and request.body.get("llm_api_key") == key.value
            ):
                body = {k: v for k, v in request.body.items() if k != "llm_api_key"}
                if key.found_in(repr(body)):
                    problems.append("the key elsewhere in a chat body")
                chat_bodies_with_key += 1
            else:
                problems.append(f"the key in the body of {request.path}")
    if chat_bodies_with_key == 0:
        problems.append("no chat request carried the key: the check proves nothing")
    return problems


def test_the_canary_never_leaks_through_any_cli_command(
    places: Places, protocol_server: ProtocolServer, figures: Figures
) -> None:
    """A canary key and token through every CLI command and error path (set by stdin, prompt and
    --key; use, model, status, doctor, config, auth, billing, chat with a tool call, chat failing
    401/402/500-echoing-the-key/error-event-quoting-the-key/cut, refused keys, a key pasted as a
    model or a setting, a corrupt config): never in any output, never in ps while the CLI waits at
    the prompt or on stdin, only in the store and the chat request body; no file anywhere holds
    it once removed."""
    key, token = Canary.new("sk-ant-canary-"), Canary.new("trace-canary-token-")
    protocol_server.load(_script(key, token))
    env = {"TRACE_BASE_URL": protocol_server.url}
    results: list[CliResult] = []
    problems: list[str] = []

    def cli(*args: str, stdin: str | None = None, code: int | None = 0) -> CliResult:
        result = run(list(args), input=stdin, env_extra=env)
        results.append(result)
        if code is not None and result.code != code:
            problems.append(f"wanted exit {code}:\n{result}")
        return result

    def no_argv_leak(pid: int) -> None:
        figures.add("process_tables_checked")
        problems.extend(argv_leaks([key, token]))

    # Ways in: stdin, the hidden prompt (ps checked while it waits), stdin held open (ps checked
    # while the CLI blocks reading it), and --key (argv by the user's own choice: output only).
    cli("byok", "set", "anthropic", "--key-stdin", stdin=key.value)
    prompted = run_in_terminal(
        ["byok", "set", "anthropic"], key.value + "\n", env_extra=env, at_prompt=no_argv_leak
    )
    results.append(prompted)
    if prompted.code != 0:
        problems.append(f"wanted exit 0 from the hidden prompt:\n{prompted}")
    held = subprocess.Popen(
        [str(CLI), "byok", "set", "anthropic", "--key-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(env),
    )
    assert held.stdin is not None
    held.stdin.write(key.value)
    held.stdin.flush()
    time.sleep(0.8)  # the CLI starts and blocks reading stdin up to EOF
    no_argv_leak(held.pid)
    out, err = held.communicate(timeout=30)
    held_result = CliResult(
        ("byok", "set", "anthropic", "--key-stdin"), held.returncode, out, err, 0
    )
    results.append(held_result)
    if held_result.code != 0:
        problems.append(f"wanted exit 0 with stdin held open:\n{held_result}")
    cli("byok", "set", "anthropic", "--key", key.value)
    cli("auth", "login", "--token-stdin", stdin=token.value)
    # Ways out.
    for args in (
        ("byok", "use", "anthropic"),
        ("byok", "use", "anthropic", "--json"),
        ("byok", "model", "claude-opus-4-1"),
        ("byok", "status"),
        ("byok", "status", "--json"),
        ("doctor",),
        ("doctor", "--json"),
        ("config", "list"),
        ("config", "list", "--json"),
        ("config", "get", "llm.provider"),
        ("auth", "status"),
        ("auth", "status", "--json"),
        ("billing", "status"),
        ("billing", "status", "--json"),
    ):
        cli(*args)
    project = str(places.project)
    cli("chat", "add R2", "--mode", "agent", "--project", project)
    cli("chat", "again", "--json", "--project", project)
    # Error paths.
    cli("chat", "x", "--project", project, code=4)  # 500 whose body echoes the key
    cli("chat", "x", "--json", "--project", project, code=4)  # error event quoting the key
    cli("chat", "x", "--project", project, code=4)  # cut mid-stream
    cli("chat", "x", "--project", project, code=4)  # 402
    cli("chat", "x", "--project", project, code=3)  # 401
    cli("byok", "set", "openai", "--key-stdin", stdin=f"{key.value} x", code=2)
    cli("byok", "set", "openai", "--key-stdin", "--json", stdin=f"\x07{key.value}", code=2)
    cli("byok", "model", key.value, code=2)
    cli("byok", "use", key.value, code=2)
    cli("config", "set", "backend.env", key.value, code=2)
    cli("config", "set", "llm.models.openai", key.value, "--json", code=2)
    cli(
        "chat",
        "x",
        "--provider",
        "anthropic",
        "--model",
        key.value,
        "--project",
        project,
        code=2,
    )
    config = places.config / "config.toml"
    good = config.read_bytes()
    config.write_bytes(b"[llm\n")
    cli("byok", "set", "gemini", "--key-stdin", stdin=key.value, code=5)
    cli("byok", "set", "gemini", "--key-stdin", "--json", stdin=key.value, code=5)
    config.write_bytes(good)

    stored = FileSecretStore(places.config / "credentials.json")
    found = stored.get("llm:anthropic")
    assert found is not None and found.secret.reveal() == key.value
    allowed = {places.config / "credentials.json"}
    while_stored = files_with(places, [key, token])
    cli("byok", "remove", "anthropic")
    cli("auth", "logout")
    after_removal = files_with(places, [key, token])

    for result in results:
        text = result.stdout + result.stderr
        if key.found_in(text) or token.found_in(text):
            problems.append(f"a canary in the output of:\n{result}")
    problems += _check_requests(protocol_server, key, token)
    if while_stored - allowed:
        problems.append(f"files holding a canary: {sorted(map(str, while_stored - allowed))}")
    if after_removal:
        problems.append(
            f"files still holding a canary after removal: {sorted(map(str, after_removal))}"
        )
    figures.add("cli_runs", len(results))
    figures.add("requests_checked", len(protocol_server.requests))
    figures.add("violations", len(problems))
    assert problems == [], "\n\n".join(problems)


def _raise_core_limit() -> None:  # pragma: no cover - runs in the child before exec
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def test_a_crashing_cli_holding_the_key_writes_no_core_and_shows_no_argv(
    places: Places, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figures: Figures
) -> None:
    """With core dumps allowed by the shell (ulimit -c unlimited), the CLI is aborted (SIGABRT)
    while it holds the canary key, waiting on a keychain that never answers: no core file
    appears, and no process's argv holds the key meanwhile."""
    key = Canary.new("sk-ant-canary-")
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "keychain")
    monkeypatch.setenv("TRACE_KEYCHAIN_TIMEOUT", "20")
    cores = tmp_path / "cores"
    cores.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", "/tmp")  # a bus socket path must stay short
        daemons = PrivateSecretService()
    try:
        address = daemons.start_bus()
    except SecretServiceUnavailableError as exc:
        daemons.stop()
        unavailable(str(exc))
    with contextlib.ExitStack() as stack:
        stack.callback(daemons.stop)
        stack.enter_context(silent_secret_service(address))
        monkeypatch.setenv(BUS_ENV, address)
        child = subprocess.Popen(
            [str(CLI), "byok", "set", "anthropic", "--key-stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cores,
            env=child_env(),
            preexec_fn=_raise_core_limit,
        )
        assert child.stdin is not None
        child.stdin.write(key.value.encode())
        child.stdin.close()
        time.sleep(1.5)  # read the key, parsed it, now waiting on the keychain
        assert child.poll() is None, "the CLI ended before it could be aborted"
        leaks = argv_leaks([key])
        child.send_signal(signal.SIGABRT)
        child.wait(timeout=30)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        child.stderr.close()
    core_files = [p for p in cores.iterdir() if p.name.startswith("core")]
    with_key = [p for p in core_files if key.found_in(p.read_bytes())]
    figures.add("aborted_runs")
    figures.add("core_files", len(core_files))
    figures.add("violations", len(leaks) + len(core_files))
    assert child.returncode == -signal.SIGABRT
    assert leaks == []
    assert core_files == [], f"core files written ({len(with_key)} hold the key)"


# --- the SDK ----------------------------------------------------------------------------


def _exception_texts(error: BaseException) -> str:
    chain = "".join(traceback.format_exception(error))
    parts = [chain, repr(error), str(error), repr(error.args)]
    if isinstance(error, TraceError):
        parts += [error.problem, error.fix]
    return "\n".join(parts)


def test_the_canary_never_leaks_through_any_sdk_call(
    places: Places,
    protocol_server: ProtocolServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    figures: Figures,
) -> None:
    """The canary key through Trace and AsyncTrace: per-call and constructor keys, byok set,
    use, model, status and remove, chat and stream with a tool call, resolve, and the errors
    (401, 402, 500 echoing the key, an error event quoting it, a cut stream, refused and
    ambiguous keys, a key pasted as a model, a corrupt config): never in a log record at DEBUG
    from any logger, any exception's text, repr or traceback, any returned object's repr, or
    stdout/stderr."""
    key, token = Canary.new("sk-ant-canary-"), Canary.new("trace-canary-token-")
    protocol_server.load(_script(key, token))
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "buildwithtrace", "asyncio", "filelock", "keyring"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    env = {"TRACE_CONFIG_DIR": str(places.config), "TRACE_CREDENTIALS_STORE": "file"}
    shown: list[str] = []
    problems: list[str] = []

    def expect_error(action: Callable[[], object]) -> None:
        try:
            value = action()
        except TraceError as error:
            shown.append(_exception_texts(error))
            figures.add("errors_checked")
        else:
            problems.append(f"no error from an error path: {value!r}")

    with Trace(token=token.value, base_url=protocol_server.url, env=env) as trace:
        shown.append(repr(trace.byok.set("anthropic", key.value)))
        shown.append(repr(trace.byok.use("anthropic")))
        shown.append(repr(trace.byok.model("claude-opus-4-1")))
        shown.append(repr(trace.byok.status()))
        shown.append(repr(trace.resolve()))
        shown.append(repr(trace.resolve(llm_provider="anthropic", llm_api_key=key.value)))
        reply = trace.chat("add R2", mode="agent", project_dir=places.project)
        shown.append(repr(reply))
        shown.extend(
            repr(item)
            for item in trace.stream("again", llm_api_key=key.value, llm_provider="anthropic")
        )
        expect_error(lambda: trace.chat("x"))  # 500 echoing the key
        shown.append(repr(trace.chat("x")))  # an error event quoting the key: reply.errors
        expect_error(lambda: trace.chat("x"))  # cut
        expect_error(lambda: trace.chat("x"))  # 402
        expect_error(lambda: trace.chat("x"))  # 401
        expect_error(lambda: trace.byok.set("openai", f"{key.value} x"))
        expect_error(lambda: trace.byok.set(key.value, key.value))
        expect_error(lambda: trace.byok.model(key.value))
        expect_error(lambda: trace.chat("x", llm_provider="anthropic", llm_model_id=key.value))
        expect_error(lambda: trace.resolve(llm_api_key=key.value))
        expect_error(
            lambda: trace.chat("x", llm_provider="anthropic", llm_api_key=f"{key.value}\n x")
        )
        config = places.config / "config.toml"
        good = config.read_bytes()
        config.write_bytes(b"[llm\n")
        expect_error(lambda: trace.byok.set("gemini", key.value))
        config.write_bytes(good)
        shown.append(repr(trace.byok.remove("anthropic")))
    expect_error(lambda: Trace(llm_api_key=key.value, env=env).resolve())

    async def async_calls() -> None:
        async with AsyncTrace(token=token.value, base_url=protocol_server.url, env=env) as sdk:
            shown.append(repr(await sdk.byok.set("anthropic", key.value)))
            shown.append(repr(await sdk.byok.status()))
            shown.append(repr(await sdk.resolve()))
            shown.append(repr(await sdk.byok.remove("anthropic")))
            try:
                await sdk.byok.set("openai", f"{key.value} x")
            except TraceError as error:
                shown.append(_exception_texts(error))

    asyncio.run(async_calls())

    records = [f"{r.name}: {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]
    captured = capsys.readouterr()
    texts = [*shown, *records, captured.out, captured.err]
    problems += [f"a canary in: {t[:300]}" for t in texts if key.found_in(t) or token.found_in(t)]
    problems += _check_requests(protocol_server, key, token)
    leftovers = files_with(places, [key, token])
    if leftovers:
        problems.append(f"files holding a canary after removal: {sorted(map(str, leftovers))}")
    figures.add("texts_checked", len(texts))
    figures.add("log_records_checked", len(caplog.records))
    figures.add("violations", len(problems))
    assert problems == [], "\n\n".join(problems)


# --- the desktop panel --------------------------------------------------------------------


def test_the_canary_never_leaks_through_the_desktop_panel(
    places: Places,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    figures: Figures,
) -> None:
    """The canary typed into the AI Provider panel's key field and saved (and saved again onto a
    corrupt config, the error path): no widget text, tooltip, placeholder or accessible name,
    no log record at DEBUG and no file but the store holds it."""
    pytest.importorskip("PySide6.QtWidgets")
    pytest.importorskip("pytestqt")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QFrame, QLineEdit, QPushButton, QWidget

    from domain.provider import Provider
    from entrypoints.desktop.gui_gc import GuiThreadCollector
    from entrypoints.desktop.panel import AiProviderPanel
    from entrypoints.runtime import Runtime

    qtbot = request.getfixturevalue("qtbot")
    caplog.set_level(logging.DEBUG)
    key = Canary.new("sk-ant-canary-")
    collector = GuiThreadCollector()  # as the app does: no GC on worker threads
    request.addfinalizer(collector.stop)
    panel = AiProviderPanel(Runtime())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=15_000)

    def save() -> None:
        panel.select(Provider.ANTHROPIC)
        field = panel.findChild(QLineEdit, "keyField")
        assert field is not None and field.isEnabled()
        QTest.keyClicks(field, key.value)
        button = panel.findChild(QPushButton, "save")
        assert button is not None
        with qtbot.waitSignal(panel.idle, timeout=15_000):
            QTest.mouseClick(button, qtbot_left())
        qtbot.waitUntil(lambda: not panel.busy, timeout=15_000)

    def qtbot_left() -> Any:
        from PySide6.QtCore import Qt

        return Qt.MouseButton.LeftButton

    def texts() -> list[str]:
        found = []
        for obj in [panel, *panel.findChildren(QObject)]:
            for getter in (
                "text",
                "placeholderText",
                "toolTip",
                "accessibleName",
                "windowTitle",
                "statusTip",
                "whatsThis",
                "accessibleDescription",
            ):
                method = getattr(obj, getter, None)
                if callable(method):
                    try:
                        value = method()
                    except TypeError:
                        continue
                    if isinstance(value, str):
                        found.append(value)
            if isinstance(obj, QWidget) and hasattr(obj, "count") and hasattr(obj, "item"):
                found.extend(obj.item(i).text() for i in range(obj.count()))
        return found

    save()
    stored = FileSecretStore(places.config / "credentials.json").get("llm:anthropic")
    assert stored is not None and stored.secret.reveal() == key.value
    shown = texts()
    config = places.config / "config.toml"
    config.write_bytes(b"[llm\n")
    save()  # the error path: the banner shows the corrupt config, not the key
    banner = panel.findChild(QFrame, "errorBanner")
    assert banner is not None and banner.isVisible(), "the error path was not taken"
    shown += texts()
    panel.wait(10_000)

    records = [f"{r.name}: {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]
    problems = [t[:200] for t in [*shown, *records] if key.found_in(t)]
    extra = files_with(places, [key]) - {places.config / "credentials.json"}
    figures.add("widget_texts_checked", len(shown))
    figures.add("log_records_checked", len(records))
    figures.add("violations", len(problems) + len(extra))
    assert problems == [], "\n\n".join(problems)
    assert extra == set()
