"""The canary key typed into the panel shows up nowhere but the secret store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from PySide6.QtCore import QObject
from PySide6.QtGui import QAccessible, QImage
from PySide6.QtWidgets import QListWidget, QWidget

from domain.provider import Provider
from tests.desktop.conftest import OpenPanel
from tests.desktop.views import new_key

pytestmark = pytest.mark.qt


class QtMessage(Protocol):
    """One message Qt logged (pytest-qt's ``Record``)."""

    @property
    def message(self) -> str:
        """Its text."""
        ...


class QtMessages(Protocol):
    """What this test uses of pytest-qt's ``qtlog`` fixture."""

    @property
    def records(self) -> list[QtMessage]:
        """Every message Qt logged during the test."""
        ...


_ACCESSIBLE_TEXTS = (
    QAccessible.Text.Name,
    QAccessible.Text.Description,
    QAccessible.Text.Value,
    QAccessible.Text.Help,
    QAccessible.Text.Accelerator,
)


def texts_of(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for every string a widget tree holds or tells assistive technology."""
    for obj in [root, *root.findChildren(QObject)]:
        name = f"{type(obj).__name__}#{obj.objectName()}"
        meta = obj.metaObject()
        for index in range(meta.propertyCount()):
            prop = meta.property(index)
            value = prop.read(obj)
            if isinstance(value, str):
                yield f"{name}.{_plain(prop.name())}", value
        if isinstance(obj, QWidget):
            accessible = QAccessible.queryAccessibleInterface(obj)
            if accessible is not None and accessible.isValid():
                for kind in _ACCESSIBLE_TEXTS:
                    yield f"{name} accessible {kind.name}", accessible.text(kind)
        if isinstance(obj, QListWidget):
            for row in range(obj.count()):
                item = obj.item(row)
                yield f"{name} item {row}", f"{item.text()} {item.toolTip()} {item.statusTip()}"


def _plain(name: object) -> str:
    # PySide6 returns str at run time where its stubs promise bytes.
    return name.decode() if isinstance(name, bytes) else str(name)


def png_of(widget: QWidget, path: Path) -> tuple[bytes, QImage]:
    """The widget rendered offscreen into a PNG file (as the screenshot script does)."""
    image = widget.grab().toImage()
    assert image.save(str(path))
    return path.read_bytes(), image


def test_the_key_never_shows_in_widgets_accessible_text_logs_or_screenshots(
    open_panel: OpenPanel,
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    qtlog: QtMessages,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    caplog.set_level(logging.DEBUG)
    key = new_key("sk-ant-")
    person = open_panel()
    person.choose(Provider.ANTHROPIC)
    person.type_key(key)
    assert any(key == text for _, text in texts_of(person.panel))  # the walk does see the field

    person.click("save")
    person.key_field.undo()  # not even undo brings it back
    assert key not in person.key_field.text()
    person.choose(Provider.OPENAI)
    person.choose(Provider.ANTHROPIC)

    leaks = [where for where, text in texts_of(person.panel) if key in text]
    assert leaks == []
    png, image = png_of(person.panel, tmp_path / "panel.png")
    assert key.encode() not in png
    assert all(key not in image.text(name) for name in image.textKeys())
    assert key not in caplog.text
    assert all(key not in record.message for record in qtlog.records)
    out, err = capsys.readouterr()
    assert key not in out + err
    assert key in (isolated_env / "credentials.json").read_text(encoding="utf-8")  # stored
