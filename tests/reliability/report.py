"""Run the reliability suite and write docs/reliability.md from the figures it measured.

    python -m tests.reliability.report            # the quick profile (what CI runs)
    python -m tests.reliability.report --soak     # the long soak profile
    python -m tests.reliability.report --soak --output docs/reliability-soak.md

The suite runs in this process (``pytest.main``) with a plugin that collects, per
test, its outcome, duration, docstring and the figures it recorded; the document's
numbers all come from that run. Its words come from the tests' docstrings (what was
checked) and the modules' docstrings (the area), so the document follows the code.
Extra arguments go to pytest (e.g. ``-k lost``); the exit code is pytest's.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

# tests.reliability.plugin is imported only once pytest has loaded it (tests/conftest.py
# names it): importing it first would stop pytest from rewriting its asserts.
FIGURES_KEY = "reliability_figures"  # the same as tests.reliability.plugin.FIGURES_KEY
HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
OUTPUT = REPO_ROOT / "docs" / "reliability.md"
# The areas of issue 6, in its order, then the trust-boundary classes of issue 10, then
# the later issues' (a module missing here is missing from the document: a test checks).
MODULES = (
    "test_lost_updates",
    "test_crash_safety",
    "test_permissions",
    "test_corruption",
    "test_keychain_faults",
    "test_hostile_input",
    "test_backend_faults",
    "test_secret_leaks",
    "test_hostile_backend",
    "test_hostile_tools",
    "test_login_hijack",
    "test_local_users",
    "test_loopback_only",
    "test_review_attacks",
    # Issue 11 (a config directory that cannot be written) and issue 13 (key sources).
    "test_read_only_config",
    "test_key_sources",
    "test_key_source_review",
)
FOUND = (
    "Keychain: a key another process deleted between keyring's search and read (or "
    "create and inspect) made the command report the keychain as unusable (exit 5); "
    "the item is now tried again, after a short random pause.",
    "Waiters for the file lock polled every 50 ms and starved under many concurrent "
    "writers, coming close to the 10 s lock timeout; they poll every 5 ms now.",
    "A killed writer's temp file (holding every secret, even removed ones) stayed in "
    "the config directory forever; the next holder of the lock now deletes it.",
    "A config.toml owned by another user was read and then replaced; its settings "
    "could have pointed the backend at that user's server. It is now refused (exit 5).",
    "Missing parents of the config directory were created 0777 minus the umask "
    "(world-writable under umask 000); they are now 0700, as XDG asks.",
    "`auth login` went to the network (retrying for seconds) before finding the "
    "secret store unusable; it now reads the store first.",
    "The SSE decoder re-joined an unfinished line on every chunk (quadratic) and "
    "buffered a never-ending line without limit; it is linear now and stops at 64 MiB "
    "(24 MiB since issue 10, every byte counted).",
    "A CLI aborted while holding a key wrote a core file containing the key; the CLI "
    "now disables core dumps for itself.",
    "An error event from the backend quoting the key was printed by `chat` and kept in "
    "the SDK's `ChatReply.errors`; error and status events are now masked.",
    "A key pasted as a model id (`chat --model`, SDK `llm_model_id`) was sent to the "
    "backend as the model name; it is now refused like in config.toml.",
    # Issue 10: the trust boundary (docs/security.md has the threat-model table).
    "grep followed a visible link to a hidden file (`notes.txt -> .env`, `.git/config`) "
    "and list_dir listed hidden entries: one path policy now covers every path a tool is "
    "given or reaches.",
    "A catastrophic grep pattern froze every thread (Python's `re` holds the GIL) and "
    "ignored Ctrl-C; grep now runs on RE2 with a 5 s deadline and honours cancel.",
    "`--mode ask` (the default) and `plan` ran `write` when the backend asked; the mode is "
    "now enforced locally.",
    "Another local user could read the login URL in /proc and log the victim into the "
    "attacker's account with a forged callback; login is now a device-code flow.",
    "40 MiB of empty `data:` lines took 40 s and 630 MiB; grep loaded whole files; a turn "
    "kept every tool result: all now bounded (figures above).",
    "Escape sequences from the backend (OSC 52, hidden text) reached the terminal; keys "
    "echoed in thinking/file_edit/metrics reached --json; NaN made --json invalid.",
    "`http://localhost.:PORT` passed the loopback check but was resolved by DNS.",
    "kicad-cli inherited `*_API_KEY` and the Trace token.",
    "A config directory owned by another user was accepted and a planted config.toml "
    "link made the victim write into ~/.bash_login.",
    "`PACKAGE.JSON` and `package-lock.json` could be written.",
    "A second review: a flood of tool calls filled memory (345 MiB for 300 calls), events "
    "nested 700 deep crashed the turn, a 400 MiB profile answer was read whole, a "
    "kicad-cli planted in the project could run, backslashed paths escaped the Node "
    "runner on Windows, agent configs such as opencode.json could be written.",
)


@attrs.define
class Row:
    """One test function, its parametrised cases merged."""

    module: str
    name: str
    doc: str
    cases: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    figures: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    @property
    def outcome(self) -> str:
        """passed / FAILED / skipped, with counts when mixed."""
        if self.failed:
            return f"**FAILED** ({self.failed} of {self.cases})"
        if self.skipped == self.cases:
            return "skipped"
        if self.skipped:
            return f"passed ({self.skipped} skipped)"
        return "passed"


class Collector:
    """A pytest plugin that gathers rows for the report."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}
        self._keys: dict[str, tuple[str, str]] = {}
        self.header: list[str] = []

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Remember each test's function, module and docstring."""
        for item in items:
            function = getattr(item, "function", None)
            module = Path(str(item.path)).stem
            name = getattr(function, "__name__", item.name)
            key = (module, name)
            self._keys[item.nodeid] = key
            if key not in self.rows:
                doc = " ".join((getattr(function, "__doc__", None) or "").split())
                self.rows[key] = Row(module, name, doc)
            self.rows[key].cases += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Outcome, time and figures of each phase."""
        key = self._keys.get(report.nodeid)
        if key is None:
            return
        row = self.rows[key]
        row.seconds += report.duration
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.passed:
                row.passed += 1
            elif report.skipped:
                row.skipped += 1
            else:
                row.failed += 1
        elif report.when == "teardown" and report.failed:
            row.failed += 1
        if report.when == "teardown":
            for name, value in report.user_properties:
                if name == FIGURES_KEY and isinstance(value, dict):
                    _merge(row.figures, value)


def _merge(into: dict[str, dict[str, Any]], figures: dict[str, dict[str, Any]]) -> None:
    for name, entry in figures.items():
        if name not in into:
            into[name] = dict(entry)
        elif entry["kind"] == "total":
            into[name]["value"] += entry["value"]
        else:
            into[name]["value"] = max(into[name]["value"], entry["value"])


def _title(module: str) -> str:
    return module.removeprefix("test_").replace("_", " ").capitalize()


def _module_title(module: str) -> str:
    """The module docstring's title line, minus the area name it starts with."""
    source = (HERE / f"{module}.py").read_text(encoding="utf-8")
    first = source.split('"""', 2)[1].strip().splitlines()[0] if source.startswith('"""') else ""
    head, _, rest = first.partition(": ")
    return f"*{(rest or head).strip()}*"


def _module_intro(module: str) -> str:
    """The module docstring's first paragraph after its title line."""
    source = (HERE / f"{module}.py").read_text(encoding="utf-8")
    doc = source.split('"""', 2)[1] if source.startswith('"""') else ""
    paragraphs = doc.strip().split("\n\n")
    body = paragraphs[1] if len(paragraphs) > 1 else paragraphs[0]
    return " ".join(body.split())


def _figure_text(figures: dict[str, dict[str, Any]]) -> str:
    from tests.reliability.plugin import format_value

    if not figures:
        return "–"
    parts = []
    for name, entry in figures.items():
        label = name.removesuffix("_s").removesuffix("_mib").replace("_", " ")
        parts.append(f"{label}: {format_value(name, entry['value'])}")
    return "<br>".join(parts)


def _check_name(name: str) -> str:
    return name.removeprefix("test_").replace("_", " ")


def render(rows: list[Row], profile: str, seconds: float, exit_code: int) -> str:
    """The whole document."""
    from tests.reliability.plugin import QUICK, SOAK

    total_cases = sum(r.cases for r in rows)
    failed = sum(r.failed for r in rows)
    numbers = SOAK if profile == "soak" else QUICK
    lines = [
        "# Reliability and security figures",
        "",
        "<!-- Generated by `python -m tests.reliability.report"
        + (" --soak" if profile == "soak" else "")
        + "`; do not edit by hand. -->",
        "",
        "Generated by `python -m tests.reliability.report` from one run of the suite in "
        "`tests/reliability/` (issue 6, and issue 10's trust boundary: the threat model is in "
        "[security.md](security.md)). Every number below was measured in that run; the "
        "words come from the tests' docstrings. Run it again to refresh this page "
        "(`--soak` for the long profile).",
        "",
        f"- Profile: **{profile}** ({numbers.processes} processes x {numbers.rounds} rounds "
        f"for lost updates, {numbers.kills} SIGKILLs, {numbers.examples} hypothesis examples "
        "per property, more for the cheap ones)",
        f"- Result: **{sum(r.passed for r in rows)} of {total_cases} cases passed**, "
        f"{failed} failed, {sum(r.skipped for r in rows)} skipped (soak-only checks in the "
        f"quick profile), pytest exit code {exit_code}",
        f"- Wall time: {seconds:.1f} s on {os.cpu_count()} CPU(s), Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        "- Quick profile by default (CI: `pytest` runs it); the soak: `pytest --soak "
        "tests/reliability` or `RELIABILITY_SOAK=1`"
        + (
            "; figures of the last soak run: [reliability-soak.md](reliability-soak.md)."
            if profile == "quick"
            else "."
        ),
        "",
    ]
    number = 0
    explanations: list[str] = []
    for module in MODULES:
        module_rows = [r for r in rows if r.module == module]
        if not module_rows:
            continue
        lines += [f"## {_title(module)}", "", _module_title(module), "", _module_intro(module), ""]
        lines += ["| # | Check | Cases | Outcome | Figures | Time |", "|---|---|---|---|---|---|"]
        for row in module_rows:
            number += 1
            lines.append(
                f"| {number} | {_check_name(row.name)} | {row.cases} | {row.outcome} | "
                f"{_figure_text(row.figures)} | {row.seconds:.1f} s |"
            )
            explanations.append(f"{number}. **{_check_name(row.name)}**: {row.doc}")
        lines.append("")
    lines += ["## What each row checked", "", *explanations, ""]
    lines += [
        "## Found and fixed by this suite",
        "",
        *(f"- {text}" for text in FOUND),
        "",
        "A figure named *violations* counts broken properties and must be 0; *max … latency* "
        "and other times are the slowest single operation seen.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite, write the document, return pytest's exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    soak = "--soak" in args
    output = OUTPUT
    if "--output" in args:
        at = args.index("--output")
        output = Path(args[at + 1]).resolve()
        del args[at : at + 2]
    collector = Collector()
    paths = [str(HERE / f"{module}.py") for module in MODULES]
    started = time.monotonic()
    code = pytest.main([*paths, "-q", "-p", "no:cacheprovider", *args], plugins=[collector])
    seconds = time.monotonic() - started
    rows = list(collector.rows.values())
    output.write_text(render(rows, "soak" if soak else "quick", seconds, int(code)), "utf-8")
    print(f"wrote {output} ({seconds:.1f} s)")
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
