"""``ScriptedKeyHelper``: an in-memory key helper for tests, SDK users and demos.

Answers per command text: a string (what the helper prints), a function of the run
(e.g. a counter that prints a new key each time), or a ``KeyHelperError`` to raise.
Records every run as (command, key label, reason).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from application.ports import KeyHelper
from domain.errors import KeyHelperError
from domain.keys import HelperCommand, HelperReason, KeyRef

Answer = str | KeyHelperError | Callable[[KeyRef, HelperReason], str]


class ScriptedKeyHelper(KeyHelper):
    """Plays scripted answers by command; an unknown command fails like a missing program."""

    def __init__(self, answers: Mapping[str, Answer] | None = None) -> None:
        self._answers = dict(answers or {})
        self._runs: list[tuple[str, str, HelperReason]] = []
        self._lock = threading.Lock()

    def answer(self, command: str, answer: Answer) -> None:
        """Set (or replace) what ``command`` prints."""
        with self._lock:
            self._answers[command] = answer

    @property
    def runs(self) -> list[tuple[str, str, HelperReason]]:
        """Every run: (command, key label, reason), in order."""
        with self._lock:
            return list(self._runs)

    def run(self, helper: HelperCommand, ref: KeyRef, reason: HelperReason) -> str:
        """The scripted answer for ``helper.command``."""
        with self._lock:
            self._runs.append((helper.command, ref.label, reason))
            answer = self._answers.get(helper.command)
        if answer is None:
            raise KeyHelperError(
                ref.label,
                f"the key helper program {helper.program!r} was not found",
                f"install it, or fix the command: {ref.set_command} --helper '...'",
            )
        if isinstance(answer, KeyHelperError):
            raise answer
        if callable(answer):
            return answer(ref, reason)
        return answer
