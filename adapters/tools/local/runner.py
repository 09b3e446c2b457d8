"""``LocalToolRunner``: the model's tool calls, run on this machine inside one project directory.

A thin front for :class:`~adapters.tools.local.engine.ToolEngine`, which holds the tools.
The engine (and what the tools import: subprocess, tempfile, RE2...) loads when the first
runner is made, that is when a chat turn starts: the composition root names this class,
and a command that never runs a tool must not pay for the tools at start-up.
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from application.ports import ToolRunner

if TYPE_CHECKING:
    from domain.chat import ToolCall, ToolResult


class LocalToolRunner(ToolRunner):
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
        from adapters.tools.local.engine import ToolEngine  # see the module docstring

        self._engine = ToolEngine(
            root,
            max_result_chars=max_result_chars,
            max_read_bytes=max_read_bytes,
            kicad_cli=kicad_cli,
            eda_timeout=eda_timeout,
            grep_seconds=grep_seconds,
            environment=environment,
        )

    @classmethod
    def in_project(
        cls,
        project_dir: str | None,
        *,
        kicad_cli: str | None = None,
        find_kicad_cli: bool = False,
        environment: Mapping[str, str] = types.MappingProxyType({}),
    ) -> LocalToolRunner:
        """A runner for ``project_dir`` (default: the working directory).

        ``find_kicad_cli``: when no ``kicad_cli`` path is given, look for ``kicad-cli`` on
        PATH (once per runner: a chat turn, not every command, pays for the search).
        """
        root = Path(project_dir or ".")
        if kicad_cli is None and find_kicad_cli:
            kicad_cli = find_program("kicad-cli", environment.get("PATH"), root)
        return cls(root, kicad_cli=kicad_cli, environment=environment)

    @property
    def root(self) -> Path:
        """The sandbox root, resolved (symlinks followed)."""
        return self._engine.root

    def run(self, call: ToolCall) -> ToolResult:
        """Run one call; every failure is an error result for the model, never an exception."""
        return self._engine.run(call)

    def cancel(self) -> None:
        """Stop every running call soon and refuse later ones; edits in progress still complete."""
        self._engine.cancel()


def find_program(name: str, path: str | None, project: Path) -> str | None:
    """The first executable ``name`` in the absolute directories of ``path``, outside ``project``.

    Not ``shutil.which``: on Windows it looks in the working directory first, and on
    POSIX an empty ``PATH`` entry means the working directory too, which is usually the
    cloned project, so a planted ``kicad-cli(.cmd)`` would run on the model's first
    ERC call. Relative and empty entries, and any inside the project, are skipped.
    """
    project_root = Path(os.path.realpath(project))
    extensions = [""]
    if os.name == "nt":
        pathext = os.environ.get("PATHEXT", ".COM;.EXE;.BAT;.CMD")
        extensions = [ext for ext in pathext.split(os.pathsep) if ext]
    for entry in (path if path is not None else os.defpath).split(os.pathsep):
        directory = Path(entry)
        if not entry or not directory.is_absolute():
            continue
        real = Path(os.path.realpath(directory))
        if real == project_root or real.is_relative_to(project_root):
            continue
        for extension in extensions:
            candidate = directory / (name + extension)
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None
