"""Fixtures of the desktop tier: Qt on the offscreen platform, panels on real runtimes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from entrypoints.desktop.gui_gc import GuiThreadCollector
from entrypoints.desktop.panel import AiProviderPanel
from entrypoints.runtime import Runtime
from tests.desktop.driver import PanelDriver

OpenPanel = Callable[..., PanelDriver]


@pytest.fixture(scope="session", autouse=True)
def offscreen_qt() -> Iterator[None]:
    """No window ever reaches a screen: Qt renders offscreen (set before the QApplication)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QT_QPA_PLATFORM", "offscreen")
        yield


@pytest.fixture
def open_panel(qtbot: QtBot) -> Iterator[OpenPanel]:
    """Open the panel on a runtime (default: ``Runtime()`` as the CLI builds it).

    Returns a driver once the first status is shown (``wait=False``: right away).
    Cycles are collected on the GUI thread only, as `buildwithtrace settings` does: a
    collection started by a worker thread that frees a Qt object there crashes Qt.
    """
    opened: list[AiProviderPanel] = []
    collector = GuiThreadCollector()

    def open_(runtime: Runtime | None = None, *, wait: bool = True) -> PanelDriver:
        panel = AiProviderPanel(runtime or Runtime())
        opened.append(panel)
        qtbot.addWidget(panel)
        panel.resize(640, 600)
        panel.show()
        driver = PanelDriver(qtbot, panel)
        if wait:
            driver.wait_idle()
        return driver

    yield open_
    for panel in opened:  # a store call still running must not outlive the test
        panel.wait(10_000)
    collector.stop()
