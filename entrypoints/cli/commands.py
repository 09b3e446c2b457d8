"""The root command's table of sub-commands, and its help page rendered without click.

This module imports nothing but the standard library: ``buildwithtrace --help`` is
answered from it without importing click (~30 ms, more than the interpreter's own
start-up). :func:`root_help` renders exactly what click prints for the root group,
or returns None when the page would need wrapping (a narrow terminal), in which case
click renders it as usual. A test compares the two at many widths.
"""

from __future__ import annotations

# name -> (module, attribute, short help). Loading a sub-command imports only its
# module, so `--help` and each command pay for nothing else.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "byok": ("entrypoints.cli.byok", "byok", "Manage your own provider keys (BYOK)."),
    "config": ("entrypoints.cli.config_cmd", "config", "Read and change non-secret settings."),
    "doctor": ("entrypoints.cli.doctor", "doctor", "Check the local set-up and say what to fix."),
    "auth": ("entrypoints.cli.auth", "auth", "Log in to Trace (login, status, logout)."),
    "chat": ("entrypoints.cli.chat", "chat", "Ask Trace about your design; tools run locally."),
    "billing": ("entrypoints.cli.billing", "billing", "Trace plan usage and who pays."),
    "project": (
        "entrypoints.cli.project",
        "project",
        "Allow a project's trace.toml to pick keys.",
    ),
    "settings": (
        "entrypoints.desktop.command",
        "settings",
        "Open the AI Provider settings window.",
    ),
    "completion": (
        "entrypoints.cli.completion",
        "completion",
        "Print the shell completion script.",
    ),
}

PROG = "buildwithtrace"
ROOT_HELP = "Trace: an AI assistant for electronics design, with your own model keys."
HELP_OPTIONS = ("-h", "--help")
# The root group's options as click lists them (--version from click.version_option).
ROOT_OPTIONS = (
    ("--version", "Show the version and exit."),
    (", ".join(HELP_OPTIONS), "Show this message and exit."),
)


def root_help(columns: int) -> str | None:
    """The root help page for a terminal ``columns`` wide, or None if it must wrap."""
    # click's HelpFormatter: at most 80 columns, minus 2, never under 50.
    width = max(min(columns, 80) - 2, 50)
    lines = [f"Usage: {PROG} [OPTIONS] COMMAND [ARGS]...", "", f"  {ROOT_HELP}", ""]
    lines += ["Options:", *_definitions(ROOT_OPTIONS), "", "Commands:"]
    lines += _definitions([(name, COMMANDS[name][2]) for name in sorted(COMMANDS)])
    if any(len(line) > width for line in lines) or max(map(len, COMMANDS)) > 30:
        return None  # click would wrap some line; let click do it
    return "\n".join(lines) + "\n"


def _definitions(rows: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> list[str]:
    """click's definition list (``HelpFormatter.write_dl``) when nothing wraps."""
    first = min(max(len(term) for term, _ in rows), 30) + 2
    return [f"  {term.ljust(first)}{text}" for term, text in rows]


def fast_help(argv: list[str]) -> str | None:
    """The root help page if ``argv`` asks only for it and it needs no wrapping, else None."""
    if len(argv) != 1 or argv[0] not in HELP_OPTIONS:
        return None
    return root_help(_terminal_columns())


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (what click reads), without importing shutil.

    shutil imports the zlib, bz2 and lzma modules, which would be most of what
    ``--help`` imports.
    """
    import os
    import sys

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        stdout = sys.__stdout__
        try:
            columns = os.get_terminal_size(stdout.fileno()).columns if stdout else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80
