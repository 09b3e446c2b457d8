"""The ``buildwithtrace`` command line."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    import sys

    from entrypoints.cli.commands import fast_help

    # `buildwithtrace --help` is answered without importing click (see commands.py).
    page = fast_help(sys.argv[1:])
    if page is not None:
        sys.stdout.write(page)
        sys.stdout.flush()
        return
    from entrypoints.cli.app import run

    run()
