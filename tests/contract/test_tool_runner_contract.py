"""The ToolRunner port's contract, run against every implementation: scripted and local.

What the Chat use-case relies on: a call never raises (every failure is an error result
for the model), the result answers the call it was given, an unknown tool or arguments
that are not an object are refused, calls may run from several threads at once, and
``cancel()`` ends a running long call promptly and every later call at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest

from adapters.tools.local import LocalToolRunner
from adapters.tools.scripted import ScriptedToolRunner
from application.ports import ToolRunner
from domain.chat import ToolCall


@attrs.frozen
class Case:
    """One implementation, with a call that works and a call that runs until cancelled."""

    runner: ToolRunner
    working: ToolCall
    long: ToolCall


def _local(root: Path) -> Case:
    (root / "notes.md").write_text("R1 is 10k\n")
    (root / "board.kicad_sch").write_text("(kicad_sch)\n")
    # An EDA engine that never finishes: the long call, which cancel() must stop.
    engine = root.parent / "kicad-cli"
    engine.write_text("#!/bin/sh\nexec sleep 60\n")
    engine.chmod(0o755)
    runner = LocalToolRunner(root, kicad_cli=str(engine))
    return Case(
        runner,
        ToolCall("ok", "read_file", {"target_file": "notes.md"}),
        ToolCall("long", "get_erc_violations", {"file_path": "board.kicad_sch"}),
    )


def _scripted(_root: Path) -> Case:
    runner = ScriptedToolRunner({"read_file": "     1|R1 is 10k"}, blocking={"grep"})
    return Case(
        runner,
        ToolCall("ok", "read_file", {"target_file": "notes.md"}),
        ToolCall("long", "grep", {"pattern": "x"}),
    )


MAKERS: dict[str, Callable[[Path], Case]] = {"local": _local, "scripted": _scripted}


@pytest.fixture(params=sorted(MAKERS))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    """Each implementation, fresh, in its own project directory."""
    made = MAKERS[request.param](tmp_path)
    yield made
    made.runner.cancel()


def test_a_working_call_answers_that_call(case: Case) -> None:
    result = case.runner.run(case.working)

    assert result.tool_call_id == "ok"
    assert not result.is_error
    assert "R1 is 10k" in result.result


@pytest.mark.parametrize(
    "call",
    [
        ToolCall("u", "rm_rf", {"path": "/"}),
        ToolCall("u", "", {}),
        ToolCall("u", "read_file", ["not", "an", "object"]),  # type: ignore[arg-type]
        ToolCall("u", "read_file", "target_file=notes.md"),  # type: ignore[arg-type]
    ],
    ids=["unknown-tool", "empty-name", "list-arguments", "string-arguments"],
)
def test_a_bad_call_is_an_error_result_never_an_exception(case: Case, call: ToolCall) -> None:
    result = case.runner.run(call)

    assert result.tool_call_id == "u"
    assert result.is_error
    assert result.result


def test_calls_may_run_from_several_threads_at_once(case: Case) -> None:
    calls = [attrs.evolve(case.working, tool_call_id=f"c{n}") for n in range(16)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(case.runner.run, calls))

    assert [r.tool_call_id for r in results] == [c.tool_call_id for c in calls]
    assert not any(r.is_error for r in results)


def test_cancel_ends_a_running_call_promptly_and_every_later_call_at_once(case: Case) -> None:
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(case.runner.run(case.long)))
    worker.start()
    time.sleep(0.2)  # the long call is under way
    assert worker.is_alive()

    case.runner.cancel()
    worker.join(timeout=10)

    assert not worker.is_alive(), "the long call did not end after cancel()"
    [result] = outcome
    assert result.tool_call_id == "long"
    assert result.is_error
    assert "cancelled" in result.result
    later = case.runner.run(attrs.evolve(case.working, tool_call_id="after"))
    assert later.tool_call_id == "after"
    assert later.is_error
    assert "cancelled" in later.result
