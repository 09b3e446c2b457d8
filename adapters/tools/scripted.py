"""``ScriptedToolRunner``: a ToolRunner that answers from a script and records every call.

First-class, like the scripted backend: for tests of the Chat use-case, SDK users who
drive a chat without touching their disk, and the ToolRunner contract suite (which runs
against this runner and the local one alike). It keeps the port's promises: a call never
raises; an unknown tool or arguments that are not an object are an error result; after
``cancel()`` every call, including one waiting in a ``blocking`` tool, ends at once with
an error result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

from application.ports import ToolRunner
from domain.chat import ToolCall, ToolResult

Answer = str | Callable[[Mapping[str, object]], str]


class ScriptedToolError(Exception):
    """Raise it from a scripted answer to make that call an error result with this text."""


class ScriptedToolRunner(ToolRunner):
    """Answers per tool name (a text, or a function of the arguments); records the calls."""

    def __init__(
        self, answers: Mapping[str, Answer] | None = None, *, blocking: Iterable[str] = ()
    ) -> None:
        """``blocking``: tools that run until the turn is cancelled (a long grep, an EDA run)."""
        self._answers = dict(answers or {})
        self._blocking = frozenset(blocking)
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._calls: list[ToolCall] = []

    @property
    def calls(self) -> list[ToolCall]:
        """Every call received so far, in order."""
        with self._lock:
            return list(self._calls)

    def run(self, call: ToolCall) -> ToolResult:
        """The scripted answer, or an error result; never raises."""
        with self._lock:
            self._calls.append(call)
        name = call.tool_name
        if self._cancelled.is_set():
            return ToolResult(call.tool_call_id, f"{name} was cancelled", is_error=True)
        if name in self._blocking:
            self._cancelled.wait()
            return ToolResult(call.tool_call_id, f"{name} was cancelled", is_error=True)
        answer = self._answers.get(name)
        if answer is None:
            known = ", ".join(sorted(self._answers)) or "none"
            return ToolResult(
                call.tool_call_id, f"unknown tool {name!r}; available tools: {known}", True
            )
        raw: object = call.tool_args
        if not isinstance(raw, Mapping):
            return ToolResult(
                call.tool_call_id, f"{name}: the arguments must be a JSON object", True
            )
        if isinstance(answer, str):
            return ToolResult(call.tool_call_id, answer)
        try:
            return ToolResult(call.tool_call_id, answer(raw))
        except ScriptedToolError as error:
            return ToolResult(call.tool_call_id, str(error), is_error=True)

    def cancel(self) -> None:
        """Every running and later call ends at once with an error result."""
        self._cancelled.set()
