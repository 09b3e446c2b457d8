"""The shared tool, mode, masking and SSE tables (tests/shared/) through the Python side.

The Node suite runs the same files through its own runner and masker
(node/test/tool-cases.test.ts, node/test/masking-cases.test.ts), so the two runners
cannot drift apart. Here: every tool case gives the recorded result through
``LocalToolRunner``; the mode table matches ``ChatMode``; the masking vectors and the
Node runner's generated policy lists are exactly what their generators write today.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.shared import masking_cases, sse_cases, tool_cases, tool_policy

_TABLE = tool_cases.load()


@pytest.mark.parametrize("case", _TABLE["cases"], ids=[c["name"] for c in _TABLE["cases"]])
def test_every_tool_case_gives_the_recorded_result(case: dict[str, Any], tmp_path: Path) -> None:
    """Each call's result text and error flag, and the tree after the calls, are as recorded."""
    assert tool_cases.run_case(case, _TABLE["trees"], tmp_path) == []


def test_the_mode_table_is_what_chat_mode_says() -> None:
    """Which tools each mode runs, and the refusal's words, as the table records them."""
    assert tool_cases.modes() == _TABLE["modes"]


def test_the_node_runner_uses_the_python_lists() -> None:
    """node/src/tools/policy-data.ts is what the generator writes from the Python lists now."""
    assert tool_policy.main(["--check"]) == 0


def test_the_masking_vectors_are_the_python_maskers_output() -> None:
    """tests/shared/masking-cases.json is what the Python masker gives for its inputs."""
    assert masking_cases.main(["--check"]) == 0


def test_the_sse_cases_are_the_python_parsers_output() -> None:
    """tests/shared/sse-cases.json is what the Python SSE parser gives for its inputs."""
    assert sse_cases.main(["--check"]) == 0
