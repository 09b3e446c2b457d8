"""`byok status` (text and the JSON interface of issue 2) and `doctor` with its exit codes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.cli_runner import run
from tests.e2e.conftest import Backing


def _key(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def _row(
    provider: str,
    key: dict[str, Any],
    *,
    active: bool = False,
    shadowed: list[str] | None = None,
    model: str | None,
    model_source: str = "default",
    billing: str = "provider",
) -> dict[str, Any]:
    return {
        "provider": provider,
        "active": active,
        "key": {**key, "helper": None, "error": None},
        "shadowed": shadowed or [],
        "model": model,
        "model_source": model_source,
        "billing": billing,
        "key_name": None,
        "chosen_by": None,
    }


NO_KEY = {"present": False, "source": None, "masked": None}


def test_status_json_has_the_documented_shape_and_sources(backing: Backing) -> None:
    anthropic, stored_openai = _key("sk-ant-"), _key("sk-proj-")
    env_openai, gemini, google = _key("sk-proj-"), _key("AIza"), _key("AIza")
    assert run(["byok", "set", "openai", "--key-stdin"], input=stored_openai).code == 0
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=anthropic).code == 0
    assert run(["byok", "model", "gpt-4.1", "--provider", "openai"]).code == 0
    env = {"OPENAI_API_KEY": env_openai, "GEMINI_API_KEY": gemini, "GOOGLE_API_KEY": google}

    status = run(["byok", "status", "--json"], env_extra=env)

    assert status.code == 0, status
    assert status.stderr == ""  # warnings belong to the text form; JSON readers parse stdout
    detail = str(backing.credentials) if backing.kind == "file" else "Secret Service"
    assert status.json() == {
        "active_provider": "anthropic",
        "billing": "provider",
        "secret_store": {"kind": backing.kind, "detail": detail},
        "config_path": str(backing.config),
        "named_keys": [],
        "project": None,
        "effective_provider": "anthropic",
        "providers": [
            _row(
                "anthropic",
                {"present": True, "source": backing.kind, "masked": f"…{anthropic[-4:]}"},
                active=True,
                model="claude-sonnet-4-6",
            ),
            _row(
                "openai",
                {"present": True, "source": "env:OPENAI_API_KEY", "masked": f"…{env_openai[-4:]}"},
                shadowed=[backing.kind],
                model="gpt-4.1",
                model_source="config",
            ),
            _row(
                "gemini",
                {"present": True, "source": "env:GEMINI_API_KEY", "masked": f"…{gemini[-4:]}"},
                shadowed=["env:GOOGLE_API_KEY"],
                model="gemini-2.5-flash",
            ),
            _row("trace", NO_KEY, model=None, billing="trace_plan"),
        ],
    }


def test_status_text_is_a_table_that_says_who_is_billed(file_store: Backing) -> None:
    fresh = run(["byok", "status"])
    assert run(["byok", "set", "gemini", "--key-stdin"], input=_key("AIza")).code == 0
    byok = run(["byok", "status"])

    assert fresh.code == 0, fresh
    assert "Active provider: trace" in fresh.stdout
    assert "Billed to:       your Trace plan" in fresh.stdout
    assert byok.code == 0, byok
    lines = byok.stdout.splitlines()
    assert "Active provider: gemini" in lines
    assert "Billed to:       your own Google account (Google AI Studio / Google Cloud)" in lines
    assert f"Config:          {file_store.config}" in lines
    header = next(line for line in lines if "PROVIDER" in line)
    assert header.split() == ["PROVIDER", "KEY", "SOURCE", "MODEL"]
    gemini = next(line for line in lines if " gemini " in line)
    assert gemini.startswith("*")
    assert "file" in gemini
    assert "gemini-2.5-flash (default)" in gemini
    openai = next(line for line in lines if " openai " in line)
    assert "not set" in openai
    assert not openai.startswith("*")


def test_doctor_is_healthy_until_the_active_key_disappears(backing: Backing) -> None:
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=_key("sk-ant-")).code == 0

    healthy = run(["doctor"])
    healthy_json = run(["doctor", "--json"])
    backing.drop("llm:anthropic")  # e.g. deleted in the keychain app, behind our back
    broken = run(["doctor"])
    broken_json = run(["doctor", "--json"])

    assert healthy.code == 0, healthy
    assert "[ok  ] active provider: anthropic" in healthy.stdout
    assert healthy_json.code == 0, healthy_json
    report = healthy_json.json()
    assert report["ok"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert {"config", "active provider", "trace login"} <= set(checks)
    assert any(name.startswith("secret store:") for name in checks)
    assert all(set(c) == {"name", "verdict", "detail", "fix"} for c in report["checks"])
    assert checks["active provider"]["verdict"] == "ok"

    assert broken.code == 3, broken
    assert "FAIL" in broken.stdout
    assert "buildwithtrace byok set anthropic" in broken.stdout
    assert broken_json.code == 3, broken_json
    report = broken_json.json()
    assert report["ok"] is False
    failed = {c["name"]: c for c in report["checks"]}["active provider"]
    assert failed["verdict"] == "fail"
    assert "byok set anthropic" in failed["fix"]


def test_doctor_warns_about_env_vars_that_shadow_stored_keys(file_store: Backing) -> None:
    assert run(["byok", "set", "openai", "--key-stdin"], input=_key("sk-proj-")).code == 0

    result = run(["doctor", "--json"], env_extra={"OPENAI_API_KEY": _key("sk-proj-")})

    assert result.code == 0, result
    checks = {c["name"]: c for c in result.json()["checks"]}
    override = checks["env override: openai"]
    assert override["verdict"] == "warn"
    assert "OPENAI_API_KEY" in override["detail"]
    assert override["fix"] == "to use the stored key: unset OPENAI_API_KEY"
    assert "env:OPENAI_API_KEY" in checks["active provider"]["detail"]


@pytest.mark.parametrize("store_env", ["file", None], ids=["store-from-env", "store-unknown"])
def test_doctor_with_a_corrupt_config_runs_every_check_it_still_can(
    file_store: Backing, store_env: str | None
) -> None:
    """A corrupt config.toml fails the config check; the store, env-override and login
    checks still run (without TRACE_CREDENTIALS_STORE the store cannot be chosen: that
    is said, with the config fix), and the exit code is the config's (5)."""
    assert run(["byok", "set", "openai", "--key-stdin"], input=_key("sk-proj-")).code == 0
    file_store.config.write_text("[llm\nprovider = 'openai'\n", encoding="utf-8")
    env = {"TRACE_CREDENTIALS_STORE": store_env, "OPENAI_API_KEY": _key("sk-proj-")}

    text = run(["doctor"], env_extra=env)
    as_json = run(["doctor", "--json"], env_extra=env)

    assert text.code == as_json.code == 5, (text, as_json)
    checks = {c["name"]: c for c in as_json.json()["checks"]}
    assert checks["config"]["verdict"] == "fail"
    assert "mv " in checks["config"]["fix"]
    assert checks["trace login"]["verdict"] == "warn"
    assert checks["active provider"]["verdict"] == "warn"
    assert "config.toml" in checks["active provider"]["detail"]
    if store_env == "file":
        assert checks["secret store: file"]["verdict"] == "ok"
        assert checks["env override: openai"]["verdict"] == "warn"
    else:
        unknown = checks["secret store: unknown"]
        assert unknown["verdict"] == "fail"
        assert "TRACE_CREDENTIALS_STORE" in unknown["fix"]
    assert "error:" not in text.stderr  # a report, not a crash before the first check
