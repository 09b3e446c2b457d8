"""Child processes of the hostile-tools tests: ``python -m tests.reliability.tool_workers KIND``.

A hostile pattern under a backtracking engine holds the GIL for hours, so a test that
ran it in the pytest process could neither time out nor be interrupted: each such
case runs here, in a child the test kills when it overruns. Every kind prints one
JSON object per line on stdout.

``patterns ROOT SPEC``: for each pattern of the JSON file SPEC, ``grep`` it over ROOT
while another thread ticks every millisecond; prints the call's seconds, the largest
gap between ticks, and the result's head.

``cancel ROOT SPEC``: start one ``grep`` (SPEC: its arguments and ``delay``), call
``cancel()`` after ``delay`` seconds, print how long the call took to return after it.

``memory ROOT SPEC``: four ``grep`` calls at once, one per file of SPEC; prints the
peak resident memory of this process before and after (``VmHWM``, MiB).

``streams PROJECT SPEC``: two SDK streams in this process against the protocol server
(``TRACE_BASE_URL``): stream B reads a turn of ticking text; once B's first event
arrived, stream A runs a turn whose tool call is SPEC's hostile ``grep``. Prints B's
event times, and A's tool result.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.support.files import REPO_ROOT


def start(kind: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a worker child with the project importable; stdout/stderr piped."""
    child_env = {**(env if env is not None else os.environ), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.tool_workers", kind, *args],
        cwd=REPO_ROOT,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float) -> tuple[list[Any] | None, str]:
    """The JSON lines a worker printed, or None when it overran ``timeout`` (it is killed)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        return None, stderr
    if process.returncode != 0:
        raise AssertionError(f"worker failed ({process.returncode}):\n{stderr}")
    return [json.loads(line) for line in stdout.splitlines() if line.strip()], stderr


class Ticker:
    """A thread that wakes every millisecond and keeps the largest gap between its wake-ups."""

    def __init__(self) -> None:
        self.largest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Ticker:
        self._thread.start()
        time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(0.001):
            now = time.monotonic()
            self.largest = max(self.largest, now - last)
            last = now


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def _patterns(root: Path, spec: dict[str, Any]) -> None:
    from adapters.tools.local import LocalToolRunner
    from domain.chat import ToolCall

    runner = LocalToolRunner(root)
    for pattern in spec["patterns"]:
        args = {**spec.get("args", {}), "pattern": pattern}
        with Ticker() as ticker:
            started = time.monotonic()
            result = runner.run(ToolCall("hostile", "grep", args))
            seconds = time.monotonic() - started
        _emit(
            {
                "pattern": pattern,
                "seconds": seconds,
                "gap": ticker.largest,
                "is_error": result.is_error,
                "head": result.result[:300],
            }
        )


def _cancel(root: Path, spec: dict[str, Any]) -> None:
    from adapters.tools.local import LocalToolRunner
    from domain.chat import ToolCall, ToolResult

    runner = LocalToolRunner(root)
    out: list[ToolResult] = []
    worker = threading.Thread(
        target=lambda: out.append(runner.run(ToolCall("long", spec["tool"], spec["args"])))
    )
    started = time.monotonic()
    worker.start()
    time.sleep(spec["delay"])
    cancelled_at = time.monotonic()
    runner.cancel()
    worker.join()
    ended = time.monotonic()
    _emit(
        {
            "latency": ended - cancelled_at,
            "ran": ended - started,
            "is_error": out[0].is_error,
            "head": out[0].result[:300],
        }
    )


def _rss_mib() -> float:
    """This process's peak resident memory, MiB.

    ``VmHWM`` where there is /proc: ``ru_maxrss`` survives ``execve``, so in a child of
    pytest it would start at pytest's own size. ``ru_maxrss`` is in KiB on Linux.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _memory(root: Path, spec: dict[str, Any]) -> None:
    from adapters.tools.local import LocalToolRunner
    from domain.chat import ToolCall

    runner = LocalToolRunner(root)
    # Import everything a grep needs (the regex engine included) before the baseline.
    runner.run(ToolCall("warm", "grep", {"pattern": "x", "path": spec["warm"]}))
    baseline = _rss_mib()
    calls = [
        ToolCall(f"g{i}", "grep", {**spec["args"], "path": name})
        for i, name in enumerate(spec["files"])
    ]
    with ThreadPoolExecutor(len(calls)) as pool:
        results = list(pool.map(runner.run, calls))
    _emit(
        {
            "baseline_mib": baseline,
            "peak_mib": _rss_mib(),
            "results": [(r.is_error, len(r.result), r.result[:120]) for r in results],
        }
    )


def _streams(project: Path, spec: dict[str, Any]) -> None:
    from domain.chat import TextDelta
    from entrypoints.sdk import ChatFinished, ToolFinished, Trace

    ticks: list[float] = []
    first = threading.Event()
    outcome: dict[str, Any] = {}

    def stream_b() -> None:
        with Trace(project_dir=project) as trace:
            for item in trace.stream("tick", project_dir=project):
                if isinstance(item, TextDelta):
                    ticks.append(time.monotonic())
                    first.set()
        first.set()

    def stream_a() -> None:
        with Trace(project_dir=project) as trace:
            for item in trace.stream("search", project_dir=project):
                if isinstance(item, ToolFinished):
                    outcome["grep_done"] = time.monotonic()
                    outcome["is_error"] = item.result.is_error
                    outcome["head"] = item.result.result[:300]
                elif isinstance(item, ChatFinished):
                    outcome["a_done"] = time.monotonic()

    b = threading.Thread(target=stream_b)
    b.start()
    first.wait(30)
    a = threading.Thread(target=stream_a)
    outcome["a_started"] = time.monotonic()
    a.start()
    a.join()
    b.join()
    _emit({"ticks": ticks, **outcome})


def main(argv: Sequence[str]) -> None:
    """Dispatch on the worker kind."""
    kind, target, spec_file = argv
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    kinds = {"patterns": _patterns, "cancel": _cancel, "memory": _memory, "streams": _streams}
    if kind not in kinds:
        sys.exit(f"unknown worker kind {kind!r}")
    kinds[kind](Path(target), spec)


if __name__ == "__main__":
    main(sys.argv[1:])
