"""The mode rule (DESIGN section 8): which tools each mode runs, whatever the backend asks."""

from __future__ import annotations

import pytest

from domain.chat import ChatMode
from domain.tools import READ_ONLY_TOOLS, WRITING_TOOLS, is_read_only

READ = ["read_file", "list_dir", "grep", "get_erc_violations", "get_drc_violations"]
WRITE = ["write", "search_replace", "delete_trace_file"]
UNKNOWN = ["run_shell", "", "READ_FILE", "read_file ", "read_file\x00", "x" * 10_000]


def test_the_lists_are_the_design_tables() -> None:
    assert sorted(READ_ONLY_TOOLS) == sorted(READ)
    assert sorted(WRITING_TOOLS) == sorted(WRITE)
    assert not READ_ONLY_TOOLS & WRITING_TOOLS


@pytest.mark.parametrize(
    ("mode", "tool", "allowed"),
    [(m, t, True) for m in ChatMode for t in READ]
    + [(m, t, m is ChatMode.AGENT) for m in ChatMode for t in WRITE + UNKNOWN],
)
def test_ask_and_plan_run_read_only_tools_only(mode: ChatMode, tool: str, allowed: bool) -> None:
    assert mode.allows(tool) is allowed


@pytest.mark.parametrize("tool", UNKNOWN)
def test_an_unknown_name_is_never_read_only(tool: str) -> None:
    assert not is_read_only(tool)


@pytest.mark.parametrize("mode", [ChatMode.ASK, ChatMode.PLAN])
def test_the_refusal_names_the_mode_and_how_to_allow_it(mode: ChatMode) -> None:
    text = mode.refusal("write")

    assert f"{mode.value} mode" in text
    assert "'write'" in text
    assert "--mode agent" in text
    assert 'mode="agent"' in text


def test_the_refusal_quotes_a_huge_name_shortly() -> None:
    assert len(ChatMode.ASK.refusal("w" * 1_000_000)) < 400
