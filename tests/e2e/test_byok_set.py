"""`buildwithtrace byok set`: every way a key comes in, and every input it refuses."""

from __future__ import annotations

import stat
import subprocess
import uuid

import pytest

from tests.e2e.cli_runner import CLI, CliResult, child_env, run, run_in_terminal, snapshot
from tests.e2e.conftest import Backing, active_provider


def _key(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def test_set_stores_the_key_from_stdin_flag_and_hidden_prompt(backing: Backing) -> None:
    openai, gemini, anthropic = _key("sk-proj-"), _key("AIza"), _key("sk-ant-api03-")

    piped = run(["byok", "set", "OpenAI", "--key-stdin"], input=f"  {openai}  \n")
    flagged = run(["byok", "set", "GEMINI", "--key", f" {gemini} "])
    prompted = run_in_terminal(["byok", "set", "anthropic"], typed=f"{anthropic}\n")

    for result in (piped, flagged, prompted):
        assert result.code == 0, result
    assert f"…{openai[-4:]}" in piped.stdout
    assert "openai is now active" in piped.stdout
    assert "command line" in flagged.stderr
    assert "--key-stdin" in flagged.stderr
    assert "command line" not in piped.stderr
    assert "Anthropic API key (input hidden):" in prompted.stdout
    # The terminal shows the prompt and the result, never what was typed.
    assert anthropic not in prompted.stdout
    assert anthropic[-8:] not in prompted.stdout
    assert f"…{anthropic[-4:]}" in prompted.stdout
    assert backing.secrets() == {
        "llm:openai": openai,
        "llm:gemini": gemini,
        "llm:anthropic": anthropic,
    }
    assert active_provider(backing.config_dir) == "anthropic"
    if backing.kind == "file":
        assert stat.S_IMODE(backing.credentials.stat().st_mode) == 0o600
        assert stat.S_IMODE(backing.config_dir.stat().st_mode) == 0o700
    else:
        assert not backing.credentials.exists()


# (arguments, stdin, words the error must contain)
REFUSED: list[tuple[list[str], str | None, str]] = [
    (["byok", "set", "openai", "--key-stdin"], "  \n", "empty"),
    (["byok", "set", "openai", "--key-stdin"], "sk-abcdefgh ijklmnopqrst\n", "whitespace"),
    (["byok", "set", "openai", "--key-stdin"], "sk-abcdefgh\x1bijklmnopqrst\n", "control"),
    (["byok", "set", "openai", "--key-stdin"], "sk-" + "a" * 4096, "longer than 4096"),
    (["byok", "set", "mistral", "--key-stdin"], "sk-mistralmistral1234\n", "unknown provider"),
    (["byok", "set", "trace", "--key-stdin"], "sk-tracetracetrace1234\n", "need no key"),
    (["byok", "set", "openai"], None, "--key-stdin"),  # stdin is not a terminal
    (["byok", "set", "openai", "--key-stdin", "--key", "sk-bothboth12345678"], "x", "not both"),
]


def test_refused_input_exits_2_and_changes_nothing(file_store: Backing) -> None:
    # File store only: validation happens before any store is touched, and the canary
    # test shows for the keychain that refused keys are not stored there either.
    first = _key("sk-ant-")
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=first).code == 0
    files = snapshot(file_store.config_dir)

    for args, stdin, words in REFUSED:
        result = run(args, input=stdin)
        assert result.code == 2, result
        assert words in result.stderr, result
        assert "sk-abcdefgh" not in result.stdout + result.stderr, "a refused key was echoed"
        assert snapshot(file_store.config_dir) == files, f"files changed by: {result}"
    assert file_store.secrets() == {"llm:anthropic": first}
    assert active_provider(file_store.config_dir) == "anthropic"


@pytest.mark.parametrize(
    ("args", "stdin", "error_type"),
    [
        (["byok", "set", "openai", "--key-stdin", "--json"], "sk-a\x07b", "InvalidKeyError"),
        (["byok", "set", "openai", "--json"], None, "UsageError"),
    ],
    ids=["invalid-key", "no-terminal"],
)
def test_refusal_with_json_prints_an_error_document(
    file_store: Backing, args: list[str], stdin: str | None, error_type: str
) -> None:
    result = run(args, input=stdin)

    assert result.code == 2, result
    error = result.json()["error"]
    assert set(error) == {"type", "problem", "fix", "exit_code"}
    assert error["type"] == error_type
    assert error["exit_code"] == 2
    assert error["problem"]
    assert "buildwithtrace" in error["fix"]
    assert not file_store.config_dir.exists() or not any(file_store.config_dir.iterdir())


def test_key_shaped_for_another_provider_is_stored_with_a_warning(file_store: Backing) -> None:
    anthropic_shaped = _key("sk-ant-")

    result = run(["byok", "set", "openai", "--key-stdin"], input=anthropic_shaped)

    assert result.code == 0, result
    assert "warning:" in result.stderr
    assert "Anthropic" in result.stderr
    assert file_store.secrets() == {"llm:openai": anthropic_shaped}
    assert active_provider(file_store.config_dir) == "openai"


def _rows(result: CliResult) -> dict[str, dict[str, object]]:
    return {row["provider"]: row for row in result.json()["providers"]}


def test_set_and_status_say_when_an_env_var_overrides_the_stored_key(file_store: Backing) -> None:
    stored, from_env = _key("sk-proj-"), _key("sk-proj-")
    env = {"OPENAI_API_KEY": from_env}

    result = run(["byok", "set", "openai", "--key-stdin"], input=stored, env_extra=env)
    text = run(["byok", "status"], env_extra=env)
    as_json = run(["byok", "status", "--json"], env_extra=env)

    assert result.code == 0, result
    assert "OPENAI_API_KEY" in result.stderr
    assert "overrides" in result.stderr
    assert file_store.secrets() == {"llm:openai": stored}
    assert text.code == 0, text
    assert "env:OPENAI_API_KEY" in text.stdout
    assert "overrides the stored openai key" in text.stderr
    openai = _rows(as_json)["openai"]
    assert openai["key"] == {
        "present": True,
        "source": "env:OPENAI_API_KEY",
        "masked": f"…{from_env[-4:]}",
        "helper": None,
        "error": None,
    }
    assert openai["shadowed"] == ["file"]


def test_a_key_on_the_command_line_with_json_lists_the_warning_it_printed(
    file_store: Backing,
) -> None:
    """The argv warning is printed on stderr and is also in the JSON's ``warnings``."""
    key = _key("sk-proj-")

    result = run(["byok", "set", "openai", "--key", key, "--json"])

    assert result.code == 0, result
    warnings = result.json()["warnings"]
    assert any("command line" in w for w in warnings), warnings
    for warning in warnings:
        assert f"warning: {warning}" in result.stderr
    assert key not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["byok", "set", "openai"], "buildwithtrace byok set openai --key-stdin < "),
        (["auth", "login", "--paste"], "buildwithtrace auth login --token-stdin < "),
    ],
    ids=["byok-set", "auth-login"],
)
def test_without_a_terminal_the_hint_is_the_real_command(
    file_store: Backing, args: list[str], command: str
) -> None:
    result = run(args)

    assert result.code == 2, result
    assert command in result.stderr
    assert "buildwithtrace ..." not in result.stderr


def test_an_empty_answer_at_the_hidden_prompt_stops_and_says_so(file_store: Backing) -> None:
    """An empty hidden prompt does not silently ask again: it says nothing was entered."""
    result = run_in_terminal(["byok", "set", "anthropic"], typed="\n", timeout=20)

    assert result.code == 2, result
    assert "nothing was entered" in result.stdout
    assert "buildwithtrace byok set anthropic" in result.stdout
    assert result.stdout.count("(input hidden)") == 1
    assert file_store.secrets() == {}


@pytest.mark.parametrize("strict", [False, True], ids=["c-locale", "strict-utf8"])
def test_a_key_file_saved_as_utf16_is_named_as_such(file_store: Backing, strict: bool) -> None:
    """Bytes FF FE (a UTF-16 file) are reported as UTF-16 text, not "control characters",
    and never crash a strict UTF-8 locale."""
    key = _key("sk-proj-")
    env = child_env({"PYTHONIOENCODING": "utf-8:strict" if strict else None})

    completed = subprocess.run(
        [str(CLI), "byok", "set", "openai", "--key-stdin"],
        input=(key + "\n").encode("utf-16"),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )

    stderr = completed.stderr.decode("utf-8", "replace")
    assert completed.returncode == 2, stderr
    assert "it is UTF-16 text (it starts with the bytes FF FE), not UTF-8" in stderr
    assert "control characters" not in stderr
    assert "buildwithtrace byok set openai" in stderr
    assert file_store.secrets() == {}
