"""How fast the local tools run on a large schematic, alone and eight at a time.

    python -m tests.benchmarks.bench_tools [--quick | --smoke] [--markdown FILE]

A synthetic 5 MB KiCad schematic (symbols, properties, wires, labels: the shapes of
a real ``.kicad_sch``) is written to a temp project. ``LocalToolRunner.run`` is timed
in-process, as the chat loop calls it: ``read_file`` from the top (the result is
capped, the rest of the file is only counted), ``read_file`` of the last lines (an
``offset`` deep in the file), ``search_replace`` of a unique string near the end
(which reads, edits and atomically rewrites the whole file, fsync included), and
``grep``: a rare reference (most chunks skipped whole), a word on many lines (each
matching line found by a block search), and a hostile pattern (``(a+)+$``,
exponential for a backtracking engine; RE2 is linear; it matches every line).
Then eight calls on eight different files run at once on a thread pool, against
the slowest of the same calls run alone. Medians after a warm-up; targets
printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from adapters.tools.local import LocalToolRunner
from domain.chat import ToolCall
from tests.benchmarks.common import (
    Row,
    Table,
    add_common_arguments,
    machine,
    median,
    verdict,
    write_section,
)

SIZE_BYTES = 5 * 1024 * 1024
TARGET_MS = 50.0
CONCURRENT = 8
CONCURRENCY_TARGET = 1.5  # "about the time of the slowest one"
MARKER = "R_BENCH_MARKER"


def schematic(size: int) -> str:
    """A KiCad-like schematic of about ``size`` bytes, with one unique marker near its end."""
    head = '(kicad_sch (version 20231120) (generator "eeschema") (generator_version "8.0")\n'
    head += '  (uuid "5c1e0d5e-0000-4000-8000-000000000000")\n  (paper "A3")\n'
    parts = [head]
    total = len(head)
    n = 0
    while total < size - 2048:
        n += 1
        block = (
            f'  (symbol (lib_id "Device:R") (at {n % 300}.54 {n % 200}.32 0) (unit 1)\n'
            f"    (in_bom yes) (on_board yes) (dnp no)\n"
            f'    (uuid "0000{n:04x}-1111-4222-8333-{n:012x}")\n'
            f'    (property "Reference" "R{n}" (at {n % 300}.54 {n % 200}.0 0)\n'
            "      (effects (font (size 1.27 1.27)) (justify left))\n    )\n"
            f'    (property "Value" "{(n % 97) + 1}k" (at {n % 300}.54 {n % 200}.64 0)\n'
            "      (effects (font (size 1.27 1.27)) (justify left))\n    )\n"
            f'    (pin "1" (uuid "aaaa{n:04x}-0000-4000-8000-{n:012x}"))\n'
            f'    (pin "2" (uuid "bbbb{n:04x}-0000-4000-8000-{n:012x}"))\n  )\n'
            f"  (wire (pts (xy {n % 300}.54 {n % 200}.32) (xy {n % 300 + 5}.08 {n % 200}.32))\n"
            "    (stroke (width 0) (type default))\n"
            f'    (uuid "cccc{n:04x}-0000-4000-8000-{n:012x}")\n  )\n'
        )
        parts.append(block)
        total += len(block)
    tail = (
        f'  (label "{MARKER}" (at 10.16 20.32 0))\n  (sheet_instances (path "/" (page "1")))\n)\n'
    )
    parts.append(tail)
    return "".join(parts)


class Bench:
    """A project with ``CONCURRENT`` copies of the schematic and a runner on it."""

    def __init__(self, size: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="trace-bench-tools-"))
        text = schematic(size)
        self.lines = text.count("\n")
        self.files = [f"board{i}.kicad_sch" for i in range(CONCURRENT)]
        for name in self.files:
            (self.root / name).write_text(text, encoding="utf-8")
        self.runner = LocalToolRunner(self.root)
        self._flip: dict[str, bool] = {}
        self._ids = 0

    def close(self) -> None:
        """Remove the project."""
        shutil.rmtree(self.root, ignore_errors=True)

    def call(self, tool: str, **args: object) -> ToolCall:
        """A tool call with a fresh id."""
        self._ids += 1
        return ToolCall(f"call-{self._ids}", tool, args)

    def read_top(self, name: str) -> ToolCall:
        """``read_file`` from line 1 (capped result)."""
        return self.call("read_file", target_file=name)

    def read_tail(self, name: str) -> ToolCall:
        """``read_file`` of the last 200 lines."""
        return self.call("read_file", target_file=name, offset=self.lines - 199, limit=200)

    def replace(self, name: str) -> ToolCall:
        """``search_replace`` of the unique marker, alternating so the file keeps its size."""
        flipped = self._flip.get(name, False)
        self._flip[name] = not flipped
        old, new = (MARKER, MARKER[::-1]) if not flipped else (MARKER[::-1], MARKER)
        return self.call("search_replace", file_path=name, old_string=old, new_string=new)

    def grep(self, name: str) -> ToolCall:
        """``grep`` for one reference, with counts."""
        return self.call("grep", pattern=r'"R4242"', path=name, output_mode="count")

    def grep_common(self, name: str) -> ToolCall:
        """``grep`` for a word on every few lines, with counts."""
        return self.call("grep", pattern=r"\(property", path=name, output_mode="count")

    def grep_hostile(self, name: str) -> ToolCall:
        """``grep`` with a pattern that makes a backtracking engine run for hours."""
        return self.call("grep", pattern=r"(a+)+$|(\w+\s?)*$", path=name, output_mode="count")

    def run(self, call: ToolCall) -> float:
        """Run one call; seconds taken. A failed call stops the benchmark."""
        started = time.perf_counter()
        result = self.runner.run(call)
        seconds = time.perf_counter() - started
        if result.is_error:
            raise SystemExit(f"bench_tools: {call.tool_name} failed: {result.result[:300]}")
        return seconds

    def run_together(self, calls: Sequence[ToolCall]) -> float:
        """Run ``calls`` at once on a pool of their size; seconds until the last is done."""
        with ThreadPoolExecutor(len(calls)) as pool:
            started = time.perf_counter()
            for seconds in pool.map(self.run, calls):
                del seconds
            return time.perf_counter() - started


def timed(bench: Bench, make: Callable[[str], ToolCall], runs: int, warmup: int) -> list[float]:
    """Seconds per run of one tool on the first file, after ``warmup`` runs."""
    name = bench.files[0]
    samples = [bench.run(make(name)) for _ in range(warmup + runs)]
    return samples[warmup:]


def concurrency(
    bench: Bench, make: Callable[[str], ToolCall], runs: int, warmup: int
) -> tuple[float, float, float]:
    """Medians of: all files at once, the slowest file alone, the files alone one by one."""
    together: list[float] = []
    slowest: list[float] = []
    total: list[float] = []
    for number in range(warmup + runs):
        each = [bench.run(make(name)) for name in bench.files]
        all_at_once = bench.run_together([make(name) for name in bench.files])
        if number >= warmup:
            slowest.append(max(each))
            total.append(sum(each))
            together.append(all_at_once)
    return median(together), median(slowest), median(total)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    size = 256 * 1024 if args.smoke else SIZE_BYTES
    runs = 2 if args.smoke else 7 if args.quick else 21
    conc_runs = 1 if args.smoke else 3 if args.quick else 7
    warmup = 1 if args.smoke else 2
    bench = Bench(size)
    try:
        singles = {
            "read_file (from line 1; result capped)": timed(bench, bench.read_top, runs, warmup),
            "read_file (last 200 lines, offset)": timed(bench, bench.read_tail, runs, warmup),
            "search_replace (unique string near the end)": timed(
                bench, bench.replace, runs, warmup
            ),
            "grep (count one reference)": timed(bench, bench.grep, runs, warmup),
            "grep (count a word on many lines)": timed(bench, bench.grep_common, runs, warmup),
            "grep (hostile pattern, RE2)": timed(bench, bench.grep_hostile, runs, warmup),
        }
        together = {
            "read_file": concurrency(bench, bench.read_top, conc_runs, 1),
            "search_replace": concurrency(bench, bench.replace, conc_runs, 1),
        }
    finally:
        bench.close()
    rows: list[Row] = []
    for label, samples in singles.items():
        ms = median(samples) * 1000
        has_target = not label.startswith("grep")
        rows.append(
            Row(
                label,
                f"{ms:.1f} ms",
                "",
                f"≤ {TARGET_MS:g} ms" if has_target else "",
                verdict(ms, TARGET_MS) if has_target else "",
            )
        )
    cpus = os.cpu_count() or 1
    for tool, (all_at_once, slowest, total) in together.items():
        ratio = all_at_once / slowest
        rows.append(
            Row(
                f"{CONCURRENT} × {tool} at once, {CONCURRENT} files",
                f"{all_at_once * 1000:.1f} ms",
                f"{ratio:.2f}× the slowest alone",
                f"≈ 1× (≤ {CONCURRENCY_TARGET:g}×)",
                verdict(ratio, CONCURRENCY_TARGET),
                f"slowest alone {slowest * 1000:.1f} ms; one after another "
                f"{total * 1000:.1f} ms ({all_at_once / total:.0%} of it)",
            )
        )
    result = Table(
        f"Local tools on a {size / 1024 / 1024:.1f} MB schematic ({bench.lines:,} lines)",
        ("case", "median", "ratio", "target", "verdict", "note"),
        tuple(rows),
        (
            f"{runs} runs after {warmup} warm-up(s) per tool; concurrency: {conc_runs} rounds, "
            f"each running every file alone and then all {CONCURRENT} on a pool of "
            f"{CONCURRENT} threads.",
            f"With {cpus} CPU(s), and the GIL held while bytes are counted and copied, "
            f"{CONCURRENT} calls cannot take less than about the sum of their CPU time "
            f"divided by {cpus}; the last column shows how they compare with running "
            "them one after another.",
            machine() + ".",
        ),
    )
    print(result.text())
    if args.markdown is not None:
        write_section(
            args.markdown,
            "bench_tools",
            result.markdown(),
            "python -m tests.benchmarks.bench_tools --markdown FILE",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
