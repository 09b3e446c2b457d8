"""Settings → AI Provider: the BYOK panel, a driving adapter over the same use-cases as the CLI.

The panel renders ``ShowStatus``'s report and calls ``SetKey`` (a key, or a helper
command that prints it), ``VerifyKey``, ``UseProvider``, ``SelectModel`` and
``RemoveKey`` from the container it is given, on a worker thread. Every rule
(validation, resolution, what is allowed) stays in the use-cases; their errors are
shown in a banner. A typed key is cleared from the
field as soon as Save is clicked and is never put into any widget's text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from application.show_status import ProviderStatus, StatusReport
from domain.errors import TraceError
from domain.keys import HelperCommand
from domain.model_id import ModelSource, parse_model_id
from domain.provider import Provider
from domain.secret import Secret
from domain.value import Value
from entrypoints.desktop import text
from entrypoints.desktop.worker import Worker
from entrypoints.runtime import Runtime

ERROR_STYLE = (
    "QFrame#errorBanner { background: #fdecea; border: 1px solid #e0a39c; border-radius: 4px; }"
)
NOTICE_STYLE = "color: #1d4f91;"


@attrs.frozen(eq=False, repr=False)
class Outcome(Value):
    """What one job produced: a sentence about the action, the fresh status, store notices."""

    message: str | None
    report: StatusReport
    notices: tuple[str, ...]


def _label(name: str, *, wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.PlainText)  # nothing a store returns is read as HTML
    return label


class AiProviderPanel(QWidget):
    """Choose the provider that answers AI requests, and manage its key."""

    idle = Signal()  # emitted after each job's result (or error) is shown

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aiProviderPanel")
        self._runtime = runtime
        self._report: StatusReport | None = None
        self._selected = Provider.TRACE
        self._removing = Provider.TRACE
        self._worker = Worker(self)
        self._worker.busy_changed.connect(self._set_busy)
        self._build()
        self._refresh()

    # --- public, for the app (and tests) ---------------------------------------

    @property
    def busy(self) -> bool:
        """True while a store call runs."""
        return self._worker.busy

    @property
    def report(self) -> StatusReport | None:
        """The status last shown (None until the first load succeeded)."""
        return self._report

    def select(self, provider: Provider) -> None:
        """Select ``provider`` in the list, as a click would."""
        for index in range(self._list.count()):
            if self._list.item(index).data(Qt.ItemDataRole.UserRole) == provider.value:
                self._list.setCurrentRow(index)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the running store call is over (before closing the app)."""
        return self._worker.wait(msecs)

    def closeEvent(self, event: QCloseEvent) -> None:
        """A store write in flight finishes (bounded by the keychain timeout) before closing."""
        self._worker.wait()
        super().closeEvent(event)

    # --- layout -------------------------------------------------------------------

    def _build(self) -> None:
        title = _label("title", wrap=False)
        title.setText(text.TITLE)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        intro = _label("intro")
        intro.setText(text.INTRO)
        self._pays = _label("whoPays")
        self._pays.setStyleSheet("font-weight: bold;")
        self._project = _label("project")
        self._project.hide()

        self._error = QFrame()
        self._error.setObjectName("errorBanner")
        self._error.setStyleSheet(ERROR_STYLE)
        self._error_problem = _label("errorProblem")
        self._error_fix = _label("errorFix")
        self._error_fix.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        banner = QVBoxLayout(self._error)
        banner.addWidget(self._error_problem)
        banner.addWidget(self._error_fix)
        self._error.hide()
        self._notice = _label("notice")
        self._notice.setStyleSheet(NOTICE_STYLE)
        self._notice.hide()

        self._progress = QProgressBar()
        self._progress.setObjectName("busyIndicator")
        self._progress.setRange(0, 0)  # indeterminate
        self._progress.setFormat(text.WORKING)
        self._progress.setTextVisible(True)
        self._progress.hide()

        self._list = QListWidget()
        self._list.setObjectName("providers")
        self._list.setAccessibleName("Providers")
        self._list.setMaximumHeight(120)
        self._list.currentRowChanged.connect(self._on_select)

        self._body = QWidget()
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self._list)
        body.addWidget(self._build_details())

        self._store = _label("secretStore")
        self._reload = self._button("reload", "Reload", self._refresh)
        footer = QHBoxLayout()
        footer.addWidget(self._store, 1)
        footer.addWidget(self._reload)

        layout = QVBoxLayout(self)
        shown = (title, intro, self._pays, self._project, self._error, self._notice)
        for widget in (*shown, self._progress):
            layout.addWidget(widget)
        layout.addWidget(self._body)
        layout.addStretch(1)
        layout.addLayout(footer)

    def _build_details(self) -> QGroupBox:
        self._details = QGroupBox()
        self._details.setObjectName("details")
        self._key = QLineEdit()
        self._key.setObjectName("keyField")
        self._key.setEchoMode(QLineEdit.EchoMode.Password)
        self._key.textChanged.connect(self._update_save)
        self._key.returnPressed.connect(self._save)
        self._save_button = self._button("save", "Save", self._save)
        key_row = QHBoxLayout()
        key_row.addWidget(self._key, 1)
        key_row.addWidget(self._save_button)
        self._env_reason = _label("envReason")
        self._env_reason.hide()

        self._helper = QLineEdit()
        self._helper.setObjectName("helperField")
        self._helper.setAccessibleName("Key helper command")
        self._helper.textChanged.connect(self._update_save)
        self._helper.returnPressed.connect(self._save_helper)
        self._helper_button = self._button("saveHelper", "Use helper", self._save_helper)
        helper_row = QHBoxLayout()
        helper_row.addWidget(self._helper, 1)
        helper_row.addWidget(self._helper_button)

        self._model = QLineEdit()
        self._model.setObjectName("modelField")
        self._model.returnPressed.connect(self._set_model)
        self._model_button = self._button("setModel", "Set model", self._set_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self._model, 1)
        model_row.addWidget(self._model_button)

        self._use_button = self._button("use", "Use", self._use)
        self._verify_button = self._button("verify", "Verify", self._verify)
        self._remove_button = self._button("remove", "Remove key…", self._ask_remove)
        actions = QHBoxLayout()
        actions.addWidget(self._use_button)
        actions.addWidget(self._verify_button)
        actions.addWidget(self._remove_button)
        actions.addStretch(1)

        form = QFormLayout(self._details)
        form.addRow("API key", key_row)
        form.addRow("", self._env_reason)
        form.addRow("Or a helper", helper_row)
        form.addRow("Model", model_row)
        form.addRow(actions)
        return self._details

    def _button(self, name: str, label: str, clicked: Callable[[], None]) -> QPushButton:
        # Connect bound methods only: a lambda holding ``self`` would keep the panel alive
        # from inside its own child and make Qt delete it while deleting that child.
        button = QPushButton(label)
        button.setObjectName(name)
        button.clicked.connect(clicked)
        return button

    # --- rendering ----------------------------------------------------------------

    def _render(self, report: StatusReport) -> None:
        first = self._report is None
        self._report = report
        if first:
            self._selected = report.active_provider
        self._pays.setText(text.who_pays(report))
        project = text.project_line(report)
        self._project.setText(project or "")
        self._project.setVisible(project is not None)
        self._store.setText(text.store_line(report.secret_store))
        self._list.blockSignals(True)
        self._list.clear()
        for row in sorted(report.providers, key=lambda r: r.provider.is_byok):
            item = QListWidgetItem(text.provider_line(row))
            item.setData(Qt.ItemDataRole.UserRole, row.provider.value)
            if row.active:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self._list.addItem(item)
        self._list.blockSignals(False)
        self.select(self._selected)
        self._show_details()

    def _row(self) -> ProviderStatus | None:
        if self._report is None:
            return None
        return next(r for r in self._report.providers if r.provider is self._selected)

    def _show_details(self) -> None:
        row = self._row()
        self._details.setEnabled(row is not None)
        if row is None:
            return
        spec = row.provider.spec
        byok = row.provider.is_byok
        reason = text.env_override_reason(row)
        self._details.setTitle(spec.label)
        self._key.clear()
        self._key.setEnabled(byok and reason is None)
        self._key.setAccessibleName(f"{spec.label} API key")
        self._key.setPlaceholderText(text.key_placeholder(row))
        self._env_reason.setText(reason or "")
        self._env_reason.setVisible(reason is not None)
        self._key.setToolTip(reason or "")
        self._model.setEnabled(byok)
        remembered = row.model_source is ModelSource.CONFIG
        self._model.setText((row.model or "") if remembered else "")
        self._model.setPlaceholderText(text.model_placeholder(row))
        self._model.setAccessibleName(f"{spec.label} model")
        self._model_button.setEnabled(byok)
        self._helper.clear()
        self._helper.setEnabled(byok and reason is None)
        self._helper.setPlaceholderText(text.helper_placeholder(row) if byok else "")
        self._verify_button.setEnabled(byok and row.key.present)
        self._use_button.setText(text.use_label(row))
        self._use_button.setEnabled(not row.active)
        self._remove_button.setEnabled(byok and text.has_stored_key(row))
        self._update_save()

    def _update_save(self) -> None:
        self._save_button.setEnabled(self._key.isEnabled() and bool(self._key.text()))
        self._helper_button.setEnabled(
            self._helper.isEnabled() and bool(self._helper.text().strip())
        )

    def _set_busy(self, busy: bool) -> None:
        self._body.setEnabled(not busy)
        self._reload.setEnabled(not busy)
        self._progress.setVisible(busy)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()

    def _show_outcome(self, outcome: Outcome) -> None:
        self._render(outcome.report)
        self._show_notice([outcome.message or "", *outcome.notices])
        self.idle.emit()

    def _show_error(self, error: BaseException) -> None:
        if not isinstance(error, TraceError):  # a bug: details for whoever debugs it
            logging.getLogger("buildwithtrace").debug("settings panel: %r", error, exc_info=error)
        problem, fix = text.error_text(error)
        self._error_problem.setText(problem)
        self._error_fix.setText(f"Fix: {fix}" if fix else "")
        self._error.show()
        self._show_notice(self._runtime.notices())
        self._show_details()
        self.idle.emit()

    def _show_notice(self, lines: list[str]) -> None:
        shown = "\n".join(line for line in lines if line)
        self._notice.setText(shown)
        self._notice.setVisible(bool(shown))

    # --- actions --------------------------------------------------------------------

    def _run(self, action: Callable[[Any], str | None]) -> None:
        """Run ``action(use_cases)`` then ShowStatus on the worker thread."""
        if self._worker.busy:
            return
        self._error.hide()
        runtime = self._runtime

        where = str(Path.cwd())  # a project file here shows (the CLI's `byok status` too)

        def work() -> Outcome:
            message = action(runtime.use_cases)
            report: StatusReport = runtime.use_cases.show_status().execute(project_dir=where)
            return Outcome(message, report, tuple(runtime.notices()))

        self._worker.start(work, self._show_outcome, self._show_error)

    def _on_select(self, index: int) -> None:
        if index >= 0:
            self._selected = Provider(self._list.item(index).data(Qt.ItemDataRole.UserRole))
            self._show_details()

    def _save(self) -> None:
        if not self._save_button.isEnabled():
            return
        provider, raw = self._selected, self._key.text()
        self._key.clear()  # the key leaves the widget before anything else happens
        # Parsed on the worker, like the call: an invalid key shows in the banner.
        self._run(
            lambda uc: text.saved(uc.set_key().execute(provider, Secret.parse(raw, provider.value)))
        )

    def _save_helper(self) -> None:
        if not self._helper_button.isEnabled():
            return
        provider, raw = self._selected, self._helper.text()
        self._helper.clear()
        # Parsed on the worker, like the call: a refused command shows in the banner.
        self._run(lambda uc: text.saved(uc.set_key().execute(provider, HelperCommand.parse(raw))))

    def _verify(self) -> None:
        provider = self._selected
        self._run(lambda uc: text.verified(uc.verify_key().execute(provider)))

    def _use(self) -> None:
        provider = self._selected
        self._run(lambda uc: text.used(uc.use_provider().execute(provider)))

    def _set_model(self) -> None:
        if not self._model_button.isEnabled():
            return
        provider, raw = self._selected, self._model.text().strip()

        def select(uc: Any) -> str:
            model = parse_model_id(raw) if raw else None
            return text.model_set(uc.select_model().execute(model, provider))

        self._run(select)

    def _refresh(self) -> None:
        self._run(lambda _uc: None)

    def _ask_remove(self) -> None:
        self._removing = self._selected
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove key",
            text.remove_question(self._removing.spec.label),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("confirmRemove")
        box.setTextFormat(Qt.TextFormat.PlainText)  # like every label here: never read as HTML
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.button(QMessageBox.StandardButton.Yes).setText("Remove")
        box.buttonClicked.connect(self._remove_answered)
        box.open()  # window-modal, without a nested event loop

    def _remove_answered(self, button: QAbstractButton) -> None:
        box = button.window()
        if not isinstance(box, QMessageBox):
            return
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            provider = self._removing
            self._run(lambda uc: text.removed(uc.remove_key().execute(provider)))
