"""Secret masking (domain.masking): whole secrets, any run of 8 characters, streams, data."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.masking import MASK, MIN_SECRET_RUN, SecretMasker

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"  # 44 characters, like an OpenAI key
TOKEN = "trace_tok_9f8e7d6c5b4a39281706"


def leaked(secret: str, text: str) -> list[str]:
    """Runs of MIN_SECRET_RUN characters of ``secret`` in ``text``."""
    n = MIN_SECRET_RUN
    return [secret[i : i + n] for i in range(len(secret) - n + 1) if secret[i : i + n] in text]


masker = SecretMasker([KEY, TOKEN])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"invalid x-api-key {KEY}", "invalid x-api-key ***"),
        (f"key {KEY[:30]}...", "key ***..."),  # the truncated echo of issue 10
        (f"ends with {KEY[-12:]}.", "ends with ***."),
        (f"middle <{KEY[10:22]}>", "middle <***>"),
        (f"exactly 8 {KEY[20:28]}!", "exactly 8 ***!"),
        (f"7 is not a run {KEY[20:27]}!", f"7 is not a run {KEY[20:27]}!"),
        (f"{KEY}{KEY}", "***"),
        (f"{KEY} and {TOKEN}", "*** and ***"),
        (f"{TOKEN[:10]}{KEY[5:20]}", "***"),  # touching runs are one mask
        ("nothing to see", "nothing to see"),
        ("", ""),
        (f"the mask shows …{KEY[-4:]}", f"the mask shows …{KEY[-4:]}"),
    ],
)
def test_mask_replaces_every_run_of_a_secret(text: str, masked: str) -> None:
    assert masker.mask(text) == masked


def test_a_text_without_a_secret_is_returned_as_is() -> None:
    text = "x" * 1000
    assert masker.mask(text) is text


def test_the_json_escaped_form_of_a_secret_is_masked() -> None:
    odd = 'key"with\\quotes-and-é-0123456789'
    text = json.dumps({"echo": odd})
    assert odd not in SecretMasker([odd]).mask(text)
    assert leaked(json.dumps(odd)[1:-1], SecretMasker([odd]).mask(text)) == []


def test_a_short_secret_is_masked_whole() -> None:
    assert SecretMasker(["abc12"]).mask("x abc12 y abc1") == "x *** y abc1"


def test_no_secrets_masks_nothing() -> None:
    empty = SecretMasker(["", ""])
    assert not empty
    assert empty.mask(KEY) == KEY


def test_mask_data_reaches_nested_strings_and_keys() -> None:
    data = {"a": [KEY, {"b": KEY[3:20], KEY: 1}], "n": 1.5, "t": (TOKEN,), "none": None}

    masked = masker.mask_data(data)

    assert masked == {"a": [MASK, {"b": MASK, MASK: 1}], "n": 1.5, "t": (MASK,), "none": None}
    assert leaked(KEY, repr(masked)) == []


def test_a_text_full_of_copies_is_masked_in_linear_time() -> None:
    text = (KEY[:30] + "|") * 20_000
    assert masker.mask(text) == "***|" * 20_000


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13])
def test_a_key_split_over_stream_pieces_never_shows(size: int) -> None:
    text = f"your key is {KEY}, remember it; token {TOKEN} too."
    stream = masker.stream()

    shown = [stream.feed(text[i : i + size]) for i in range(0, len(text), size)]
    shown.append(stream.flush())

    # At most SHOWN_AT_ONCE characters of a run show before it is known to be one.
    joined = "".join(shown)
    assert re.fullmatch(r"your key is .{0,3}\*\*\*, remember it; token .{0,3}\*\*\* too\.", joined)
    assert leaked(KEY, joined) == []
    assert leaked(TOKEN, joined) == []


def test_a_stream_holds_back_only_what_could_start_a_secret() -> None:
    stream = masker.stream()

    assert stream.feed("hello world.") == "hello world."
    assert stream.feed(" starts sk-p") == " starts "  # "sk-p": 4 characters of the key
    assert stream.feed("lanet!") == "sk-planet!"
    assert stream.feed(" first") == " first"  # "st" is in the token: too short to hold
    assert stream.flush() == ""


def test_a_masked_run_reaching_the_end_is_held_until_it_ends() -> None:
    stream = masker.stream()

    assert stream.feed(KEY[:20]) == ""  # masked already, but the next piece may continue it
    assert stream.feed(KEY[20:25]) == ""  # 5 more characters: a run of their own below 8
    assert stream.feed(" done.") == "*** done."
    assert stream.feed(KEY[:3]) == KEY[:3]  # 3 characters are shown at once...
    assert stream.feed(KEY[3:6]) == ""  # ...but they count: 6 are held
    assert stream.feed(KEY[6:10] + "!") == "***!"


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=8),
    part=st.tuples(st.integers(0, len(KEY) - MIN_SECRET_RUN), st.integers(MIN_SECRET_RUN, 44)),
)
def test_any_split_of_any_run_is_masked(
    before: str, after: str, cuts: list[int], part: tuple[int, int]
) -> None:
    start, length = part
    text = before + KEY[start : start + length] + after
    stream = masker.stream()
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})

    shown = "".join(stream.feed(text[a:b]) for a, b in itertools.pairwise(bounds))
    shown += stream.flush()

    assert leaked(KEY, shown) == []
    masked = masker.mask(text)
    if masked == text:
        assert shown == text
    else:  # the first characters of a run may show before it is known to be one
        assert len(masked) <= len(shown) <= len(masked) + 3
