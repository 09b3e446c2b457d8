"""`buildwithtrace settings`: opens the panel on the CLI's container, or says what is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from entrypoints.cli.app import run as run_cli
from entrypoints.desktop import text
from entrypoints.desktop.command import INSTALL_COMMAND
from entrypoints.desktop.panel import AiProviderPanel
from tests.desktop.views import new_key
from tests.e2e.cli_runner import child_env, run

pytestmark = pytest.mark.qt


def test_settings_opens_the_ai_provider_window_on_the_clis_stores(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    key = new_key("AIza")
    assert run(["byok", "set", "gemini", "--key-stdin"], input=key).code == 0
    seen: list[str] = []

    def look_then_close() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, AiProviderPanel)]
        if not windows or any(w.busy or w.report is None for w in windows):
            QTimer.singleShot(50, look_then_close)
            return
        (window,) = windows
        assert window.report is not None
        seen.extend([window.windowTitle(), window.report.active_provider.value])
        window.close()  # the last window closed: the command returns

    QTimer.singleShot(0, look_then_close)
    with pytest.raises(SystemExit) as done:
        run_cli(["settings"])

    assert done.value.code == 0
    assert seen == [text.WINDOW_TITLE, "gemini"]


def test_settings_without_pyside6_names_the_extra_to_install() -> None:
    blocked = (
        "import sys; sys.modules['PySide6'] = None; "
        "sys.argv = ['buildwithtrace', 'settings']; "
        "from entrypoints.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocked],
        capture_output=True,
        text=True,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result
    # The exact command: this environment's interpreter, so pip installs where we run.
    assert f"{sys.executable} -m {INSTALL_COMMAND}" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_without_a_display_says_so_instead_of_crashing() -> None:
    result = run(
        ["settings"], env_extra={"QT_QPA_PLATFORM": None, "DISPLAY": None, "WAYLAND_DISPLAY": None}
    )
    assert result.code == 2, result
    assert "no display" in result.stderr and "buildwithtrace byok" in result.stderr
    assert "settings" in run(["--help"]).stdout
