"""Reading tool arguments: aliases, lenient-but-exact types, and messages for the model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.tools.local.arguments import Arguments, ToolError, show


def args(**raw: object) -> Arguments:
    """Arguments of a call to a tool named ``t``."""
    return Arguments("t", raw)


def test_first_alias_present_wins_and_null_counts_as_absent() -> None:
    """``None`` (JSON null) is skipped; equal values under two aliases are fine."""
    assert args(a=None, b="x").text("a", "b") == "x"
    assert args(a="x", b="x").text("a", "b") == "x"
    assert args().optional_text("a") is None


def test_aliases_that_disagree_are_refused() -> None:
    """Two different values for one argument are ambiguous."""
    with pytest.raises(ToolError, match="'a' and 'b' disagree"):
        args(a="x", b="y").text("a", "b")


def test_required_text_names_every_alias_when_missing() -> None:
    """The message lists the names the model could have used."""
    with pytest.raises(ToolError, match="t: missing required argument 'a' or 'b'"):
        args().text("a", "b")


@pytest.mark.parametrize(
    ("value", "allow_empty", "message"),
    [(3, False, "must be a string, not int"), ("", False, "must not be empty"), ([], True, "list")],
)
def test_text_type_errors(value: object, allow_empty: bool, message: str) -> None:
    """Only strings are text; empty only where allowed."""
    with pytest.raises(ToolError, match=message):
        args(a=value).text("a", allow_empty=allow_empty)


def test_empty_text_where_allowed() -> None:
    """``allow_empty`` accepts an empty string."""
    assert args(a="").text("a", allow_empty=True) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), (5.0, 5), ("5", 5), (" 12 ", 12), ("-3", -3), (None, None)],
)
def test_integers_in_the_shapes_models_send(value: object, expected: int | None) -> None:
    """Integral floats and digit strings count as whole numbers."""
    assert args(n=value).optional_int("n", minimum=-10) == expected


@pytest.mark.parametrize("value", [True, False, 5.5, "5.5", "1e3", "--5", "", "x", [], {}, "٣"])
def test_things_that_are_not_whole_numbers(value: object) -> None:
    """Booleans, fractions, non-ASCII digits and other types are refused."""
    with pytest.raises(ToolError, match="must be a whole number"):
        args(n=value).optional_int("n", minimum=0)


def test_integer_minimum() -> None:
    """The range is checked and stated."""
    with pytest.raises(ToolError, match="'n' must be at least 1, got 0"):
        args(n=0).optional_int("n", minimum=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), (" FALSE ", False), (None, False)],
)
def test_flags(value: object, expected: bool) -> None:
    """Booleans, their JSON spellings as strings, and absence (False)."""
    assert args(f=value).flag("f") is expected


@pytest.mark.parametrize("value", [1, 0, "yes", "1", []])
def test_flags_refuse_everything_else(value: object) -> None:
    """Numbers and other words are ambiguous."""
    with pytest.raises(ToolError, match="must be true or false"):
        args(f=value).flag("f")


def test_choice_defaults_to_the_first_option_and_refuses_others() -> None:
    """A closed set of values."""
    assert args().choice("m", ("a", "b")) == "a"
    assert args(m="b").choice("m", ("a", "b")) == "b"
    with pytest.raises(ToolError, match="must be one of a, b; got 'c'"):
        args(m="c").choice("m", ("a", "b"))


def test_show_escapes_and_shortens() -> None:
    """Control characters are escaped and long values cut in messages."""
    assert show("a\x00b") == "'a\\x00b'"
    assert show("x" * 200) == repr("x" * 80 + "…")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(value=_JSON)
def test_any_json_value_gives_a_value_or_a_tool_error(value: object) -> None:
    """No argument shape makes the readers raise anything but ``ToolError``."""
    arguments = args(v=value)
    for read in (
        lambda: arguments.optional_text("v"),
        lambda: arguments.optional_int("v", minimum=0),
        lambda: arguments.flag("v"),
        lambda: arguments.choice("v", ("a",)),
    ):
        try:
            read()
        except ToolError as error:
            assert error.message.startswith("t: argument 'v'")
