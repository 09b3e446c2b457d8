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
    _no_core_dumps()
    from entrypoints.cli.app import run

    run()


def _no_core_dumps() -> None:
    """Keep keys out of core files: a crash (or SIGABRT) while one is in memory dumps nothing.

    Only the soft limit is lowered, in this process: a shell with ``ulimit -c unlimited``
    would otherwise get a core file holding the key it just typed.
    """
    import contextlib

    try:
        import resource
    except ImportError:  # Windows: no core files
        return
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    with contextlib.suppress(ValueError, OSError):  # a platform that refuses: as before
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
