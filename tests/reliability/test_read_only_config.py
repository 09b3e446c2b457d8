"""A config directory the user cannot write: the directory is named as the cause.

The config directory belongs to the user but has lost its write bit (a backup restored
read-only, a `chmod -w`): every command that writes must say that it cannot create
files in that directory (not that a lock file "is not a regular file you own": the
lock file does not exist), with the chmod fix; `doctor` reports it before any write
is tried. Runs as the unprivileged uid 65534, since root writes anywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability import workers

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to act as uid 65534"
    ),
]

NOBODY = 65534
KEY = "sk-ant-api03-read-only-config-0123456789"
WRITES: list[dict[str, object]] = [
    {"args": ["byok", "set", "anthropic", "--key-stdin"], "stdin": KEY},
    {"args": ["config", "set", "output.format", "json"]},
    {"args": ["auth", "login", "--token-stdin"], "stdin": "trace-token-0123456789abcdef"},
]


@pytest.fixture
def read_only_dir() -> Iterator[Path]:
    """A config directory owned by uid 65534, mode 0500, in a directory it can reach."""
    parent = Path(tempfile.mkdtemp(prefix="trace-ro-"))
    parent.chmod(0o755)
    config = parent / "config"
    config.mkdir(mode=0o700)
    os.chown(config, NOBODY, NOBODY)
    config.chmod(0o500)
    try:
        yield config
    finally:
        config.chmod(0o700)
        for entry in config.iterdir():
            entry.unlink()
        config.rmdir()
        parent.rmdir()


def _run_as_nobody(
    config: Path, steps: list[dict[str, object]], tmp_path: Path
) -> list[dict[str, object]]:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(steps), encoding="utf-8")
    env = {
        **os.environ,
        "TRACE_CONFIG_DIR": str(config),
        "TRACE_CREDENTIALS_STORE": "file",
        "TRACE_BASE_URL": "http://127.0.0.1:9",  # login: unreachable, stored unverified
    }
    child = workers.start("as-user", str(NOBODY), str(plan), env=env)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_every_write_names_the_read_only_directory_with_the_fix(
    read_only_dir: Path, tmp_path: Path
) -> None:
    """byok set, config set and auth login: exit 5, the directory and `chmod u+w` named."""
    outcomes = _run_as_nobody(read_only_dir, WRITES, tmp_path)

    for outcome in outcomes:
        stderr = str(outcome["stderr"])
        assert outcome["code"] == 5, outcome
        cause = f"cannot use {read_only_dir}: permission denied, so no file can be created in it"
        assert cause in stderr, outcome
        assert f"chmod u+w {read_only_dir}" in stderr, outcome
        assert ".lock is a regular file" not in stderr
        assert KEY not in stderr
    assert list(read_only_dir.iterdir()) == []


def test_doctor_reports_the_read_only_directory_before_any_write(
    read_only_dir: Path, tmp_path: Path
) -> None:
    """doctor runs every check and fails the secret-store check with the same fix."""
    (outcome,) = _run_as_nobody(read_only_dir, [{"args": ["doctor"]}], tmp_path)

    assert outcome["code"] == 5, outcome
    stdout = str(outcome["stdout"])
    assert "[FAIL] secret store: file:" in stdout
    assert f"chmod u+w {read_only_dir}" in stdout
    assert "trace login" in stdout  # the checks after it still ran
