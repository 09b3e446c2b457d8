"""What every tool needs: the sandbox, the write locks, the limits and the cancellation flag."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping

import attrs

from adapters.tools.local.arguments import ToolError
from adapters.tools.local.atomic import PathLocks
from adapters.tools.local.sandbox import Sandbox
from domain.value import Value


class Cancellation:
    """Set once when the chat turn is interrupted; long-running tools poll it and stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Ask every running and later call to stop."""
        self._event.set()

    @property
    def requested(self) -> bool:
        """True once the turn was cancelled."""
        return self._event.is_set()

    def check(self, tool: str) -> None:
        """``ToolError`` once the turn was cancelled: the tool stops where it is."""
        if self._event.is_set():
            raise ToolError(f"{tool} was cancelled: the chat turn was interrupted")


class RunningProcesses:
    """The EDA processes running now, so a cancelled turn can stop them at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self.cancelled = False

    def add(self, process: subprocess.Popen[bytes]) -> bool:
        """Track ``process``; False when the runner was cancelled (the caller stops it)."""
        with self._lock:
            if self.cancelled:
                return False
            self._running.add(process)
            return True

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        """Stop tracking ``process``."""
        with self._lock:
            self._running.discard(process)

    def cancel(self) -> list[subprocess.Popen[bytes]]:
        """Refuse new processes; the running ones, for the caller to kill."""
        with self._lock:
            self.cancelled = True
            running, self._running = list(self._running), set()
        return running


@attrs.frozen(eq=False, repr=False)
class ToolContext(Value):
    """Shared by all calls of one ``LocalToolRunner``."""

    sandbox: Sandbox
    locks: PathLocks
    max_result_chars: int
    max_read_bytes: int
    kicad_cli: str | None
    eda_timeout: float
    grep_seconds: float
    environment: Mapping[str, str]
    processes: RunningProcesses = attrs.field(factory=RunningProcesses)
    cancellation: Cancellation = attrs.field(factory=Cancellation)
