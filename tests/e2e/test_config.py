"""`buildwithtrace config get|set|unset|list`: non-secret settings only."""

from __future__ import annotations

import json
import tomllib

from tests.e2e.cli_runner import run, snapshot
from tests.e2e.conftest import Backing, config_text

USER_FILE = """\
# my Trace settings
[backend]
env = "production"  # the real one
colour = "blue"
"""


def test_set_get_unset_and_list_keep_the_users_comments(file_store: Backing) -> None:
    file_store.config.write_text(USER_FILE, encoding="utf-8")

    changed = run(["config", "set", "backend.env", "LOCAL"])
    got = run(["config", "get", "backend.env", "--json"])
    listed = run(["config", "list", "--json"])
    after_set = config_text(file_store.config_dir)
    unset = run(["config", "unset", "backend.env"])

    assert changed.code == 0, changed
    assert changed.stdout.strip() == "backend.env = local  [config]"
    assert tomllib.loads(after_set)["backend"]["env"] == "local"
    assert "# my Trace settings" in after_set
    assert 'colour = "blue"' in after_set
    assert got.code == 0, got
    assert got.json() == {
        "name": "backend.env",
        "value": "local",
        "source": "config",
        "default": "production",
        "help": "Trace backend when TRACE_BASE_URL is unset",
        "choices": ["production", "local"],
        "overridden_by": None,
    }
    assert listed.code == 0, listed
    settings = {s["name"]: s for s in listed.json()["settings"]}
    assert set(settings) >= {
        "llm.provider",
        "llm.models.anthropic",
        "llm.models.openai",
        "llm.models.gemini",
        "backend.env",
        "backend.api_version",
        "output.format",
        "credentials.store",
    }
    assert (settings["backend.env"]["value"], settings["backend.env"]["source"]) == (
        "local",
        "config",
    )
    # The test runs with TRACE_CREDENTIALS_STORE=file, which wins over config.toml.
    assert settings["credentials.store"]["source"] == "env:TRACE_CREDENTIALS_STORE"
    assert settings["llm.provider"]["source"] == "default"
    assert unset.code == 0, unset
    assert "backend.env = production  [default]" in unset.stdout
    final = tomllib.loads(config_text(file_store.config_dir))
    assert "env" not in final["backend"]
    assert final["backend"]["colour"] == "blue"


SECRET_VALUE = "sk-proj-Z3cr3tZ3cr3tZ3cr3tZ3cr3t"
# (arguments, words the error must contain)
REFUSED: list[tuple[list[str], str]] = [
    (["config", "set", "llm.models.openai", SECRET_VALUE], "looks like an API key"),
    (["config", "set", "backend.api_version", "AbCdEf0123456789AbCdEf0123456789xyz"], "API key"),
    (["config", "set", "openai.api_key", "whatever"], "looks like a secret"),
    (["config", "get", "trace.token"], "looks like a secret"),
    (["config", "set", "nope.thing", "x"], "unknown setting"),
    (["config", "set", "backend.env", "moon"], "not one of"),
    (["config", "set", "llm.provider", "mistral"], "unknown provider"),
    (["config", "set", "llm.models.openai", "gpt 4o"], "invalid model id"),
]


def test_refused_names_and_values_exit_2_and_change_nothing(file_store: Backing) -> None:
    file_store.config.write_text(USER_FILE, encoding="utf-8")
    before = snapshot(file_store.config_dir)

    for args, words in REFUSED:
        result = run(args)
        assert result.code == 2, result
        assert words in result.stderr, result
        assert SECRET_VALUE not in result.stdout + result.stderr, "a refused secret was echoed"
        assert snapshot(file_store.config_dir) == before, f"files changed by: {result}"
    as_json = run(["config", "set", "llm.models.anthropic", SECRET_VALUE, "--json"])

    assert as_json.code == 2, as_json
    assert as_json.json()["error"]["type"] == "InvalidSettingError"
    assert as_json.json()["error"]["exit_code"] == 2
    assert "byok set" in as_json.json()["error"]["fix"]
    # Refusing a secret must not print it back either.
    assert SECRET_VALUE not in as_json.stdout + as_json.stderr
    assert snapshot(file_store.config_dir) == before


def test_output_format_json_makes_json_the_default_and_text_overrides_it() -> None:
    assert run(["config", "set", "output.format", "json"]).code == 0

    by_default = run(["byok", "status"])
    forced_text = run(["byok", "status", "--text"])

    assert json.loads(by_default.stdout)["active_provider"] == "trace"
    assert forced_text.stdout.startswith("Active provider: trace")


def test_a_variable_that_makes_a_setting_moot_is_named() -> None:
    """`backend.env` does nothing while TRACE_BASE_URL is set: `config get` says so."""
    url = {"TRACE_BASE_URL": "https://staging.example.com"}
    shown = run(["config", "get", "backend.env", "--json"], env_extra=url)
    plain = run(["config", "get", "backend.env", "--json"])

    assert shown.code == plain.code == 0, (shown, plain)
    assert shown.json()["overridden_by"] == "env:TRACE_BASE_URL"
    assert plain.json()["overridden_by"] is None
