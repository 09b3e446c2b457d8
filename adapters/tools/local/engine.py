"""``ToolEngine``: the tools of this package behind ``LocalToolRunner`` (which loads it lazily)."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from pathlib import Path

from adapters.tools.local.arguments import Arguments, ToolError, show
from adapters.tools.local.atomic import PathLocks
from adapters.tools.local.context import ToolContext
from adapters.tools.local.eda_tools import cancel_running, get_drc_violations, get_erc_violations
from adapters.tools.local.edit_tools import delete_trace_file, search_replace, write
from adapters.tools.local.file_tools import list_dir, read_file
from adapters.tools.local.grep_tool import grep
from adapters.tools.local.output import cap
from adapters.tools.local.sandbox import Sandbox
from application.ports import ToolRunner
from domain.chat import ToolCall, ToolResult

NOTES_ALLOWANCE = 1024

Tool = Callable[[ToolContext, Arguments], str]

TOOLS: Mapping[str, Tool] = {
    "read_file": read_file,
    "write": write,
    "search_replace": search_replace,
    "list_dir": list_dir,
    "grep": grep,
    "delete_trace_file": delete_trace_file,
    "get_erc_violations": get_erc_violations,
    "get_drc_violations": get_drc_violations,
}


class ToolEngine(ToolRunner):
    """Runs the model's file and EDA tools on this machine, confined to one project directory.

    ``environment``: the variables the EDA engine may inherit from, through the
    allow-list of :mod:`adapters.tools.local.child_env` (default: none).
    ``grep_seconds``: the most one ``grep`` call searches before it returns what it has.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_result_chars: int = 100_000,
        max_read_bytes: int = 20 * 1024 * 1024,
        kicad_cli: str | None = None,
        eda_timeout: float = 300.0,
        grep_seconds: float = 5.0,
        environment: Mapping[str, str] = types.MappingProxyType({}),
    ) -> None:
        if max_result_chars < 1 or max_read_bytes < 1 or eda_timeout <= 0 or grep_seconds <= 0:
            raise ValueError("limits must be positive")
        self._context = ToolContext(
            sandbox=Sandbox(root),
            locks=PathLocks(),
            max_result_chars=max_result_chars,
            max_read_bytes=max_read_bytes,
            kicad_cli=kicad_cli,
            eda_timeout=eda_timeout,
            grep_seconds=grep_seconds,
            environment=environment,
        )

    @property
    def root(self) -> Path:
        """The sandbox root, resolved (symlinks followed)."""
        return self._context.sandbox.root

    def cancel(self) -> None:
        """Stop every running call soon and refuse later ones; edits in progress still complete.

        Long-running tools poll the flag (``grep`` between chunks and every few hundred
        lines, ``list_dir`` and ``read_file`` every few thousand entries or lines) and
        end with ``<tool> was cancelled``; EDA processes are killed at once. A write or
        search_replace already running completes atomically, so no partial file is left.
        """
        self._context.cancellation.set()
        cancel_running(self._context)

    def run(self, call: ToolCall) -> ToolResult:
        """Run one call; every failure is an error result for the model, never an exception."""
        text, failed = self._dispatch(call)
        # Tools cap their own content and then add short notes; this is only the backstop.
        limit = self._context.max_result_chars + NOTES_ALLOWANCE
        return ToolResult(call.tool_call_id, cap(text, limit), failed)

    def _dispatch(self, call: ToolCall) -> tuple[str, bool]:
        """The tool's text and whether it failed."""
        name = call.tool_name
        tool = TOOLS.get(name)
        if tool is None:
            return f"unknown tool {show(str(name))}; available tools: {', '.join(TOOLS)}", True
        # Typed as a mapping, but it is whatever JSON the backend sent.
        raw: object = call.tool_args
        if not isinstance(raw, Mapping):
            return f"{name}: the arguments must be a JSON object", True
        try:
            self._context.cancellation.check(name)
            return tool(self._context, Arguments(name, raw)), False
        except ToolError as error:
            return error.message, True
        except OSError as error:
            return f"{name} failed: {self._describe(error)}", True
        except Exception as error:  # the port promises an error result, never a raise
            return f"{name} failed unexpectedly: {type(error).__name__}: {error}", True

    def _describe(self, error: OSError) -> str:
        """An OS error in words, with its file shown relative to the root when inside it."""
        reason = error.strerror or str(error)
        if not isinstance(error.filename, str):
            return reason
        path = Path(error.filename)
        sandbox = self._context.sandbox
        shown = sandbox.display(path) if sandbox.contains(path) else path.name
        return f"{reason}: {shown!r}"
