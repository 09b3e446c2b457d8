"""`buildwithtrace --help` as a user runs it: click's page, without importing click."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.cli_runner import CLI


def _run(argv: list[str], columns: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_console_script_help_equals_clicks_page(columns: int) -> None:
    through_click = [sys.executable, "-c", "from entrypoints.cli.app import run; run(['--help'])"]

    fast = _run([str(CLI), "--help"], columns)
    slow = _run(through_click, columns)

    assert (fast.returncode, fast.stdout, fast.stderr) == (0, slow.stdout, "")
    assert slow.returncode == 0


def test_help_imports_neither_click_nor_the_domain() -> None:
    probe = (
        "import sys, runpy; sys.argv = ['buildwithtrace', '--help']; "
        f"runpy.run_path({str(CLI)!r}, run_name='__main__')"
    )
    check = (
        "import atexit, sys; atexit.register(lambda: print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('click', 'attrs', 'attr', 'domain', 'dependency_injector')), "
        "file=sys.stderr)); "
    )

    done = _run([sys.executable, "-c", check + probe], 100)

    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"
