"""Helpers for file-storage tests: real child processes, start gates, modes and leftovers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Prepended to child scripts: wait for the gate file so that every child starts its
# work at the same moment instead of staggered by interpreter start-up.
GATE_PRELUDE = """
import sys, time
from pathlib import Path
_gate = Path(sys.argv[1])
_deadline = time.monotonic() + 60
while not _gate.exists():
    if time.monotonic() > _deadline:
        sys.exit("gate never opened")
    time.sleep(0.002)
"""


def python_process(code: str, *args: str) -> subprocess.Popen[str]:
    """Start ``python -c code args`` with the project importable; stdout/stderr are piped."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code args`` to completion and return its result."""
    process = python_process(code, *args)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_gated(
    code: str, arg_lists: list[tuple[str, ...]], gate: Path, timeout: float = 120
) -> list[subprocess.CompletedProcess[str]]:
    """Start one child per argument tuple, open ``gate`` once all are started, wait for all.

    ``code`` should begin with :data:`GATE_PRELUDE`; each child gets ``gate`` as argv[1].
    """
    processes = [python_process(code, str(gate), *args) for args in arg_lists]
    time.sleep(0.2)  # let the interpreters get to the gate; correctness does not depend on it
    gate.touch()
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=timeout)
        results.append(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        )
    return results


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` (not following a final symlink)."""
    return stat.S_IMODE(path.lstat().st_mode)


def temp_files(directory: Path) -> list[str]:
    """Names of temp files left in ``directory`` by an interrupted or failed write."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))
