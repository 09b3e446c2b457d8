"""The CLI sanitiser: nothing printed holds a control but newline and tab; JSON is RFC 8259."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.cli.output import json_text, terminal_text

INVISIBLE = (
    "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f"
)
UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{INVISIBLE}\u2028\u2029\ud800-\udfff]")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]52;c;ZWNobyBwd25lZA==\x07", "\ufffd]52;c;ZWNobyBwd25lZA==\ufffd"),
        ("shown\rhidden", "shown\nhidden"),
        ("line\r\nnext", "line\nnext"),
        ("\x9b31m", "\ufffd31m"),
        ("a\u202eb\u2066c\u2069", "a\ufffdb\ufffdc\ufffd"),
        ("lone \ud800", "lone \ufffd"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("é ü 中 😀 \u200d \u200c", "é ü 中 😀 \u200d \u200c"),
        # Invisible marks and smuggled text (review: hidden text without any control).
        ("a\u200eb\u200fc\u061cd", "a\ufffdb\ufffdc\ufffdd"),
        ("zero\u200bwidth\u2060joined\ufeff", "zero\ufffdwidth\ufffdjoined\ufffd"),
        ("tag\U000e0041\U000e0042", "tag\ufffd\ufffd"),
        ("line\u2028separated\u2029too", "line\nseparated\ntoo"),
    ],
)
def test_terminal_text_keeps_only_newline_and_tab(text: str, shown: str) -> None:
    assert terminal_text(text) == shown


@given(st.text())
def test_terminal_text_never_lets_a_control_through(text: str) -> None:
    assert not UNSAFE.search(terminal_text(text))


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    )
)
def test_json_text_is_always_strict_json_without_raw_controls(data: Any) -> None:
    text = json_text(data)

    assert not UNSAFE.search(text)
    assert "\n" not in text
    _strict(text)


def test_json_text_escapes_what_json_dumps_leaves_raw_and_round_trips() -> None:
    value = {"k\x85": "a\x7f\x9b\u202e\ud800\x1b\n"}

    text = json_text(value)

    assert text == '{"k\\u0085": "a\\u007f\\u009b\\u202e\\ud800\\u001b\\n"}'
    assert json.loads(text) == value


def test_json_text_escapes_invisible_and_astral_tag_characters_as_valid_pairs() -> None:
    value = {"x": "a\u2028b\u200fc\U000e0041"}

    text = json_text(value)

    assert text == '{"x": "a\\u2028b\\u200fc\\udb40\\udc41"}'
    assert json.loads(text) == value


def test_json_text_writes_non_finite_numbers_as_null() -> None:
    data = {"a": [math.nan, math.inf, -math.inf, 1.5], "b": (math.nan,)}

    assert _strict(json_text(data)) == {"a": [None, None, None, 1.5], "b": [None]}


@settings(max_examples=500)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0, max_codepoint=0x2100)
        | st.sampled_from(
            ["\ud800", "\udfff", "\u202e", "\u2066", "\x7f", "\x9b", "\r", "\n", "\u2028", "\ufeff"]
        )
    )
)
def test_the_fast_path_changes_nothing_the_pattern_would_change(text: str) -> None:
    """Text with nothing unsafe skips the pattern: the result is the pattern's all the same."""
    from entrypoints.cli.output import _JSON_UNSAFE, _SEPARATORS, _TERMINAL_UNSAFE

    lines = re.sub(_SEPARATORS, "\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    expected = re.sub(_TERMINAL_UNSAFE, "\ufffd", lines)
    assert terminal_text(text) == expected
    escaped = re.sub(
        _JSON_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False)
    )
    assert json_text(text) == escaped
