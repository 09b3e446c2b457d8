"""Pytest plugin of the reliability suite: the quick/soak profile and the figures each test records.

Loaded by ``tests/conftest.py`` for every run, so ``pytest --soak`` works from the
repository root. The soak profile is chosen by ``--soak`` or ``RELIABILITY_SOAK=1``
(not a ``TRACE_*`` name: the isolation fixture scrubs those), read once at start-up.

A test asks for the ``figures`` fixture and records what it measured: totals
(``figures.add``: counts summed over parametrised cases) and peaks (``figures.peak``:
the maximum, e.g. a latency). The figures travel in the test report's
``user_properties`` under :data:`FIGURES_KEY`; this plugin prints them after the run,
and ``tests.reliability.report`` turns them into docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

SOAK_ENV = "RELIABILITY_SOAK"
FIGURES_KEY = "reliability_figures"
_HERE = Path(__file__).resolve().parent
_SOAK = pytest.StashKey[bool]()


@attrs.frozen
class Profile:
    """How hard the suite pushes: the quick CI profile or the long soak."""

    name: str
    processes: int  # concurrent writers in the lost-update tests
    rounds: int  # rounds each writer runs
    kills: int  # SIGKILLs per crash-safety test
    examples: int  # hypothesis examples per property (HTTP ones use a fraction)
    watch_writes: int  # writes watched by the permission poller
    fault_commands: int  # commands per keychain fault (first N of the list)


QUICK = Profile(
    "quick", processes=8, rounds=3, kills=50, examples=60, watch_writes=60, fault_commands=3
)
SOAK = Profile(
    "soak", processes=32, rounds=20, kills=500, examples=1000, watch_writes=600, fault_commands=6
)


def soak_requested(config: pytest.Config) -> bool:
    """Whether this run uses the soak profile."""
    return config.stash.get(_SOAK, False)


class Figures:
    """What one test measured: totals (summed across cases) and peaks (maxima)."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, Any]] = {}

    def add(self, name: str, amount: float = 1) -> None:
        """Add ``amount`` to the total ``name``."""
        entry = self._values.setdefault(name, {"kind": "total", "value": 0})
        entry["value"] += amount

    def peak(self, name: str, value: float) -> None:
        """Keep the largest ``value`` seen for ``name``."""
        entry = self._values.setdefault(name, {"kind": "max", "value": value})
        entry["value"] = max(entry["value"], value)

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Time the block; ``name`` keeps the slowest run (seconds)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.peak(name, time.monotonic() - started)

    def get(self, name: str) -> float:
        """The current value of ``name`` (0 if never recorded)."""
        entry = self._values.get(name)
        return 0 if entry is None else float(entry["value"])

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-ready: name -> {"kind": "total"|"max", "value": number}."""
        return {name: dict(entry) for name, entry in self._values.items()}


def format_value(name: str, value: float) -> str:
    """A figure for people: seconds with a unit, bytes in MiB, counts as integers."""
    if name.endswith("_s"):
        return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"
    if name.endswith("_mib"):
        return f"{value:.1f} MiB"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}"


def format_figures(figures: dict[str, dict[str, Any]]) -> str:
    """``name=value`` pairs, in recording order."""
    return ", ".join(f"{name}={format_value(name, e['value'])}" for name, e in figures.items())


# --- hooks ------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--soak``: the long profile of the reliability suite."""
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help=f"run the reliability suite's long soak profile (or set {SOAK_ENV}=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Fix the profile for the whole run (before any fixture scrubs the environment)."""
    config.stash[_SOAK] = bool(config.getoption("--soak")) or os.environ.get(SOAK_ENV) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this suite's tests ``reliability``; skip ``soak``-only tests in the quick profile."""
    soak = soak_requested(config)
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.reliability)
        if not soak and item.get_closest_marker("soak") is not None:
            item.add_marker(pytest.mark.skip(reason=f"soak profile only (--soak or {SOAK_ENV}=1)"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the figures a test recorded (they arrive with its teardown report)."""
    if report.when != "teardown":
        return
    for key, value in report.user_properties:
        if key == FIGURES_KEY and isinstance(value, dict):
            _collected_list.append((report.nodeid, value))


_collected_list: list[tuple[str, dict[str, Any]]] = []


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print every test's figures after the run."""
    if not _collected_list:
        return
    profile = SOAK if soak_requested(config) else QUICK
    terminalreporter.section(f"reliability figures ({profile.name} profile)")
    for nodeid, figures in _collected_list:
        terminalreporter.write_line(f"{nodeid}: {format_figures(figures) or '(none)'}")
    _collected_list.clear()


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture
def profile(request: pytest.FixtureRequest) -> Profile:
    """The profile of this run (quick unless --soak / RELIABILITY_SOAK=1)."""
    return SOAK if soak_requested(request.config) else QUICK


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """Where the test records what it measured; attached to its report afterwards."""
    recorded = Figures()
    yield recorded
    request.node.user_properties.append((FIGURES_KEY, recorded.as_dict()))
