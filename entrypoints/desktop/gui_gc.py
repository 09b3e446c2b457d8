"""Python's cyclic garbage collection, run on the GUI thread only.

A collection can start on whichever thread happens to allocate, including the
panel's store worker or the keychain's timeout thread. If it frees a Qt object
there, Qt crashes the process (seen as a segfault "Garbage-collecting" in a worker
thread). So automatic collection is switched off while the window is open and a
timer on the GUI thread collects instead; reference counting still frees
everything that is not in a cycle at once.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Disables automatic GC and collects on the GUI thread every ``interval_ms``."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._collect)
        self._timer.start(interval_ms)

    def _collect(self) -> None:
        gc.collect()

    def stop(self) -> None:
        """Collect once more on this thread and restore automatic collection."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
