"""read_file counts what it cuts in bulk; the count and notes equal the line-by-line rule.

The reference below is the line loop read_file used before counting in bulk: every
line past the cap is numbered and measured one at a time. Random files (CRLF, lone
CR, text that is not UTF-8, long lines, a last line without a newline) with random
offsets, limits, caps and read budgets must give byte-for-byte the same result.
"""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.tools.local import LocalToolRunner
from adapters.tools.local.output import CappedText
from domain.chat import ToolCall


def reference(
    data: bytes, offset: int, limit: int | None, max_chars: int, budget: int
) -> str | None:
    """The line-by-line read_file (None where it raises: offset past the end or budget)."""
    file = io.BytesIO(data)
    scanned = 0
    number = 0
    while number < offset - 1:
        raw = file.readline()
        if not raw or scanned + len(raw) > budget:
            return None
        scanned += len(raw)
        number += 1
    end = None if limit is None else offset + limit
    out = CappedText(max_chars)
    notes: list[str] = []
    while True:
        raw = file.readline(budget - scanned + 1)
        if not raw:
            break
        scanned += len(raw)
        if scanned > budget:
            notes.append(f"[stopped at the read limit of {budget} bytes: later lines not shown]")
            break
        number += 1
        if end is not None and number >= end:
            notes.append(f"[more lines follow: continue with offset={end}]")
            break
        text = raw.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8", "replace")
        out.add(f"{number:>6}|{text}")
    if out.empty:
        return None
    return out.text(*notes)


_PIECES = st.sampled_from(
    [b"(wire 1)", b"x", b"", b"\xc2\xb5\xce\xa9", b"\xff", b"\xe2\x82", b"\r", b" " * 40]
)
_LINE = st.lists(_PIECES, max_size=6).map(b"".join)
_ENDING = st.sampled_from([b"\n", b"\r\n", b"\r\r\n"])


@st.composite
def files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(_LINE, _ENDING), min_size=1, max_size=60))
    data = b"".join(text + ending for text, ending in lines)
    if draw(st.booleans()):
        data += draw(_LINE)  # a last line without a newline
    return data


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=files(),
    offset=st.integers(1, 5),
    limit=st.none() | st.integers(1, 80),
    max_chars=st.integers(1, 300),
    budget=st.integers(1, 4000),
)
def test_bulk_count_matches_the_line_by_line_rule(
    tmp_path: Path, data: bytes, offset: int, limit: int | None, max_chars: int, budget: int
) -> None:
    (tmp_path / "f.kicad_sch").write_bytes(data)
    runner = LocalToolRunner(tmp_path, max_result_chars=max_chars, max_read_bytes=budget)
    args: dict[str, object] = {"target_file": "f.kicad_sch", "offset": offset}
    if limit is not None:
        args["limit"] = limit

    result = runner.run(ToolCall("1", "read_file", args))

    expected = reference(data, offset, limit, max_chars, budget)
    if expected is None:
        assert result.is_error or result.result == "[empty file]"
        assert "failed unexpectedly" not in result.result, result.result  # a refusal, no crash
    else:
        assert not result.is_error
        assert result.result == expected


def test_line_numbers_past_a_million_are_counted_one_column_wider(tmp_path: Path) -> None:
    data = b"".join(b"%d\n" % (n % 10) for n in range(1_200_000))
    (tmp_path / "f.kicad_sch").write_bytes(data)
    runner = LocalToolRunner(tmp_path, max_result_chars=50)

    result = runner.run(ToolCall("1", "read_file", {"target_file": "f.kicad_sch"}))

    assert result.result == reference(data, 1, None, 50, 20 * 1024 * 1024)
