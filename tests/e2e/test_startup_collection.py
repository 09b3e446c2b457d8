"""The cyclic collector is off while the CLI starts and back on before a command works.

Start-up creates objects that live as long as the process; scanning them while they
are made, and once more at exit, cost a fifth of ``byok status`` (docs/performance.md).
A command that runs for long (a chat, a login, the settings panel) must still collect
its own cyclic garbage, so the collector comes back on once the runtime is built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.e2e.cli_runner import CLI

_PROBE = (
    "import atexit, gc, json, runpy, sys\n"
    "atexit.register(lambda: print('GC', json.dumps([gc.isenabled(), gc.get_freeze_count()]),"
    " file=sys.stderr))\n"
    "sys.argv = ['buildwithtrace', *{args!r}]\n"
    "runpy.run_path({cli!r}, run_name='__main__')\n"
)


def _collector_at_exit(*args: str) -> tuple[bool, int]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=list(args), cli=str(CLI))],
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("GC "))
    enabled, frozen = json.loads(line.removeprefix("GC "))
    return bool(enabled), int(frozen)


def test_a_command_that_builds_the_runtime_runs_with_the_collector_on() -> None:
    """The runtime's imports are frozen out of the collector's way, then it collects."""
    enabled, frozen = _collector_at_exit("byok", "status")

    assert enabled
    assert frozen > 10_000  # the start-up's objects (modules, classes, functions)
