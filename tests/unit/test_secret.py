"""Secret: a key never shows itself, and input is validated without echoing it."""

from __future__ import annotations

import logging

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from domain.credential import Credential, KeySource, SourceKind, StoredSecret
from domain.errors import InvalidKeyError, InvalidTokenError
from domain.provider import Provider
from domain.secret import MAX_SECRET_BYTES, Secret

KEY = "sk-ant-api03-REALLYSECRETVALUE-Zx9Q"


def every_rendering(value: object) -> list[str]:
    """The ways a value commonly ends up in text: str, repr, f-strings, %-format, format."""
    return [
        str(value),
        repr(value),
        f"{value}",
        f"{value!r}",
        f"{value!s}",
        f"{value:}",
        "%s" % (value,),  # noqa: UP031 - %-formatting is what is being checked
        "%r" % (value,),  # noqa: UP031
        format(value),
        "{}".format(value),  # noqa: UP032
        str([value]),
        str({"key": value}),
        str((value,)),
    ]


def test_secret_never_shows_in_any_rendering() -> None:
    secret = Secret(KEY)
    for text in every_rendering(secret):
        assert "REALLYSECRETVALUE" not in text
        assert KEY not in text


def test_secret_never_shows_inside_the_objects_that_carry_it() -> None:
    secret = Secret(KEY)
    credential = Credential(Provider.ANTHROPIC, secret, KeySource.env("ANTHROPIC_API_KEY"))
    stored = StoredSecret(secret, KeySource(SourceKind.KEYCHAIN))
    for carrier in (credential, stored):
        for text in every_rendering(carrier):
            assert "REALLYSECRETVALUE" not in text


def test_secret_never_shows_in_an_exception_message() -> None:
    secret = Secret(KEY)
    error = ValueError(secret)
    assert "REALLYSECRETVALUE" not in str(error)
    assert "REALLYSECRETVALUE" not in repr(error)
    with pytest.raises(RuntimeError) as raised:
        raise RuntimeError(f"request failed with key {secret}")
    assert "REALLYSECRETVALUE" not in str(raised.value)


def test_secret_never_shows_in_log_records(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("buildwithtrace.test").debug("using %s / %r", Secret(KEY), Secret(KEY))
    assert caplog.records
    assert "REALLYSECRETVALUE" not in caplog.text


def test_reveal_returns_the_plain_text() -> None:
    assert Secret(KEY).reveal() == KEY


def test_masked_shows_only_the_last_four_characters() -> None:
    masked = Secret(KEY).masked()
    assert masked.endswith("Zx9Q")
    assert "REALLYSECRETVALUE" not in masked
    assert sum(ch.isalnum() for ch in masked) <= 4


@pytest.mark.parametrize(
    "short",
    [
        pytest.param("a", id="one-char"),
        pytest.param("abcd", id="four-chars"),
        pytest.param("sk-abcdef", id="nine-chars"),
        pytest.param("sk-ant-abcd", id="eleven-chars"),
    ],
)
def test_masked_shows_nothing_of_a_short_key(short: str) -> None:
    masked = Secret(short).masked()
    assert not any(ch.isalnum() for ch in masked)
    assert short[-1] not in masked
    for text in every_rendering(Secret(short)):
        assert short not in text


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1))
def test_masked_never_reveals_more_than_four_characters(value: str) -> None:
    masked = Secret(value).masked()
    shown = masked.removeprefix("…")
    assert len(shown) <= 4
    assert value.endswith(shown)
    if len(value) >= 8:
        assert value not in masked


def test_secrets_compare_and_hash_by_value() -> None:
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret(KEY + "x")
    assert len({Secret(KEY), Secret(KEY)}) == 1


# --- parse ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(KEY, KEY, id="plain"),
        pytest.param(f"  {KEY}  ", KEY, id="spaces-around"),
        pytest.param(f"\t{KEY}\r\n", KEY, id="tab-and-crlf-around"),
        pytest.param(f"{KEY}\n", KEY, id="trailing-newline-from-stdin"),
        pytest.param("x" * MAX_SECRET_BYTES, "x" * MAX_SECRET_BYTES, id="exactly-4096-bytes"),
        pytest.param("é" * (MAX_SECRET_BYTES // 2), "é" * 2048, id="4096-bytes-multibyte"),
        pytest.param("ключ-123", "ключ-123", id="non-ascii-printable"),
    ],
)
def test_parse_trims_and_accepts(raw: str, expected: str) -> None:
    assert Secret.parse(raw).reveal() == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   \t\n ", id="whitespace-only"),
        pytest.param("sk-ant-abc def-0123456789", id="inner-space"),
        pytest.param("sk-ant-abc\tdef-0123456789", id="inner-tab"),
        pytest.param("sk-ant-abc\ndef-0123456789", id="inner-newline"),
        pytest.param("sk-ant-abc\u00a0def-0123456789", id="inner-no-break-space"),
        pytest.param("sk-ant-abc\x00def-0123456789", id="nul"),
        pytest.param("sk-ant-abc\x1bdef-0123456789", id="escape"),
        pytest.param("sk-ant-abc\x7fdef-0123456789", id="delete"),
        pytest.param("sk-ant-abc\u200bdef-0123456789", id="zero-width-space"),
        pytest.param("x" * (MAX_SECRET_BYTES + 1), id="4097-bytes"),
        pytest.param("é" * (MAX_SECRET_BYTES // 2 + 1), id="4098-bytes-multibyte"),
    ],
)
def test_parse_refuses_bad_keys_without_echoing_them(raw: str) -> None:
    with pytest.raises(InvalidKeyError) as raised:
        Secret.parse(raw, "anthropic")
    error = raised.value
    stripped = raw.strip()
    texts = (
        str(error),
        repr(error),
        error.message,
        error.problem,
        error.fix,
        *map(str, error.args),
    )
    for text in texts:
        if stripped:
            assert stripped not in text
        assert "abc" not in text
        assert "xxxxxxxx" not in text
    assert "nothing was stored" in error.message
    assert "buildwithtrace byok set anthropic" in error.fix


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("sk-a b", "whitespace", id="space"),
        pytest.param("sk-a\tb", "whitespace", id="tab"),
        pytest.param("sk-a\u00a0b", "whitespace", id="no-break-space"),
        pytest.param("sk-a\x07b", "the control character U+0007", id="bell"),
        pytest.param("\ufeffsk-ab", "the invisible character U+FEFF", id="bom"),
        pytest.param("k" * 5000, "longer than 4096 bytes", id="too-long"),
        # Bytes that are not UTF-8 reach us as surrogate escapes (stdin, surrogateescape):
        # they are not "control characters", and a UTF-16 file says so by its first bytes.
        pytest.param(
            "\udcff\udcfes\x00k\x00-\x00",
            "it is UTF-16 text (it starts with the bytes FF FE), not UTF-8",
            id="utf16-bom",
        ),
        pytest.param("sk-\udce9t\udce9", "it is not UTF-8 text (byte E9)", id="latin1"),
        pytest.param("s\x00k\x00-\x00a\x00", "UTF-16", id="utf16-no-bom"),
    ],
)
def test_parse_error_says_what_is_wrong(raw: str, reason: str) -> None:
    with pytest.raises(InvalidKeyError) as raised:
        Secret.parse(raw)
    assert reason in raised.value.problem
    assert "control characters" not in raised.value.problem  # the old, vaguer words


def test_a_token_that_fails_the_rules_is_called_a_token_with_the_login_fix() -> None:
    with pytest.raises(InvalidTokenError) as raised:
        Secret.parse_token("two words")
    assert isinstance(raised.value, InvalidKeyError)  # one family: callers catch either
    assert raised.value.problem == "invalid Trace token: it contains whitespace; nothing was stored"
    assert "key" not in raised.value.message
    assert "buildwithtrace auth login --paste" in raised.value.fix


def test_parse_error_without_provider_still_gives_a_fix() -> None:
    with pytest.raises(InvalidKeyError) as raised:
        Secret.parse("two words")
    assert raised.value.fix
    assert "two" not in raised.value.message


def _reference_messages() -> set[str]:
    """Every message InvalidKeyError can carry, from inputs with nothing in common with keys."""
    messages = set()
    for raw in ("", "a b", "a\x00b", "a" * (MAX_SECRET_BYTES + 1)):
        for provider in (None, *(p.value for p in Provider)):
            try:
                Secret.parse(raw, provider)
            except InvalidKeyError as exc:
                messages.add(str(exc))
    return messages


REFERENCE_MESSAGES = _reference_messages()


@given(raw=st.text(), provider=st.sampled_from([None, *(p.value for p in Provider)]))
@example(raw="   ", provider=None)
@example(raw="sk-ant-secret value", provider="anthropic")
@example(raw="sk-secret\x00value", provider="openai")
@example(raw="\u2028AIzaSecret\u2029", provider="gemini")
def test_parse_accepts_exactly_the_stripped_text_or_refuses_without_echo(
    raw: str, provider: str | None
) -> None:
    stripped = raw.strip()
    try:
        secret = Secret.parse(raw, provider)
    except InvalidKeyError as exc:
        bad = (
            not stripped
            or len(stripped.encode("utf-8", "surrogatepass")) > MAX_SECRET_BYTES
            or any(ch.isspace() or not ch.isprintable() for ch in stripped)
        )
        assert bad, f"refused a valid key: {raw!r}"
        if len(raw) >= 8 and len(stripped) >= 8:
            # A text that happens to be part of the fixed wording is not an echo.
            assume(not any(stripped in m for m in REFERENCE_MESSAGES))
            assert stripped not in str(exc)
            assert stripped not in repr(exc)
    else:
        assert secret.reveal() == stripped
        assert stripped
        assert not any(ch.isspace() or not ch.isprintable() for ch in stripped)
        assert len(stripped.encode("utf-8")) <= MAX_SECRET_BYTES
