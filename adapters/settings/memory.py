"""The in-memory settings store: first-class, for tests, SDK users and the desktop app."""

from __future__ import annotations

import threading
from collections.abc import Callable

from application.ports import SettingsStore
from domain.settings import Settings


class InMemorySettingsStore(SettingsStore):
    """Settings held in memory; thread-safe read-modify-write."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or Settings()
        self._lock = threading.Lock()

    def load(self) -> Settings:
        """The current settings."""
        with self._lock:
            return self._settings

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Apply ``change`` under a lock."""
        with self._lock:
            self._settings = change(self._settings)
            return self._settings

    def location(self) -> str:
        """There is no file."""
        return "(in memory)"
