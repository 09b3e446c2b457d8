"""How fast the CLI and the SDK start, as a user installs and runs them.

    python -m tests.benchmarks.bench_cli [--quick | --smoke] [--importtime]
                                         [--venv DIR] [--markdown docs/performance.md]

What is timed is a regular install: ``pip install .`` into a fresh virtual environment,
no extras, not editable (``tests/benchmarks/install.py`` builds it in
``.venv/bench-install`` and keeps it up to date; ``--venv DIR`` names another one).
The development venv's baseline would be inflated by its editable-install finder and
the coverage hook (``.pth`` files run at every start-up), which users do not have.

Every case is a fresh process, spawned directly (no shell) with stdout and stderr on
/dev/null. The cases run interleaved in a shuffled order each round, after warm-up
rounds, so that a burst of load on this shared machine hits every case alike; each
figure is the median wall time over the rounds and its ratio to ``python -c pass``
run by the same venv's interpreter in the same rounds. Peak memory is the child's
``ru_maxrss`` from ``os.wait4``.

Each command is shown as *floor + ours*: the floor is a row that only imports the
libraries the design mandates for it (click, attrs, dependency-injector; keyring and
SecretStorage for a keychain read; httpx for the SDK), measured in the same rounds;
*ours* is what the command costs above it.

Cases: ``--help``, ``--version``; ``byok status`` with the key in the 0600 file store and
with the key in a real keychain (a private Secret Service: the one
``scripts/with-keychain`` started, else one this script starts the same way); ``byok
use`` and ``byok model``, which alternate between two values so that every run really
writes config.toml; and the SDK: a fresh process that creates ``Trace()`` and streams a
chat from a local protocol server until the first event arrives, then exits.

``--importtime`` also runs each CLI command under ``python -X importtime`` and
summarises where its import time goes (figures inflated by the tracing itself).
Targets are printed; nothing here fails on a slow figure. A command that fails does
fail the script (exit 1): a broken benchmark must not pass quietly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs

from tests.benchmarks.common import (
    Row,
    Table,
    add_common_arguments,
    machine,
    median,
    write_section,
)
from tests.benchmarks.install import DEFAULT_VENV, pth_files, regular_install

BENCH_KEY = "sk-ant-bench-" + "0123456789abcdef" * 2
BENCH_TOKEN = "trace-bench-token-0123456789abcdef"
MEMORY_TARGET_MIB = 30.0
_SCRUBBED_PREFIXES = ("TRACE_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_API", "PYTHON")
_SCRUBBED_PREFIXES_EXTRA = ("COV_CORE_", "COVERAGE_")
_SCRUBBED_NAMES = ("XDG_CONFIG_HOME", "DISPLAY")
# Libraries a hot command should import only when it needs them (reported per command).
WATCHED_MODULES = (
    "click",
    "attrs",
    "cattrs",
    "dependency_injector",
    "asyncio",
    "ssl",
    "keyring",
    "secretstorage",
    "jeepney",
    "cryptography",
    "httpx",
    "tomlkit",
    "tomllib",
    "filelock",
    "platformdirs",
    "importlib.metadata",
)
OUR_PACKAGES = ("domain", "application", "adapters", "entrypoints")

# What the design mandates, imported and nothing else: the floor under each command.
_STACK = "click, attrs, dependency_injector.containers, dependency_injector.providers"
_KEYRING = "keyring, secretstorage"
_SDK_STACK = "attrs, dependency_injector.containers, dependency_injector.providers, httpx"
# A fresh process: build the SDK client, stream a chat, stop at the first event.
_SDK_FIRST_EVENT = (
    "import os\n"
    "from entrypoints.sdk import Trace\n"
    "next(iter(Trace().stream('Which net is VCC?')))\n"
    "os._exit(0)  # the first event is what is timed, not the teardown\n"
)


@attrs.frozen
class Target:
    """What a case should stay under: a ratio, a ratio above its floor, or another case's ratio."""

    limit: float
    above_floor: bool = False
    of_case: str | None = None  # the key of the case whose ratio ``limit`` multiplies

    def describe(self, labels: Mapping[str, str]) -> str:
        """The target column."""
        if self.of_case is not None:
            return f"≤ {self.limit:g}× {labels[self.of_case]}"
        return f"≤ floor + {self.limit:g}×" if self.above_floor else f"≤ {self.limit:g}×"


@attrs.frozen
class Case:
    """One command line to time; ``variants`` are cycled run by run (so writes really write)."""

    key: str
    label: str
    variants: tuple[tuple[str, ...], ...]
    profile: str  # "none", "file", "keychain", "sdk-file", "sdk-keychain": its environment
    floor: str | None = None  # the key of the floor row under this command
    target: Target | None = None
    memory: bool = False  # also report peak memory against MEMORY_TARGET_MIB


@attrs.frozen
class Sample:
    """One run: wall seconds and the child's peak resident set size in KiB."""

    seconds: float
    max_rss_kib: int
    cpu_seconds: float = 0.0  # user + system time of the child (waiting for a CPU excluded)

    def time(self, clock: str) -> float:
        """Wall seconds (``wall``) or CPU seconds (``cpu``)."""
        return self.cpu_seconds if clock == "cpu" else self.seconds


class Environments:
    """Prepared child environments: a config dir with a key in the file store or keychain."""

    def __init__(
        self,
        cli: Path,
        workdir: Path,
        keychain_address: str | None,
        source: Path | None = None,
        backend_url: str | None = None,
    ) -> None:
        self.cli = cli
        self.base = scrubbed_environment(os.environ)
        if source is not None:  # another checkout's code, ahead of the installed one
            self.base["PYTHONPATH"] = str(source)
        self.by_profile: dict[str, dict[str, str]] = {"none": dict(self.base)}
        self.skipped: dict[str, str] = {}
        self._prepare_file(workdir / "file")
        if keychain_address is None:
            self.skipped["keychain"] = "no Secret Service (--no-keychain, or gnome-keyring missing)"
        else:
            self._prepare_keychain(workdir / "keychain", keychain_address)
        for store in ("file", "keychain"):
            if backend_url is None:
                self.skipped[f"sdk-{store}"] = "no protocol server"
            elif store in self.by_profile:
                self.by_profile[f"sdk-{store}"] = {
                    **self.by_profile[store],
                    "TRACE_BASE_URL": backend_url,
                    "TRACE_API_TOKEN": BENCH_TOKEN,
                }
            else:
                self.skipped[f"sdk-{store}"] = self.skipped[store]

    def _prepare_file(self, config_dir: Path) -> None:
        env = {**self.base, "TRACE_CONFIG_DIR": str(config_dir)}
        self._cli(env, "config", "set", "credentials.store", "file")
        self._cli(env, "byok", "set", "anthropic", "--key-stdin", stdin=BENCH_KEY)
        self._expect_source(env, "file")
        self.by_profile["file"] = env

    def _prepare_keychain(self, config_dir: Path, address: str) -> None:
        env = {
            **self.base,
            "TRACE_CONFIG_DIR": str(config_dir),
            "TRACE_KEYCHAIN_SERVICE": f"buildwithtrace-bench-{uuid.uuid4().hex[:12]}",
            "DBUS_SESSION_BUS_ADDRESS": address,
        }
        # The default store (auto: keychain, else file), as a user with a keychain has it.
        self._cli(env, "byok", "set", "anthropic", "--key-stdin", stdin=BENCH_KEY)
        self._expect_source(env, "keychain")
        self.by_profile["keychain"] = env

    def cleanup(self) -> None:
        """Remove the benchmark's key from a keychain this script did not start."""
        env = self.by_profile.get("keychain")
        if env is not None:
            self._cli(env, "byok", "remove", "anthropic")

    def _expect_source(self, env: Mapping[str, str], source: str) -> None:
        out = self._cli(env, "byok", "status", "--json")
        if f'"source": "{source}"' not in out:
            raise SystemExit(f"bench_cli: the key did not land in the {source} store:\n{out}")

    def _cli(self, env: Mapping[str, str], *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(self.cli), *args],
            env=dict(env),
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(
                f"bench_cli: buildwithtrace {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )
        return done.stdout


def scrubbed_environment(source: Mapping[str, str]) -> dict[str, str]:
    """The environment without keys, our settings, Python tuning or coverage hooks."""
    prefixes = _SCRUBBED_PREFIXES + _SCRUBBED_PREFIXES_EXTRA
    return {
        name: value
        for name, value in source.items()
        if not name.startswith(prefixes) and name not in _SCRUBBED_NAMES
    }


def script_interpreter(script: Path) -> str:
    """The interpreter named on the console script's ``#!`` line (the baseline's python)."""
    first = script.read_bytes().split(b"\n", 1)[0].decode()
    if first.startswith("#!") and " " not in first[2:].strip():
        return first[2:].strip()
    return sys.executable


# The runs are spawned by a small helper process, not by this one: Linux carries the
# peak RSS of the address space a process had before exec() into its ru_maxrss, so a
# child spawned straight from this (larger) process would report our peak, not its own.
# The helper (``python -S``, a few MiB) spawns each command, times it from spawn to
# wait4 and answers with the wall time and the child's ru_maxrss.
_SPAWNER = r"""
import json, os, sys, time
devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
for line in sys.stdin:
    job = json.loads(line)
    started = time.perf_counter()
    pid = os.posix_spawn(job["argv"][0], job["argv"], job["env"], file_actions=devnull)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps([seconds, usage.ru_maxrss, code, cpu]), flush=True)
"""


class Spawner:
    """The helper process that runs, times and measures each command."""

    def __init__(self, python: str) -> None:
        self._process = subprocess.Popen(
            [python, "-S", "-c", _SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=scrubbed_environment(os.environ),
        )

    def run(self, argv: Sequence[str], env: Mapping[str, str]) -> Sample:
        """Run ``argv`` once (no shell, output to /dev/null); its wall time and peak RSS."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps({"argv": list(argv), "env": dict(env)}) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise SystemExit("bench_cli: the spawner process died")
        seconds, max_rss_kib, code, cpu = json.loads(answer)
        if code != 0:
            again = subprocess.run(
                list(argv), env=dict(env), capture_output=True, text=True, timeout=60, check=False
            )
            raise SystemExit(
                f"bench_cli: {' '.join(argv)} exited {code}:\n{again.stdout}{again.stderr}"
            )
        return Sample(float(seconds), int(max_rss_kib), float(cpu))  # KiB on Linux

    def close(self) -> None:
        """Stop the helper (it exits at the end of its input)."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()


def cases(cli: Path, python: str) -> tuple[Case, ...]:
    """The benchmark's rows: the baseline, the commands, the SDK, then the floors."""
    script = str(cli)
    file_target = Target(1.5, above_floor=True)
    return (
        Case("baseline", "python -c pass (baseline)", ((python, "-c", "pass"),), "none"),
        Case(
            "no-site",
            "python -S -c pass (no site, no .pth files)",
            ((python, "-S", "-c", "pass"),),
            "none",
        ),
        Case(
            "help",
            "buildwithtrace --help",
            ((script, "--help"),),
            "none",
            floor="baseline",
            target=Target(3),
        ),
        Case(
            "version", "buildwithtrace --version", ((script, "--version"),), "none", "floor-click"
        ),
        Case(
            "status-file",
            "byok status (key in file store)",
            ((script, "byok", "status"),),
            "file",
            floor="floor-stack",
            target=file_target,
            memory=True,
        ),
        Case(
            "status-keychain",
            "byok status (key in keychain)",
            ((script, "byok", "status"),),
            "keychain",
            floor="floor-keychain",
            target=Target(1.3, of_case="status-file"),
        ),
        Case(
            "use",
            "byok use anthropic|trace (file store)",
            ((script, "byok", "use", "anthropic"), (script, "byok", "use", "trace")),
            "file",
            floor="floor-stack",
            target=file_target,
        ),
        Case(
            "model",
            "byok model (file store)",
            (
                (script, "byok", "model", "claude-bench-a", "--provider", "anthropic"),
                (script, "byok", "model", "claude-bench-b", "--provider", "anthropic"),
            ),
            "file",
            floor="floor-stack",
            target=file_target,
        ),
        Case(
            "sdk-file",
            "SDK: fresh process to the first chat event (key in file store)",
            ((python, "-c", _SDK_FIRST_EVENT),),
            "sdk-file",
            floor="floor-sdk",
        ),
        Case(
            "sdk-keychain",
            "SDK: fresh process to the first chat event (key in keychain)",
            ((python, "-c", _SDK_FIRST_EVENT),),
            "sdk-keychain",
            floor="floor-sdk-keychain",
        ),
        *_floors(python),
    )


def _chosen(every: Sequence[Case], keys: str | None) -> tuple[Case, ...]:
    """The cases named in ``keys`` (all when None), the baseline and their floors."""
    if keys is None:
        return tuple(every)
    wanted = {"baseline", *keys.split(",")}
    unknown = wanted - {c.key for c in every}
    if unknown:
        raise SystemExit(f"bench_cli: no such case: {', '.join(sorted(unknown))}")
    wanted |= {c.floor for c in every if c.key in wanted and c.floor}
    wanted |= {c.target.of_case for c in every if c.key in wanted and c.target and c.target.of_case}
    return tuple(c for c in every if c.key in wanted)


def _floors(python: str) -> tuple[Case, ...]:
    """Rows that import the mandated libraries and nothing else: what we cannot go under."""
    rows = (
        ("floor-click", "floor: import click", "click"),
        ("floor-attrs", "floor: import attrs", "attrs"),
        (
            "floor-di",
            "floor: import dependency_injector",
            "dependency_injector.containers, dependency_injector.providers",
        ),
        ("floor-stack", "floor: click + attrs + dependency_injector", _STACK),
        # Informational: the CLI defers the cyclic collector during start-up and freezes
        # what start-up built (entrypoints/cli/__init__.py), which also spares the floor's
        # own objects; this row shows the floor with the same treatment.
        (
            "floor-stack-gc",
            "floor: the same, collector deferred as the CLI does",
            f"gc; gc.disable(); import {_STACK}; gc.freeze()",
        ),
        (
            "floor-keychain",
            "floor: click + attrs + dependency_injector + keyring + secretstorage",
            f"{_STACK}, {_KEYRING}",
        ),
        ("floor-sdk", "floor: attrs + dependency_injector + httpx (the SDK's)", _SDK_STACK),
        (
            "floor-sdk-keychain",
            "floor: the SDK's + keyring + secretstorage",
            f"{_SDK_STACK}, {_KEYRING}",
        ),
    )
    return tuple(
        Case(key, label, ((python, "-c", f"import {modules}"),), "none")
        for key, label, modules in rows
    )


def measure(
    spawner: Spawner,
    selected: Sequence[Case],
    envs: Environments,
    rounds: int,
    warmup: int,
    seed: int = 7,
) -> dict[str, list[Sample]]:
    """Run every case once per round, in a shuffled order; warm-up rounds are discarded."""
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[Sample]] = {case.key: [] for case in selected}
    for number in range(warmup + rounds):
        order = list(selected)
        shuffle(order)
        for case in order:
            argv = case.variants[number % len(case.variants)]
            sample = spawner.run(argv, envs.by_profile[case.profile])
            if number >= warmup:
                samples[case.key].append(sample)
    return samples


def _ratio(samples: Mapping[str, list[Sample]], key: str, base: float, clock: str) -> float | None:
    if key not in samples:
        return None
    return median([s.time(clock) for s in samples[key]]) / base


def table(
    selected: Sequence[Case],
    samples: Mapping[str, list[Sample]],
    envs: Environments,
    notes: Sequence[str],
    clock: str = "wall",
) -> Table:
    """The CLI table: medians, ratios to the baseline, floor + ours, targets, peak memory."""
    base = median([s.time(clock) for s in samples["baseline"]])
    labels = {case.key: case.label for case in selected}
    rows: list[Row] = []
    for case in selected:
        target = case.target.describe(labels) if case.target else ""
        if case.key not in samples:
            reason = envs.skipped.get(case.profile, "not run")
            rows.append(Row(case.label, "-", "-", target, f"skipped: {reason}", more=("", "")))
            continue
        seconds = median([s.time(clock) for s in samples[case.key]])
        ratio = seconds / base
        floor = _ratio(samples, case.floor, base, clock) if case.floor else None
        rss = median([s.max_rss_kib for s in samples[case.key]]) / 1024
        rows.append(
            Row(
                case.label,
                f"{seconds * 1000:.1f} ms",
                f"{ratio:.2f}×",
                target,
                _verdict(case.target, ratio, floor, samples, base, clock),
                f"{rss:.1f} MiB",
                more=(
                    f"{floor:.2f}×" if floor is not None else "",
                    f"{ratio - floor:+.2f}×" if floor is not None else "",
                ),
            )
        )
        if case.memory:
            rows.append(
                Row(
                    f"{case.label}: peak memory",
                    f"{rss:.1f} MiB",
                    "",
                    f"≤ {MEMORY_TARGET_MIB:g} MiB",
                    "ok" if rss <= MEMORY_TARGET_MIB else "over",
                    "ru_maxrss, median",
                    more=("", ""),
                )
            )
    title = "Start-up of the CLI and the SDK (a regular install)"
    if clock == "cpu":
        title += ", CPU time (user + system)"
    return Table(
        title,
        ("case", "median", "× baseline", "floor", "ours", "target", "verdict", "peak RSS"),
        tuple(rows),
        tuple(notes),
    )


def _verdict(
    target: Target | None,
    ratio: float,
    floor: float | None,
    samples: Mapping[str, list[Sample]],
    base: float,
    clock: str,
) -> str:
    if target is None:
        return ""
    if target.of_case is not None:
        other = _ratio(samples, target.of_case, base, clock)
        if other is None:
            return "-"
        return f"{'ok' if ratio <= target.limit * other else 'over'} ({ratio / other:.2f}×)"
    if target.above_floor:
        if floor is None:
            return "-"
        return "ok" if ratio - floor <= target.limit else "over"
    return "ok" if ratio <= target.limit else "over"


_CPU_NOTE = (
    "The same runs, timed by the CPU time the child used (user + system, from `os.wait4`): "
    "time spent waiting for a CPU on a busy machine is left out, so these ratios move less "
    "from run to run; time spent waiting for the disk or the Secret Service is left out too."
)


def run_notes(
    runs: str, python: str, samples: Mapping[str, list[Sample]], dev_python: str | None
) -> list[str]:
    """What the reader needs to compare this run with another one."""
    notes = [
        f"{runs}; medians; ratios to `python -c pass` run by the same venv's interpreter in "
        "the same rounds. *floor*: the row that imports only the libraries the design "
        "mandates for that command; *ours*: the command's ratio minus its floor's. Since issue "
        "14 the CLI keeps the cyclic collector off during start-up and freezes what it built, "
        "which spares the floor's objects too: the informational row *collector deferred "
        "as the CLI does* is that floor with the same treatment.",
        machine().replace(f"({sys.executable})", f"({python})") + ".",
    ]
    pth = pth_files(python)
    notes.append(
        "The measured venv is a regular install (`pip install .`, no extras, not editable); "
        "its `.pth` files: " + (", ".join(f"`{p}`" for p in pth) or "none") + "."
    )
    if dev_python is not None and "dev-baseline" in samples:
        base = median([s.seconds for s in samples["baseline"]])
        dev = median([s.seconds for s in samples["dev-baseline"]])
        notes.append(
            f"For comparison, `python -c pass` in the development venv (editable install, "
            f"coverage hook: {', '.join(f'`{p}`' for p in pth_files(dev_python)) or 'none'}) "
            f"took {dev * 1000:.1f} ms ({dev / base:.2f}× this baseline), which is why "
            "ratios measured there read lower."
        )
    return notes


# --- python -X importtime summaries ----------------------------------------------------

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@attrs.frozen
class ImportProfile:
    """Self time (µs) of each module ``-X importtime`` reported."""

    self_us: dict[str, int]

    def watched(self) -> tuple[str, ...]:
        """The watched libraries this run imported."""
        return tuple(m for m in WATCHED_MODULES if m in self.self_us)


def import_profile(stderr: str) -> ImportProfile:
    """Parse ``-X importtime`` output."""
    found: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is not None:
            found[match.group(4)] = int(match.group(1))
    return ImportProfile(found)


def _group(module: str) -> str:
    """``ours`` for our packages, else the top-level package (stdlib ones included)."""
    top = module.split(".", 1)[0]
    return "ours" if top in OUR_PACKAGES else top


def _importtime(python: str, argv: Sequence[str], env: Mapping[str, str]) -> ImportProfile:
    command = [python, "-X", "importtime", *argv]
    done = subprocess.run(
        command, env=dict(env), capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench_cli: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return import_profile(done.stderr)


def _medians(profiles: Sequence[ImportProfile], names: set[str]) -> dict[str, float]:
    """Median self time in ms per module (0 in a run that did not import it)."""
    return {n: median([p.self_us.get(n, 0) for p in profiles]) / 1000 for n in names}


def importtime_section(
    cli: Path, python: str, envs: Environments, selected: Sequence[Case], repeats: int
) -> str:
    """Markdown: for each hot command, import self time per package (median of ``repeats``)."""
    startup = [_importtime(python, ("-c", "pass"), envs.base) for _ in range(repeats)]
    startup_names = set().union(*(p.self_us for p in startup))
    startup_ms = sum(_medians(startup, startup_names).values())
    parts = [
        "Self time of each import under `python -X importtime`, median of "
        f"{repeats} run(s) per command. The tracing inflates every figure: compare them "
        "with each other, not with the table above. Modules that `python -c pass` imports "
        f"too (interpreter start-up, `site`, `.pth` files: {len(startup_names)} modules, "
        f"{startup_ms:.1f} ms here) are left out; *ours* is `domain`, `application`, "
        "`adapters` and `entrypoints` (the attrs classes they define are built while they "
        "import, so that work counts as ours).",
        "",
        "| command | modules | ms | largest top-level packages (ms) | our largest modules (ms) | "
        "watched libraries imported |",
        "|---|---|---|---|---|---|",
    ]
    for case in selected:
        if case.variants[0][0] != str(cli) or case.profile in envs.skipped:
            continue
        argv = case.variants[0]
        env = envs.by_profile[case.profile]
        profiles = [_importtime(python, argv, env) for _ in range(repeats)]
        names = set().union(*(p.self_us for p in profiles)) - startup_names
        per_module = _medians(profiles, names)
        groups: dict[str, float] = defaultdict(float)
        for name, ms in per_module.items():
            groups[_group(name)] += ms
        top = sorted(groups.items(), key=lambda item: -item[1])[:6]
        ours = sorted(
            ((n, ms) for n, ms in per_module.items() if _group(n) == "ours"),
            key=lambda item: -item[1],
        )[:4]
        watched = [m for m in profiles[-1].watched() if m not in startup_names]
        command = " ".join(["buildwithtrace", *argv[1:]])
        where = f" ({case.profile} store)" if case.profile != "none" else ""
        parts.append(
            f"| `{command}`{where} | {len(names)} | "
            f"{sum(per_module.values()):.1f} | "
            + ", ".join(f"{g} {ms:.1f}" for g, ms in top)
            + " | "
            + (", ".join(f"{n} {ms:.1f}" for n, ms in ours) or "-")
            + " | "
            + (", ".join(f"`{m}`" for m in watched) or "none")
            + " |"
        )
    parts.append("")
    parts.append(
        "Watched libraries: " + ", ".join(f"`{m}`" for m in WATCHED_MODULES) + "; a library "
        "missing from a row was not imported by that command."
    )
    return "\n".join(parts)


# --- the keychain and the backend ------------------------------------------------------


@contextlib.contextmanager
def secret_service(enabled: bool) -> Iterator[str | None]:
    """A running Secret Service's bus address: the ambient throwaway one, else our own."""
    if not enabled:
        yield None
        return
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address and os.environ.get("SECRET_SERVICE_TEST_PASSWORD"):
        yield address  # scripts/with-keychain started it; it is a throwaway
        return
    from tests.support.keychain import PrivateSecretService, SecretServiceUnavailableError

    service = PrivateSecretService()
    try:
        running = service.start()
    except SecretServiceUnavailableError as exc:
        print(f"bench_cli: no keychain case: {exc}", file=sys.stderr)
        service.stop()
        yield None
        return
    try:
        yield running.address
    finally:
        service.stop()


@contextlib.contextmanager
def protocol_server(turns: int) -> Iterator[str]:
    """A local Trace backend with ``turns`` one-line chat turns; yields its URL."""
    from tests.support.protocol_server import ProtocolServer, simple_turn

    server = ProtocolServer(
        {"token": BENCH_TOKEN, "turns": [simple_turn("V") for _ in range(turns)]}
    )
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table (and write it into a markdown file if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add_common_arguments(parser)
    parser.add_argument("--rounds", type=int, help="timed rounds (default 30; quick 10)")
    parser.add_argument(
        "--importtime", action="store_true", help="also summarise -X importtime per command"
    )
    parser.add_argument("--no-keychain", action="store_true", help="skip the keychain cases")
    parser.add_argument(
        "--cases",
        metavar="KEY,...",
        help="time only these cases (with the baseline and their floors), e.g. "
        "status-file,use; keys: " + ", ".join(c.key for c in cases(Path("x"), "python")),
    )
    parser.add_argument(
        "--venv",
        type=Path,
        metavar="DIR",
        help="time the install in this venv instead of building a regular install of this "
        f"checkout in {DEFAULT_VENV.relative_to(DEFAULT_VENV.parents[1])}",
    )
    parser.add_argument(
        "--section",
        default="bench_cli",
        help="the markers to write between in --markdown (e.g. bench_cli.before for a run "
        "of an older commit with --source)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help="run another checkout's code (e.g. `git archive` of an older commit) through "
        "the installed console script, to compare before and after",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.smoke else 10 if args.quick else 30)
    warmup = 1 if args.smoke or args.quick else 3
    if args.venv is not None:
        cli = args.venv / "bin" / "buildwithtrace"
        if not cli.exists():
            raise SystemExit(f"bench_cli: no buildwithtrace console script in {args.venv}")
    else:
        cli = regular_install()
    python = script_interpreter(cli)
    dev_python = sys.executable if Path(sys.executable) != Path(python) else None
    selected = _chosen(cases(cli, python), args.cases)
    workdir = Path(tempfile.mkdtemp(prefix="trace-bench-cli-"))
    sdk_turns = 2 * (rounds + warmup) + 4
    try:
        with (
            secret_service(not args.no_keychain) as address,
            protocol_server(sdk_turns) as backend_url,
        ):
            envs = Environments(cli, workdir, address, args.source, backend_url)
            try:
                runnable = [c for c in selected if c.profile not in envs.skipped]
                if dev_python is not None:  # informational: the development venv's baseline
                    runnable.append(Case("dev-baseline", "", ((dev_python, "-c", "pass"),), "none"))
                spawner = Spawner(python)
                try:
                    samples = measure(spawner, runnable, envs, rounds, warmup)
                finally:
                    spawner.close()
                runs = f"{rounds} rounds after {warmup} warm-up round(s)"
                result = table(
                    selected, samples, envs, run_notes(runs, python, samples, dev_python)
                )
                # The same samples by CPU time: what load from other jobs distorts least.
                cpu = table(selected, samples, envs, (_CPU_NOTE,), clock="cpu")
                print(result.text() + "\n\n" + cpu.text())
                section = result.markdown() + "\n\n" + cpu.markdown()
                if args.importtime:
                    imports = importtime_section(
                        cli, python, envs, runnable, 1 if args.smoke else 3
                    )
                    print("\n== python -X importtime, per command\n" + imports)
                if args.markdown is not None:
                    command = "python -m tests.benchmarks.bench_cli"
                    how = command + (" --source DIR" if args.source else "") + " --markdown FILE"
                    write_section(args.markdown, args.section, section, how)
                    if args.importtime:
                        write_section(
                            args.markdown,
                            "bench_cli.importtime",
                            imports,
                            command + " --importtime --markdown FILE",
                        )
            finally:
                if address is not None and os.environ.get("SECRET_SERVICE_TEST_PASSWORD"):
                    envs.cleanup()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
