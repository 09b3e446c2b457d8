"""Child processes of the reliability suite: ``python -m tests.reliability.workers KIND ...``.

``ops GATE PLAN``: wait for the file GATE, then run each CLI command of the JSON list
PLAN in-process (a fresh container per command, as a new ``buildwithtrace`` process
would build) and print one JSON line per command with its exit code and its start
and end on the system-wide monotonic clock, so the parent can order commands of
different processes in real time.

``crash-writer``: a zygote that imports everything once, then for each stdin line
``START DELAY_MS`` forks a child that stores key number START, START+1, ... (SetKey:
credentials.json, then config.toml) and sets model number START, ... (SelectModel:
config.toml) as fast as it can; after DELAY_MS the zygote SIGKILLs it and prints
``killed``. Forking from a warm process makes a kill cost milliseconds, not an
interpreter start-up.

``as-user UID PLAN``: run each CLI command of the JSON list PLAN in-process as user UID
(gid the same), printing one JSON line per command with its exit code and both streams.
Every command first runs once as the starting user (root) against a scratch config
directory, so each module it needs is imported before the privileges are dropped
(another user may not read this interpreter's files).

``swapper ROOT OUTSIDE STOP``: a racing attacker in its own process (no GIL shared with
the tools it races): swaps ROOT/sch for a symlink to OUTSIDE and back until the file
STOP exists, then prints how many times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.files import REPO_ROOT

_GATE_TIMEOUT = 60.0


def start(
    kind: str,
    *args: str,
    env: dict[str, str] | None = None,
    stdin_pipe: bool = False,
    umask: int | None = None,
) -> subprocess.Popen[str]:
    """Start a worker child with the project importable; stdout/stderr (and stdin) are piped."""
    child_env = {**(env if env is not None else os.environ), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.workers", kind, *args],
        cwd=REPO_ROOT,
        env=child_env,
        stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=None if umask is None else lambda: _set_umask(umask),
    )


def _set_umask(mask: int) -> None:  # pragma: no cover - runs in the child before exec
    os.umask(mask)


def _wait_for(gate: Path) -> None:
    deadline = time.monotonic() + _GATE_TIMEOUT
    while not gate.exists():
        if time.monotonic() > deadline:
            sys.exit("gate never opened")
        time.sleep(0.002)


def _ops(gate: Path, plan: Path) -> None:
    from tests.reliability.inprocess import cli

    steps: list[dict[str, object]] = json.loads(plan.read_text(encoding="utf-8"))
    _wait_for(gate)
    for step in steps:
        args = [str(a) for a in step["args"]]  # type: ignore[attr-defined]
        stdin = str(step.get("stdin", ""))
        started = time.monotonic()
        outcome = cli(*args, stdin=stdin)
        ended = time.monotonic()
        record = {**step, "code": outcome.code, "start": started, "end": ended}
        if outcome.code not in (0,):
            record["stderr"] = outcome.stderr[-400:]
        print(json.dumps(record), flush=True)


def _as_user(uid: int, plan: Path) -> None:
    import tempfile

    from tests.reliability.inprocess import cli

    steps: list[dict[str, object]] = json.loads(plan.read_text(encoding="utf-8"))
    real = os.environ.get("TRACE_CONFIG_DIR", "")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["TRACE_CONFIG_DIR"] = scratch
        for step in steps:
            cli(*[str(a) for a in step["args"]], stdin=str(step.get("stdin", "")))  # type: ignore[attr-defined]
    os.environ["TRACE_CONFIG_DIR"] = real
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    for step in steps:
        outcome = cli(*[str(a) for a in step["args"]], stdin=str(step.get("stdin", "")))  # type: ignore[attr-defined]
        record = {**step, "code": outcome.code, "stdout": outcome.stdout, "stderr": outcome.stderr}
        print(json.dumps(record), flush=True)


def crash_key(n: int) -> str:
    """The key the crash writer stores in step ``n`` (a fixed width: every file has one size)."""
    return f"sk-ant-crash-{n:08d}-" + "k" * 40


def crash_model(n: int) -> str:
    """The model the crash writer selects in step ``n``."""
    return f"crash-model-{n:08d}"


def _crash_writer() -> None:
    import signal

    from domain.model_id import parse_model_id
    from domain.provider import Provider
    from domain.secret import Secret
    from entrypoints.runtime import Runtime

    Runtime().use_cases.show_status().execute()  # import every adapter module now
    for line in sys.stdin:
        start, delay_ms = (int(x) for x in line.split())
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns; it is killed
            try:
                use_cases = Runtime().use_cases
                n = start
                while True:
                    use_cases.set_key().execute(Provider.ANTHROPIC, Secret(crash_key(n)))
                    use_cases.select_model().execute(
                        parse_model_id(crash_model(n)), Provider.ANTHROPIC
                    )
                    n += 1
            finally:
                os._exit(3)
        time.sleep(delay_ms / 1000)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print("killed" if killed else f"exited {status}", flush=True)


def _swapper(root: Path, outside: Path, stop: Path) -> None:
    """Swap ROOT/sch for a symlink to OUTSIDE and back until STOP exists; print the count."""
    import contextlib

    real, parked = root / "sch", root / "sch.parked"
    swaps = made = 0
    print("ready", flush=True)
    while not stop.exists():
        for _ in range(20):
            real.rename(parked)
            # A tool's write may create sch/ in the gap (it makes missing directories).
            with contextlib.suppress(FileExistsError):
                real.symlink_to(outside)
                real.unlink()
            while True:
                try:
                    parked.rename(real)
                    break
                except OSError:  # sch/ made by a tool meanwhile: move it out of the way
                    made += 1
                    real.rename(root / f"sch.made-{made}")
            swaps += 1
    print(swaps, flush=True)


def main(argv: Sequence[str]) -> None:
    """Dispatch on the worker kind."""
    kind, *rest = argv
    if kind == "ops":
        _ops(Path(rest[0]), Path(rest[1]))
    elif kind == "crash-writer":
        _crash_writer()
    elif kind == "as-user":
        _as_user(int(rest[0]), Path(rest[1]))
    elif kind == "swapper":
        _swapper(Path(rest[0]), Path(rest[1]), Path(rest[2]))
    else:
        sys.exit(f"unknown worker kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
