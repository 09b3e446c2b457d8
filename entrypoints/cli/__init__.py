"""The ``buildwithtrace`` command line."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    from entrypoints.cli.app import run

    run()
