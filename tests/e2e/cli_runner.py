"""Running ``buildwithtrace`` the way a user does: the installed console script, in a subprocess.

The child gets a copy of this process's environment taken at call time, so the
autouse isolation fixture's ``TRACE_CONFIG_DIR``, keychain service and scrubbed
variables (and a test's ``monkeypatch.setenv``) apply to it. Standard input is
``/dev/null`` unless text is given: a child never inherits a terminal by accident.

:class:`CliSession` records every run, so a test can check all it printed afterwards
(the canary test greps every output of every command it ran).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import select
import stat
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

CLI = Path(sys.executable).with_name("buildwithtrace")
# A D-Bus address whose socket does not exist: the keychain is "unusable", fast.
NO_BUS = "unix:path=/nonexistent/trace-e2e/bus"
PROMPT_MARK = "(input hidden): "
_TIMEOUT = 30.0


@attrs.frozen
class CliResult:
    """One finished run: arguments, exit code and both output streams."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        """Stdout parsed as one JSON document."""
        return json.loads(self.stdout)

    def __str__(self) -> str:
        """The whole run, for assertion messages."""
        return (
            f"$ buildwithtrace {' '.join(self.args)}\n-> exit {self.code}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


def child_env(env_extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment now, with ``env_extra`` applied (``None`` unsets)."""
    env = dict(os.environ)
    for name, value in (env_extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(
    args: Sequence[str],
    input: str | None = None,
    env_extra: Mapping[str, str | None] | None = None,
    timeout: float = _TIMEOUT,
) -> CliResult:
    """Run ``buildwithtrace args`` to completion (stdin: ``input``, else /dev/null)."""
    started = time.monotonic()
    completed = subprocess.run(
        [str(CLI), *args],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        env=child_env(env_extra),
        timeout=timeout,
        check=False,
    )
    return CliResult(
        tuple(args),
        completed.returncode,
        completed.stdout,
        completed.stderr,
        time.monotonic() - started,
    )


def _take_terminal() -> None:  # pragma: no cover - runs in the child, between fork and exec
    # The child is a session leader (start_new_session); make its stdin, the pty
    # slave, its controlling terminal so that getpass opens /dev/tty like for a user.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_in_terminal(
    args: Sequence[str],
    typed: str,
    env_extra: Mapping[str, str | None] | None = None,
    wait_for: str = PROMPT_MARK,
    timeout: float = _TIMEOUT,
    at_prompt: Callable[[int], None] | None = None,
    at_prompt_shown: Callable[[int, str], None] | None = None,
) -> CliResult:
    """Run in a pseudo-terminal; type ``typed`` once ``wait_for`` shows.

    ``at_prompt(pid)``, if given, runs while the child waits there, before the typing;
    ``at_prompt_shown(pid, text)`` likewise, with what the terminal showed so far (a
    test playing the user reads a one-time code off the screen this way).
    ``stdout`` holds everything the terminal displayed (both streams, with what the
    terminal echoed of the typing, if anything); ``stderr`` is empty.
    """
    import pty

    started = time.monotonic()
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(CLI), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env(env_extra),
            start_new_session=True,
            preexec_fn=_take_terminal,  # only an ioctl: safe between fork and exec
        )
    finally:
        os.close(slave)
    shown = bytearray()
    deadline = started + timeout
    try:
        # getpass writes the prompt's last character after it turned echo off: waiting
        # for it means our typing can only be echoed if echo really is on.
        while wait_for.encode() not in shown:
            if not _read_some(master, shown, deadline):
                break
        if at_prompt is not None:
            at_prompt(process.pid)
        if at_prompt_shown is not None:
            at_prompt_shown(process.pid, shown.decode("utf-8", errors="replace"))
        os.write(master, typed.encode())
        while _read_some(master, shown, deadline):
            pass
        code = process.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    text = shown.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return CliResult(tuple(args), code, text, "", time.monotonic() - started)


def _read_some(master: int, into: bytearray, deadline: float) -> bool:
    """Append what the terminal shows; False at end of output (or past the deadline)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    ready, _, _ = select.select([master], [], [], remaining)
    if not ready:
        return False
    try:
        chunk = os.read(master, 4096)
    except OSError as exc:  # Linux reports the closed slave side as EIO
        if exc.errno == errno.EIO:
            return False
        raise
    into.extend(chunk)
    return bool(chunk)


@attrs.define
class CliSession:
    """Runs commands and remembers every result (for checks over all output)."""

    env_extra: dict[str, str | None] = attrs.field(factory=dict)
    results: list[CliResult] = attrs.field(factory=list)

    def run(
        self,
        *args: str,
        input: str | None = None,
        env_extra: Mapping[str, str | None] | None = None,
    ) -> CliResult:
        """Run one command (the session's env_extra, then this call's)."""
        result = run(args, input=input, env_extra={**self.env_extra, **(env_extra or {})})
        self.results.append(result)
        return result

    def run_in_terminal(
        self, *args: str, typed: str, env_extra: Mapping[str, str | None] | None = None
    ) -> CliResult:
        """Run one command in a pseudo-terminal, typing ``typed`` at the prompt."""
        result = run_in_terminal(args, typed, env_extra={**self.env_extra, **(env_extra or {})})
        self.results.append(result)
        return result

    def outputs(self) -> list[tuple[str, str]]:
        """(label, text) for every stream of every run."""
        found = []
        for result in self.results:
            command = " ".join(result.args)
            found.append((f"stdout of `{command}`", result.stdout))
            found.append((f"stderr of `{command}`", result.stderr))
        return found


@attrs.frozen
class FileState:
    """A file's permission bits and bytes."""

    mode: int
    data: bytes


def snapshot(directory: Path) -> dict[str, FileState]:
    """Every file under ``directory`` (relative path -> mode and bytes), directories' modes too."""
    state: dict[str, FileState] = {}
    if not directory.exists():
        return state
    state["."] = FileState(stat.S_IMODE(directory.stat().st_mode), b"")
    for path in sorted(directory.rglob("*")):
        mode = stat.S_IMODE(path.lstat().st_mode)
        data = path.read_bytes() if path.is_file() else b""
        state[str(path.relative_to(directory))] = FileState(mode, data)
    return state


def files_containing(root: Path, needle: str) -> list[Path]:
    """Files under ``root`` whose bytes contain ``needle`` (UTF-8)."""
    raw = needle.encode()
    found = []
    for path in sorted(root.rglob("*")):
        with contextlib.suppress(OSError):
            if path.is_file() and raw in path.read_bytes():
                found.append(path)
    return found
