"""`buildwithtrace settings`: open the AI Provider settings window.

PySide6 is imported only here, inside the command, so the CLI runs without the
``desktop`` extra and this command says how to install it.
"""

from __future__ import annotations

import os
import sys

import click

from entrypoints.cli.app import state
from entrypoints.errors import USAGE

# The one wording of the install step (README and docs repeat it; a test compares).
INSTALL_COMMAND = "pip install 'buildwithtrace[desktop]'"


class DesktopUnavailable(click.ClickException):
    """The window cannot open here; exit 2 with the fix."""

    exit_code = USAGE


def _check_display() -> None:
    # Without a display Qt aborts the whole process; say what to do instead.
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DesktopUnavailable(
            "no display to open a window on; run `buildwithtrace settings` in a desktop "
            "session, or manage keys in this terminal: `buildwithtrace byok --help`"
        )


@click.command("settings")
def settings() -> None:
    """Open the AI Provider settings window (the same keys and choices as `byok`)."""
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError:
        import shlex

        # This interpreter's pip: the extra must land in the environment we run from.
        raise DesktopUnavailable(
            "PySide6 is not installed; install the desktop extra into this environment: "
            f"{shlex.quote(sys.executable)} -m {INSTALL_COMMAND}"
        ) from None
    _check_display()
    from entrypoints.desktop import text
    from entrypoints.desktop.gui_gc import GuiThreadCollector
    from entrypoints.desktop.panel import AiProviderPanel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    collector = GuiThreadCollector()
    panel = AiProviderPanel(state().runtime)
    panel.setWindowTitle(text.WINDOW_TITLE)
    panel.resize(640, 520)
    panel.show()
    app.exec()
    panel.wait()  # a store write in flight finishes before the process exits
    collector.stop()
