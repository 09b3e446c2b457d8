"""`byok use`, `byok model` and `byok remove`/`clear`: switching, models per provider, removal."""

from __future__ import annotations

import uuid

from tests.e2e.cli_runner import run
from tests.e2e.conftest import Backing, active_provider, stored_models


def _key(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def test_use_a_provider_without_a_key_exits_3_and_keeps_the_active_one(
    file_store: Backing,
) -> None:
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-")).code == 0

    text = run(["byok", "use", "openai"])
    as_json = run(["byok", "use", "OPENAI", "--json"])

    assert text.code == 3, text
    assert "buildwithtrace byok set openai" in text.stderr
    assert as_json.code == 3, as_json
    error = as_json.json()["error"]
    assert error["type"] == "MissingKeyError"
    assert error["exit_code"] == 3
    assert "byok set openai" in error["fix"]
    assert active_provider(file_store.config_dir) == "anthropic"
    assert list(file_store.secrets()) == ["llm:anthropic"]


def test_use_a_provider_whose_key_is_only_in_env_then_back_to_trace(file_store: Backing) -> None:
    from_env = _key("AIza")

    gemini = run(["byok", "use", "Gemini", "--json"], env_extra={"GOOGLE_API_KEY": from_env})
    assert gemini.code == 0, gemini
    assert gemini.json() == {
        "active_provider": "gemini",
        "key_name": None,
        "billing": "provider",
        "key": {"source": "env:GOOGLE_API_KEY", "masked": f"…{from_env[-4:]}"},
    }
    assert active_provider(file_store.config_dir) == "gemini"
    assert file_store.secrets() == {}  # an env key is used, never copied into the store

    trace = run(["byok", "use", "trace"])
    assert trace.code == 0, trace
    assert "Active provider: trace" in trace.stdout
    assert "Trace plan" in trace.stdout
    assert active_provider(file_store.config_dir) == "trace"


def test_models_are_remembered_per_provider(file_store: Backing) -> None:
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-")).code == 0

    chosen = run(["byok", "model", "claude-opus-4-1"])  # the active provider: anthropic
    assert chosen.code == 0, chosen
    assert "anthropic will use model claude-opus-4-1" in chosen.stdout
    assert stored_models(file_store.config_dir) == {"anthropic": "claude-opus-4-1"}

    assert run(["byok", "set", "openai", "--key-stdin"], input=_key("sk-proj-")).code == 0
    rows = {r["provider"]: r for r in run(["byok", "status", "--json"]).json()["providers"]}
    # Switching to openai does not carry the Claude model over.
    assert (rows["openai"]["model"], rows["openai"]["model_source"]) == ("gpt-4o", "default")
    assert (rows["anthropic"]["model"], rows["anthropic"]["model_source"]) == (
        "claude-opus-4-1",
        "config",
    )

    other = run(["byok", "model", "gemini-2.5-pro", "--provider", "Gemini", "--json"])
    assert other.code == 0, other
    assert other.json() == {
        "provider": "gemini",
        "model": "gemini-2.5-pro",
        "model_source": "config",
    }
    reset = run(["byok", "model", "--reset", "--provider", "anthropic", "--json"])
    assert reset.code == 0, reset
    assert reset.json() == {
        "provider": "anthropic",
        "model": "claude-sonnet-4-6",
        "model_source": "default",
    }
    assert stored_models(file_store.config_dir) == {"gemini": "gemini-2.5-pro"}
    assert active_provider(file_store.config_dir) == "openai"  # `model` never switches


def test_model_refuses_bad_requests_without_changing_config(file_store: Backing) -> None:
    before = file_store.config.exists()

    neither = run(["byok", "model"])
    spaced = run(["byok", "model", "gpt 4o", "--provider", "openai"])
    trace = run(["byok", "model", "some-model"])  # trace is active: Trace picks its models

    for result in (neither, spaced, trace):
        assert result.code == 2, result
    assert "--reset" in neither.stderr
    assert "invalid model id" in spaced.stderr
    assert "BYOK provider" in trace.stderr
    assert file_store.config.exists() == before
    assert stored_models(file_store.config_dir) == {}


def test_remove_the_active_provider_reverts_to_trace(file_store: Backing) -> None:
    anthropic, openai = _key("sk-ant-"), _key("sk-proj-")
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=anthropic).code == 0
    assert run(["byok", "set", "openai", "--key-stdin"], input=openai).code == 0

    removed = run(["byok", "remove", "OpenAI"])
    assert removed.code == 0, removed
    assert "Removed the stored openai key" in removed.stdout
    assert "active provider is now trace" in removed.stdout
    assert active_provider(file_store.config_dir) == "trace"
    assert file_store.secrets() == {"llm:anthropic": anthropic}

    cleared = run(["byok", "clear", "anthropic", "--json"])
    assert cleared.code == 0, cleared
    assert cleared.json() == {
        "provider": "anthropic",
        "key_name": None,
        "removed": True,
        "reverted_to_trace": False,
        "still_available_from": None,
    }
    assert file_store.secrets() == {}
    assert active_provider(file_store.config_dir) == "trace"


def test_remove_while_an_env_var_supplies_a_key_says_which_and_how_to_unset_it(
    file_store: Backing,
) -> None:
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-")).code == 0

    removed = run(["byok", "remove", "anthropic"], env_extra={"ANTHROPIC_API_KEY": _key("sk-ant-")})

    assert removed.code == 0, removed
    assert (
        "note: env:ANTHROPIC_API_KEY still supplies a key for anthropic; to remove that one "
        "too: unset ANTHROPIC_API_KEY"
    ) in removed.stderr
    assert " a anthropic" not in removed.stderr
