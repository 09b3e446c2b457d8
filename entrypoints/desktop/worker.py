"""Store calls off the UI thread, so a slow keychain never freezes the panel.

One job runs at a time (the container's singletons are built lazily and are not
meant to be built from two threads at once); the panel shows a busy state and
refuses new actions until the job reports back. The job's outcome travels back as
a signal of the Worker, which lives on the UI thread: Qt queues it, so the
callbacks always run on the UI thread. No QObject is created or deleted per job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

T = TypeVar("T")


class Worker(QObject):
    """Runs one job at a time on a private thread; calls back on the UI thread."""

    busy_changed = Signal(bool)
    _finished = Signal(bool, object)  # (succeeded, value or exception), from the pool thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._busy = False
        self._on_done: Callable[[object], None] = _ignore
        self._on_failed: Callable[[BaseException], None] = _ignore
        self._finished.connect(self._report)

    @property
    def busy(self) -> bool:
        """True from ``start`` until the job's callback has run."""
        return self._busy

    def start(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], None],
        on_failed: Callable[[BaseException], None],
    ) -> None:
        """Run ``work`` on the pool thread; then ``on_done(value)`` or ``on_failed(error)``."""
        if self._busy:
            raise RuntimeError("a job is already running")
        self._busy = True
        self._on_done = cast("Callable[[object], None]", on_done)
        self._on_failed = on_failed
        self.busy_changed.emit(True)
        self._pool.start(lambda: self._execute(work))

    def wait(self, msecs: int = -1) -> bool:
        """Block until the running job returned (before closing); False on timeout."""
        return self._pool.waitForDone(msecs)

    def _execute(self, work: Callable[[], object]) -> None:
        """On the pool thread: run, and report whatever happened (nothing escapes into Qt)."""
        try:
            value = work()
        except Exception as error:
            self._finished.emit(False, error)
        else:
            self._finished.emit(True, value)

    @Slot(bool, object)
    def _report(self, succeeded: bool, value: object) -> None:
        on_done, on_failed = self._on_done, self._on_failed
        self._on_done = self._on_failed = _ignore
        self._busy = False
        self.busy_changed.emit(False)
        if succeeded:
            on_done(value)
        else:
            on_failed(value if isinstance(value, BaseException) else RuntimeError(repr(value)))


def _ignore(_value: object) -> None:
    """The callback when no job runs."""
