"""Every ```python block of docs/sdk.md runs, as written, against the local protocol server.

Each block runs in a fresh namespace, in a temp directory holding ``board/power.kicad_sch``,
with its own config dir and the environment a CI job would have: ``TRACE_BASE_URL``
at the protocol server, ``TRACE_API_TOKEN``, the file secret store, and the made-up
keys the examples read (``OPENAI_API_KEY``, ``MY_ANTHROPIC_KEY``).

Markup the test understands (invisible when the page is rendered):

- ``<!-- sdk-test: agent -->`` on the line before a block: the server scripts a turn
  that reads and edits the schematic through the model's tools (default: plain
  text answers);
- a paragraph ``Output:`` followed by a ```text block right after a block: the
  block's standard output must be exactly that text.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from tests.support.files import REPO_ROOT
from tests.support.protocol_server import (
    TOKEN,
    ProtocolServer,
    done,
    metrics,
    text,
    tool_call,
)

DOC = REPO_ROOT / "docs" / "sdk.md"
SCHEMATIC = """(kicad_sch (version 20231120) (generator "eeschema")
  (symbol (lib_id "Device:C") (at 50 50 0)
    (property "Reference" "C1")
    (property "Value" "10nF")
  )
)
"""
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_SCENARIO = re.compile(r"<!--\s*sdk-test:\s*(\w+)\s*-->\s*$")


@attrs.frozen
class Example:
    """One python block of the page."""

    line: int
    code: str
    scenario: str
    output: str | None


def examples() -> list[Example]:
    """The page's python blocks, with their scenario and expected output."""
    page = DOC.read_text(encoding="utf-8")
    fences = list(_FENCE.finditer(page))
    found: list[Example] = []
    for index, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        before = page[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _SCENARIO.search(before)
        output = None
        following = fences[index + 1] if index + 1 < len(fences) else None
        if following is not None and following.group(1) == "text":
            between = page[fence.end() : following.start()].strip()
            if between == "Output:":
                output = following.group(2)
        found.append(
            Example(
                line=page.count("\n", 0, fence.start()) + 2,
                code=fence.group(2),
                scenario=marker.group(1) if marker else "text",
                output=output,
            )
        )
    return found


EXAMPLES = examples()


def script(server: ProtocolServer, scenario: str) -> None:
    """The turns the server plays for a block."""
    if scenario == "agent":
        server.add_turn(
            text("Reading the sheet. "),
            tool_call("t1", "read_file", {"target_file": "power.kicad_sch"}),
            tool_call(
                "t2",
                "search_replace",
                {"file_path": "power.kicad_sch", "old_string": '"10nF"', "new_string": '"100nF"'},
            ),
            text("C1 is now 100nF."),
            done("conv-agent"),
        )
        return
    assert scenario == "text", f"unknown sdk-test scenario {scenario!r}"
    for n in range(10):
        server.add_turn(
            text("C1 is 100nF; "), text("looks fine."), metrics(input_tokens=42), done(f"conv-{n}")
        )


def test_the_page_has_its_examples() -> None:
    assert len(EXAMPLES) >= 10
    assert any(e.scenario == "agent" for e in EXAMPLES)
    assert sum(e.output is not None for e in EXAMPLES) >= 3


@pytest.mark.parametrize("example", [pytest.param(e, id=f"line-{e.line}") for e in EXAMPLES])
def test_example_runs_against_the_protocol_server(
    example: Example,
    protocol_server: ProtocolServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    board = tmp_path / "board"
    board.mkdir()
    (board / "power.kicad_sch").write_text(SCHEMATIC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-docs-example-key-0001")
    monkeypatch.setenv("MY_ANTHROPIC_KEY", "sk-ant-docs-example-key-0002")
    script(protocol_server, example.scenario)

    code = compile(example.code, f"{DOC}:{example.line}", "exec")
    exec(code, {"__name__": "__main__"})  # noqa: S102 - our own documentation

    out = capsys.readouterr().out
    if example.output is not None:
        assert out == example.output
    assert protocol_server.problems == []
    if example.scenario == "agent":
        assert '"100nF"' in (board / "power.kicad_sch").read_text(encoding="utf-8")
        assert len(protocol_server.tool_results) == 2
