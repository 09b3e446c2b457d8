"""Each hot command imports only what it needs (start-up time is mostly imports).

The console script runs in a subprocess under a probe that lists, at exit, which of
the heavy libraries were imported. Figures live in docs/performance.md; this only
keeps a library from creeping back onto a path that does not need it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.cli_runner import CLI

HEAVY = (
    "keyring",
    "secretstorage",
    "cryptography",
    "httpx",
    "cattrs",
    "tomlkit",
    "filelock",
    "platformdirs",
    "dependency_injector",
    "click",
    "attrs",
)
# Our own modules that only some commands need (each builds classes or loads libraries).
OURS = ("domain.chat", "application.chat_turn", "queue", "shutil")
KEY = "sk-ant-lazy-imports-0123456789abcdef"


def _imported(*args: str, stdin: str = "") -> set[str]:
    probe = (
        "import atexit, json, runpy, sys\n"
        f"heavy = {HEAVY!r}\n"
        f"ours = {OURS!r}\n"
        "atexit.register(lambda: print('IMPORTED', json.dumps(sorted(({m.split('.')[0] for m"
        " in sys.modules} & set(heavy)) | (set(sys.modules) & set(ours)))), file=sys.stderr))\n"
        f"sys.argv = ['buildwithtrace', *{list(args)!r}]\n"
        f"runpy.run_path({str(CLI)!r}, run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=dict(os.environ),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("IMPORTED"))
    return set(json.loads(line.removeprefix("IMPORTED ")))


@pytest.fixture
def file_store_with_key() -> None:
    """credentials.store = file, and an Anthropic key in it."""
    _imported("config", "set", "credentials.store", "file")
    _imported("byok", "set", "anthropic", "--key-stdin", stdin=KEY)


@pytest.mark.usefixtures("file_store_with_key")
def test_status_on_the_file_store_reads_without_keyring_network_or_writers() -> None:
    loaded = _imported("byok", "status")

    assert not loaded & {"keyring", "secretstorage", "httpx", "cattrs", "tomlkit", "filelock"}
    assert "platformdirs" not in loaded  # TRACE_CONFIG_DIR is set by the isolation fixture
    assert not loaded & set(OURS)  # no chat events, no tool machinery


@pytest.mark.usefixtures("file_store_with_key")
def test_status_json_adds_only_the_converter() -> None:
    loaded = _imported("byok", "status", "--json")

    assert "cattrs" in loaded
    assert not loaded & {"keyring", "secretstorage", "httpx", "tomlkit", "filelock"}


@pytest.mark.usefixtures("file_store_with_key")
@pytest.mark.parametrize(
    "args",
    [("byok", "use", "anthropic"), ("byok", "model", "claude-x", "--provider", "anthropic")],
    ids=["use", "model"],
)
def test_writes_to_a_config_the_cli_wrote_need_no_editor(args: tuple[str, ...]) -> None:
    loaded = _imported(*args)

    # config.toml holds nothing tomlkit would keep: adapters/settings/plain_toml.py edits it.
    assert "tomlkit" not in loaded
    # The lock is flock(2) where the OS has it: filelock (20-odd modules) only elsewhere.
    assert "filelock" not in loaded or not hasattr(os, "fork")
    assert not loaded & {"keyring", "secretstorage", "httpx"}
    assert not loaded & set(OURS)


@pytest.mark.usefixtures("file_store_with_key")
def test_a_config_with_a_comment_is_edited_by_tomlkit(config_dir: Path) -> None:
    config = config_dir / "config.toml"
    config.write_text("# mine\n" + config.read_text(encoding="utf-8"), encoding="utf-8")

    loaded = _imported("byok", "use", "trace")

    assert "tomlkit" in loaded
    assert config.read_text(encoding="utf-8").startswith("# mine\n")


def test_help_loads_nothing_heavy() -> None:
    assert _imported("--help") == set()
