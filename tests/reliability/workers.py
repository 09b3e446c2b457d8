"""Child processes of the reliability suite: ``python -m tests.reliability.workers KIND ...``.

``ops GATE PLAN``: wait for the file GATE, then run each CLI command of the JSON list
PLAN in-process (a fresh container per command, as a new ``buildwithtrace`` process
would build) and print one JSON line per command with its exit code and its start
and end on the system-wide monotonic clock, so the parent can order commands of
different processes in real time.
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


def start(kind: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a worker child with the project importable; stdout/stderr are piped."""
    child_env = {**(env if env is not None else os.environ), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.workers", kind, *args],
        cwd=REPO_ROOT,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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


def main(argv: Sequence[str]) -> None:
    """Dispatch on the worker kind."""
    kind, *rest = argv
    if kind == "ops":
        _ops(Path(rest[0]), Path(rest[1]))
    else:
        sys.exit(f"unknown worker kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
