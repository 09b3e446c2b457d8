"""Writing results: text for people, JSON for programs, notices on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click


def emit_json(data: object) -> None:
    """One JSON document on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json_line(data: object) -> None:
    """One JSON object on one line of stdout (for JSON-lines output)."""
    click.echo(json.dumps(data, ensure_ascii=False))


def say(text: str) -> None:
    """A line of the command's result on stdout."""
    click.echo(text)


def warn(text: str) -> None:
    """A warning on stderr (never mixed into JSON on stdout)."""
    click.echo(f"warning: {text}", err=True)


def note(text: str) -> None:
    """A notice on stderr."""
    click.echo(f"note: {text}", err=True)


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain aligned text table."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)


def stdin_is_terminal() -> bool:
    """True when a person can answer a hidden prompt."""
    return sys.stdin is not None and sys.stdin.isatty()
