"""``SubprocessKeyHelper`` with real child processes: no shell, bounded time, clear errors."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from adapters.helpers.subprocess_helper import SubprocessKeyHelper
from domain.errors import KeyHelperError
from domain.keys import HelperCommand, HelperReason, KeyRef, parse_helper_output
from domain.provider import Provider

REF = KeyRef(Provider.OPENAI, "client-a")
KEY = "sk-proj-helper-process-key-0123456789abcdef"


def script(tmp_path: Path, body: str, name: str = "helper.py") -> str:
    """A helper program (Python) in ``tmp_path``; returns the command that runs it."""
    path = tmp_path / name
    path.write_text("import os, sys, time, json\n" + textwrap.dedent(body), encoding="utf-8")
    return f"{sys.executable} {path}"


def run(
    command: str, *, timeout: float = 10.0, shell: bool = False, env: dict[str, str] | None = None
) -> str:
    helper = SubprocessKeyHelper(env if env is not None else dict(os.environ), timeout=timeout)
    return helper.run(HelperCommand.parse(command, shell=shell), REF, HelperReason.CHAT)


def test_the_helper_prints_the_key_and_learns_why_it_runs(tmp_path: Path) -> None:
    command = script(
        tmp_path,
        f"""
        print(json.dumps({{"key": "{KEY}", "reason": os.environ["TRACE_KEY_HELPER_REASON"],
            "provider": os.environ["TRACE_KEY_HELPER_PROVIDER"],
            "name": os.environ["TRACE_KEY_HELPER_NAME"], "mine": os.environ.get("MY_SESSION"),
            "stdin": sys.stdin.read()}}))
        """,
    )
    printed = json.loads(run(command, env={**os.environ, "MY_SESSION": "op-session-1"}))
    assert printed == {
        "key": KEY,
        "reason": "chat",
        "provider": "openai",
        "name": "client-a",
        "mine": "op-session-1",  # the user's environment, not a scrubbed one
        "stdin": "",  # standard input is closed
    }


def test_no_shell_runs_unless_asked(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    command = script(tmp_path, "print(' '.join(sys.argv[1:]))")
    printed = run(f"{command} $HOME ';' touch {marker} '`id`'")
    assert printed.strip() == f"$HOME ; touch {marker} `id`"
    assert not marker.exists()
    shelled = run(f"echo a-key-from-sh && touch {marker}", shell=True)  # noqa: S604
    assert shelled.strip() == "a-key-from-sh" and marker.exists()


def test_a_key_with_surrounding_whitespace_is_read_exactly(tmp_path: Path) -> None:
    command = script(tmp_path, f"sys.stdout.write('  \\n{KEY} \\r\\n\\n')")
    assert parse_helper_output(run(command), REF).secret.reveal() == KEY


def test_a_helper_that_hangs_is_stopped_in_bounded_time(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    command = script(
        tmp_path,
        f"""
        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(600)
        """,
    )
    started = time.monotonic()
    with pytest.raises(KeyHelperError) as caught:
        run(command, timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 30  # bounded (about 1 s), not the helper's 600 s
    assert "did not finish within 1 s and was stopped" in caught.value.problem
    assert "keys.helper_timeout" in caught.value.fix
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child), "what the helper started is stopped with it"


def test_a_helper_that_fails_shows_its_stderr_without_the_key(tmp_path: Path) -> None:
    command = script(
        tmp_path,
        f"""
        print("{KEY}")
        sys.stderr.write("[ERROR] vault: permission denied for {KEY[:20]}\\x1b[31m and "
                         "sk-ant-api03-other-looking-key-000000000\\n" + "x" * 5000)
        sys.exit(3)
        """,
    )
    with pytest.raises(KeyHelperError) as caught:
        run(command)
    problem = caught.value.problem
    assert problem.startswith("openai:client-a: the key helper ")
    assert "exited with status 3: [ERROR] vault: permission denied for" in problem
    assert KEY[:8] not in caught.value.message and "sk-ant-api03" not in problem
    assert "\x1b" not in problem and len(problem) < 500


def test_a_helper_that_prints_nothing_or_garbage_is_a_clear_error(tmp_path: Path) -> None:
    silent = script(tmp_path, "pass", "silent.py")
    noisy = script(tmp_path, "print('Enter passphrase for key:  ')", "noisy.py")
    binary = script(tmp_path, "sys.stdout.buffer.write(b'\\xff\\xfe')", "binary.py")
    with pytest.raises(KeyHelperError, match="printed nothing"):
        parse_helper_output(run(silent), REF)
    with pytest.raises(KeyHelperError, match="more than one word"):
        parse_helper_output(run(noisy), REF)
    with pytest.raises(KeyHelperError, match="not UTF-8"):
        run(binary)


def test_a_helper_printing_without_end_is_cut_off(tmp_path: Path) -> None:
    command = script(tmp_path, "while True: sys.stdout.write('k' * 65536)")
    with pytest.raises(KeyHelperError, match="more than 64 KiB"):
        run(command, timeout=20)


def test_a_missing_program_says_so(tmp_path: Path) -> None:
    with pytest.raises(KeyHelperError) as caught:
        run(f"{tmp_path}/no-such-password-manager read x")
    assert "'no-such-password-manager' was not found" in caught.value.problem
    assert caught.value.fix.startswith("install it, or fix the command: buildwithtrace byok set")


def test_a_helper_that_leaves_a_child_holding_the_output_still_returns(tmp_path: Path) -> None:
    command = script(
        tmp_path,
        f"""
        import subprocess
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        print("{KEY}")
        """,
    )
    started = time.monotonic()
    assert run(command, timeout=20).strip() == KEY
    assert time.monotonic() - started < 15  # about 1 s after the helper exited


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as stopped.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
