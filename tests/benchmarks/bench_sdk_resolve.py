"""How long the SDK takes to resolve the key for a chat, with and without the read cache.

Prints a table; asserts nothing (timings on shared machines are noisy). Issue 7's
target: after the first call, resolving the key costs at most 50 µs.

    python -m tests.benchmarks.bench_sdk_resolve                 # file store
    python -m tests.benchmarks.bench_sdk_resolve --store keychain  # needs a Secret Service
    python -m tests.benchmarks.bench_sdk_resolve --quick
    python -m tests.benchmarks.bench_sdk_resolve --installed     # on a regular install

``--installed`` runs the same measurement with the interpreter of the regular install
``bench_cli`` builds (``pip install .``, no extras; ``tests/benchmarks/install.py``), from a
directory where only this ``tests`` package is importable besides it, so the SDK, its
dependencies and their versions are what a user gets.

Each figure is the median (and 90th percentile) of ``--calls`` calls to
``Trace.resolve()`` after ``--warmup`` calls, in a fresh config dir holding an
Anthropic key stored with ``byok set``. The "per chat" rows add what a chat reads
besides the key: the Trace login token from the same store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from domain.errors import TraceError
from domain.provider import TRACE_TOKEN_ACCOUNT
from domain.secret import Secret
from entrypoints.sdk import Trace
from tests.benchmarks.common import machine, write_section

KEY = "sk-ant-api03-benchmark-key-0000BENCH"
TOKEN = "trace-benchmark-token-0123456789"


def measure(work: Callable[[], object], calls: int, warmup: int) -> tuple[float, float]:
    """Median and 90th percentile of ``work()`` in microseconds, after ``warmup`` calls."""
    for _ in range(warmup):
        work()
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        started = clock()
        work()
        samples.append((clock() - started) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def per_chat(trace: Trace) -> Callable[[], object]:
    """What a chat reads before sending: the key, then the login token (white-box)."""
    token = trace._runtime.use_cases.token()

    def work() -> object:
        trace.resolve()
        return token.require()

    return work


def run(store: str, calls: int, warmup: int) -> list[tuple[str, float, float]]:
    """The rows of the table for one secret store."""
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="trace-bench-") as config_dir:
        env = {
            **os.environ,
            "TRACE_CONFIG_DIR": config_dir,
            "TRACE_CREDENTIALS_STORE": store,
            "TRACE_KEYCHAIN_SERVICE": f"buildwithtrace-bench-{os.getpid()}",
        }
        for name in ("ANTHROPIC_API_KEY", "TRACE_LLM_PROVIDER", "TRACE_LLM_API_KEY"):
            env.pop(name, None)
        with Trace(env=env, cache_reads=False) as setup:
            setup.byok.set("anthropic", KEY)
            # The stored login, as `buildwithtrace auth login` leaves it (white-box).
            setup._runtime.adapters.secrets().set(TRACE_TOKEN_ACCOUNT, Secret(TOKEN))
        try:
            for cached in (False, True):
                with Trace(env=env, cache_reads=cached) as trace:
                    label = "cached" if cached else "uncached"
                    median, p90 = measure(trace.resolve, calls, warmup)
                    rows.append((f"resolve() {label}", median, p90))
                    median, p90 = measure(per_chat(trace), calls, warmup)
                    rows.append((f"key + token per chat, {label}", median, p90))
        finally:
            with Trace(env=env, cache_reads=False) as cleanup:
                cleanup.byok.remove("anthropic")
                cleanup._runtime.adapters.secrets().delete(TRACE_TOKEN_ACCOUNT)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; exit 0 unless the store could not be used at all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("file", "keychain"), default="file")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="500 calls, 50 warm-up")
    parser.add_argument(
        "--markdown", type=Path, metavar="FILE", help="also write the table into FILE"
    )
    parser.add_argument(
        "--installed", action="store_true", help="run on the regular install bench_cli builds"
    )
    args = parser.parse_args(argv)
    if args.installed:
        return _on_regular_install(args)
    calls, warmup = (500, 50) if args.quick else (args.calls, args.warmup)
    try:
        rows = run(args.store, calls, warmup)
    except TraceError as exc:
        print(f"skipped the {args.store} store: {exc.problem}", file=sys.stderr)
        return 1
    print(f"SDK key resolution, {args.store} store, {calls} calls after {warmup} warm-up")
    print(f"{'what':<34} {'median µs':>10} {'p90 µs':>10}")
    for what, median, p90 in rows:
        print(f"{what:<34} {median:>10.1f} {p90:>10.1f}")
    uncached, cached = rows[0][1], rows[2][1]
    print(f"cache speed-up for resolve(): {uncached / cached:.1f}x (target: cached ≤ 50 µs)")
    if args.markdown is not None:
        write_section(
            args.markdown,
            f"bench_sdk_resolve.{args.store}",
            _markdown(args.store, calls, warmup, rows),
            f"python -m tests.benchmarks.bench_sdk_resolve --store {args.store} --markdown FILE",
        )
    return 0


def _on_regular_install(args: argparse.Namespace) -> int:
    """This benchmark again, with the regular install's interpreter and our code from it."""
    import subprocess

    from tests.benchmarks.install import regular_install

    python = regular_install().parent / "python"
    tests = Path(__file__).resolve().parents[1]
    command = [str(python), "-m", "tests.benchmarks.bench_sdk_resolve", "--store", args.store]
    command += ["--calls", str(args.calls), "--warmup", str(args.warmup)]
    command += ["--quick"] if args.quick else []
    if args.markdown is not None:
        command += ["--markdown", str(args.markdown.resolve())]
    with tempfile.TemporaryDirectory(prefix="trace-bench-root-") as root:
        # Only `tests` beside the install: `domain`, `entrypoints`... come from site-packages.
        (Path(root) / "tests").symlink_to(tests, target_is_directory=True)
        return subprocess.run(command, cwd=root, check=False).returncode


def _markdown(store: str, calls: int, warmup: int, rows: list[tuple[str, float, float]]) -> str:
    """The same table for docs/performance.md, with the target's verdict on the cached row."""
    lines = [
        f"#### SDK key resolution, {store} store ({calls} calls after {warmup} warm-up)",
        "",
        "| what | median µs | p90 µs | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for what, median, p90 in rows:
        target = "≤ 50 µs" if what == "resolve() cached" else ""
        verdict = ("ok" if median <= 50 else "over") if target else ""
        lines.append(f"| {what} | {median:.1f} | {p90:.1f} | {target} | {verdict} |")
    lines += ["", f"- {machine()}."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
