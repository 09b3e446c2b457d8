"""Running the CLI inside this process: ``entrypoints.cli.app.run`` with its streams captured.

Each call builds a fresh container from the current ``os.environ``, exactly like a new
``buildwithtrace`` process, minus the interpreter start-up (~0.3 s): fast enough for
hypothesis and for child processes that run hundreds of commands.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time

import attrs

from entrypoints.cli.app import run


@attrs.frozen
class Outcome:
    """One in-process CLI run."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        """Both streams."""
        return self.stdout + self.stderr

    def __str__(self) -> str:
        """The run, for assertion messages."""
        return (
            f"$ buildwithtrace {' '.join(self.args)}\n-> exit {self.code} in {self.seconds:.3f}s\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


def cli(*args: str, stdin: str = "") -> Outcome:
    """Run ``buildwithtrace args`` in-process; ``stdin`` is what standard input holds."""
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    started = time.monotonic()
    code: int | str | None = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                run(list(args))
            except SystemExit as done:
                code = done.code
    finally:
        sys.stdin = saved_stdin
    seconds = time.monotonic() - started
    if not isinstance(code, int):
        code = 0 if code is None else 1
    return Outcome(tuple(args), code, out.getvalue(), err.getvalue(), seconds)
