"""search_replace edits the bytes; the outcome equals decoding, replacing and re-encoding.

The reference is the text rule (decode with surrogateescape, str.replace, encode).
Random files mix valid UTF-8, stray and truncated multi-byte sequences and CRLF
lines; needles are cut from the decoded text (so they may start or end inside
what was an invalid sequence), with "\\n" written for "\\r\\n" as models do.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.tools.local import LocalToolRunner
from domain.chat import ToolCall

_PIECES = st.sampled_from(
    [b"(wire 1)", b"R1", b"\xc2\xb5", b"\xce\xa9", b"\xe2\x82\xac", b"\xe2\x82", b"\xff", b"\x80"]
)
_ENDINGS = st.sampled_from([b"\n", b"\r\n", b""])


def reference(data: bytes, old: str, new: str, replace_all: bool) -> bytes | None:
    """The text rule; None where the tool must refuse (absent, or ambiguous)."""
    text = data.decode("utf-8", "surrogateescape")
    found = text.count(old)
    if not found and "\r\n" in text and "\n" in old and "\r\n" not in old:
        old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
        found = text.count(old)
    if not found or (found > 1 and not replace_all):
        return None
    return text.replace(old, new, -1 if replace_all else 1).encode("utf-8", "surrogateescape")


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=st.lists(st.tuples(_PIECES, _ENDINGS), min_size=1, max_size=30),
    cut=st.tuples(st.integers(0, 400), st.integers(1, 12)),
    new=st.sampled_from(["R2", "", "µΩ", "x\ny", "€"]),
    replace_all=st.booleans(),
    lf_only=st.booleans(),
)
def test_bytes_edit_equals_the_text_rule(
    tmp_path: Path,
    parts: list[tuple[bytes, bytes]],
    cut: tuple[int, int],
    new: str,
    replace_all: bool,
    lf_only: bool,
) -> None:
    data = b"".join(piece + ending for piece, ending in parts)
    text = data.decode("utf-8", "surrogateescape")
    start = cut[0] % len(text)
    old = text[start : start + cut[1]]
    if lf_only:
        old = old.replace("\r\n", "\n")
    if not old or old == new:
        return
    target = tmp_path / "f.kicad_sch"
    target.write_bytes(data)
    runner = LocalToolRunner(tmp_path)
    args = {"file_path": "f.kicad_sch", "old_string": old, "new_string": new}

    result = runner.run(ToolCall("1", "search_replace", {**args, "replace_all": replace_all}))

    expected = reference(data, old, new, replace_all)
    if expected is None:
        assert result.is_error
        assert "failed unexpectedly" not in result.result, result.result  # a refusal, no crash
        assert target.read_bytes() == data
    else:
        assert not result.is_error, result.result
        assert target.read_bytes() == expected
