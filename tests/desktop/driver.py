"""Driving the AI Provider panel like a person: click a provider, type, press buttons.

Input goes through ``QTest`` (real mouse and key events, typed); waiting through
pytest-qt's ``qtbot``.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from domain.provider import Provider
from entrypoints.desktop.panel import AiProviderPanel

W = TypeVar("W", bound=QObject)
WAIT_MS = 15_000


class PanelDriver:
    """A person in front of the panel (every step waits for the store call it starts)."""

    def __init__(self, qtbot: QtBot, panel: AiProviderPanel) -> None:
        self.qtbot = qtbot
        self.panel = panel

    def find(self, kind: type[W], name: str) -> W:
        """The panel's child ``name`` (by object name)."""
        found = self.panel.findChild(kind, name)
        assert found is not None, f"no {kind.__name__} named {name!r}"
        return found

    def wait_idle(self) -> None:
        """Until no store call runs and its result is on screen."""
        self.qtbot.waitUntil(lambda: not self.panel.busy, timeout=WAIT_MS)

    def choose(self, provider: Provider) -> None:
        """Click the provider's entry in the list."""
        providers = self.find(QListWidget, "providers")
        for index in range(providers.count()):
            item = providers.item(index)
            if item.data(Qt.ItemDataRole.UserRole) == provider.value:
                rect = providers.visualItemRect(item)
                QTest.mouseClick(providers.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
                assert providers.currentItem() is item
                return
        raise AssertionError(f"{provider.value} is not in the list")

    def type_key(self, key: str) -> None:
        """Type into the password field."""
        field = self.key_field
        assert field.isEnabled(), "the key field is read-only"
        QTest.keyClicks(field, key)

    def type_model(self, model: str) -> None:
        """Replace the model field's text."""
        field = self.find(QLineEdit, "modelField")
        field.selectAll()
        QTest.keyClick(field, Qt.Key.Key_Delete)
        if model:
            QTest.keyClicks(field, model)

    def click(self, name: str) -> None:
        """Click an enabled button and wait for the store call it starts."""
        button = self.find(QAbstractButton, name)
        assert button.isEnabled(), f"{name} is disabled"
        with self.qtbot.waitSignal(self.panel.idle, timeout=WAIT_MS):
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    def remove(self, *, confirm: bool = True) -> None:
        """Click Remove, then answer the confirmation."""
        QTest.mouseClick(self.find(QAbstractButton, "remove"), Qt.MouseButton.LeftButton)
        box = self.find(QMessageBox, "confirmRemove")
        self.qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
        answer = QMessageBox.StandardButton.Yes if confirm else QMessageBox.StandardButton.Cancel
        if not confirm:
            QTest.mouseClick(box.button(answer), Qt.MouseButton.LeftButton)
            return
        with self.qtbot.waitSignal(self.panel.idle, timeout=WAIT_MS):
            QTest.mouseClick(box.button(answer), Qt.MouseButton.LeftButton)

    @property
    def key_field(self) -> QLineEdit:
        """The password field."""
        return self.find(QLineEdit, "keyField")

    def text(self, name: str) -> str:
        """A label's text."""
        return self.find(QLabel, name).text()

    def shows(self, name: str) -> bool:
        """Whether the child ``name`` is visible to the person."""
        return self.find(QWidget, name).isVisible()

    def list_line(self, provider: Provider) -> str:
        """The provider's entry in the list."""
        providers = self.find(QListWidget, "providers")
        for index in range(providers.count()):
            item = providers.item(index)
            if item.data(Qt.ItemDataRole.UserRole) == provider.value:
                return item.text()
        raise AssertionError(f"{provider.value} is not in the list")

    def enabled(self, name: str) -> bool:
        """Whether the child ``name`` accepts input."""
        return self.find(QWidget, name).isEnabled()
