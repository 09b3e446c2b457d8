"""The ``buildwithtrace`` command line."""

from __future__ import annotations

_collection_deferred = False


def main() -> None:
    """Console-script entry point."""
    import gc
    import sys

    from entrypoints.cli.commands import fast_help

    # Start-up builds tens of thousands of objects (modules, classes, functions) that live
    # as long as the process; the cyclic collector would scan them again and again while
    # they are created (~6 ms of a ~100 ms command). It is off until the runtime is built
    # (resume_collection), then everything made so far is frozen out of its way.
    global _collection_deferred
    gc.disable()
    _collection_deferred = True
    # `buildwithtrace --help` is answered without importing click (see commands.py).
    page = fast_help(sys.argv[1:])
    if page is not None:
        sys.stdout.write(page)
        sys.stdout.flush()
        return
    _no_core_dumps()
    from entrypoints.cli.app import run

    run()


def resume_collection() -> None:
    """Turn the cyclic collector back on, for what the command itself allocates."""
    global _collection_deferred
    if _collection_deferred:
        import gc

        _collection_deferred = False
        gc.freeze()  # start-up's objects: never garbage to look for, never scanned again
        gc.enable()


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
