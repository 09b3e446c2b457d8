"""scripts/screenshots renders every documented state, and no key reaches a picture."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.cli_runner import child_env

pytestmark = pytest.mark.qt

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots"
STATES = ("trace-active", "byok-keychain", "env-override", "error")
DEMO_KEYS = (
    "sk-ant-api03-DEMO-not-a-real-key-Zx9Q",
    "sk-ant-api03-DEMO-from-the-environment-7fQa",
    "sk-proj-DEMO pasted-with-a-space",
)


def test_the_screenshot_script_draws_each_state_without_any_key(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)],
        capture_output=True,
        text=True,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"ai-provider-{state}.png" for state in STATES
    )
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, path
        assert not [key for key in DEMO_KEYS if key.encode() in data], path
    assert not [key for key in DEMO_KEYS if key in done.stdout + done.stderr]
    committed = SCRIPT.parent.parent / "docs" / "images"
    assert all((committed / f"ai-provider-{state}.png").exists() for state in STATES)
