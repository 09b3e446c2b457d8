"""A person manages keys in the panel; the CLI's stores and `byok status` agree afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.provider import Provider
from tests.desktop.conftest import OpenPanel
from tests.desktop.views import cli_rows, cli_status, new_key, status_now
from tests.e2e.cli_runner import NO_BUS
from tests.support.choices import label_of
from tests.support.keychain import RunningSecretService

pytestmark = pytest.mark.qt


def _file_secrets(config_dir: Path) -> dict[str, str]:
    path = config_dir / "credentials.json"
    if not path.exists():
        return {}
    secrets: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["secrets"]
    return secrets


@pytest.fixture
def file_store(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The panel (and the CLI after it) keep keys in the 0600 credentials file."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return isolated_env


def test_saving_a_key_stores_it_activates_the_provider_and_says_who_pays(
    open_panel: OpenPanel, file_store: Path
) -> None:
    key = new_key("sk-proj-")
    person = open_panel()
    assert person.text("whoPays").startswith("AI requests are billed to your Trace plan")
    assert "active" in person.list_line(Provider.TRACE)

    person.choose(Provider.OPENAI)
    person.type_key(key)
    person.click("save")

    assert person.key_field.text() == ""
    assert _file_secrets(file_store) == {"llm:openai": key}
    report = status_now()
    assert report.active_provider is Provider.OPENAI
    assert label_of(report.active.key.source) == "file"
    data = cli_status()
    row = cli_rows(data)["openai"]
    assert data["active_provider"] == "openai" and data["billing"] == "provider"
    assert row["key"] == {
        "present": True,
        "source": "file",
        "masked": "…" + key[-4:],
        "helper": None,
        "error": None,
    }
    assert person.list_line(Provider.OPENAI) == f"OpenAI — key …{key[-4:]} (file) — active"
    assert person.text("whoPays").startswith("AI requests are billed to your own OpenAI account")
    assert "Saved the OpenAI key" in person.text("notice")
    assert "credentials file" in person.text("notice")


def test_switching_choosing_a_model_and_removing_agree_with_the_cli(
    open_panel: OpenPanel, file_store: Path
) -> None:
    anthropic, openai = new_key("sk-ant-"), new_key("sk-proj-")
    person = open_panel()
    person.choose(Provider.ANTHROPIC)
    person.type_key(anthropic)
    person.click("save")
    person.choose(Provider.OPENAI)
    person.type_key(openai)
    person.click("save")

    person.choose(Provider.ANTHROPIC)
    person.click("use")
    assert cli_status()["active_provider"] == "anthropic"
    assert person.text("whoPays").startswith("AI requests are billed to your own Anthropic account")

    person.type_model("claude-opus-4-1")
    person.click("setModel")
    row = cli_rows(cli_status())["anthropic"]
    assert (row["model"], row["model_source"]) == ("claude-opus-4-1", "config")
    assert cli_rows(cli_status())["openai"]["model"] == "gpt-4o"  # remembered per provider

    person.type_model("")  # an empty field goes back to the default
    person.click("setModel")
    row = cli_rows(cli_status())["anthropic"]
    assert (row["model"], row["model_source"]) == ("claude-sonnet-4-6", "default")

    person.remove(confirm=True)
    assert _file_secrets(file_store) == {"llm:openai": openai}
    data = cli_status()
    assert data["active_provider"] == "trace"
    assert cli_rows(data)["anthropic"]["key"]["present"] is False
    assert "Trace-hosted is active again" in person.text("notice")
    assert person.text("whoPays").startswith("AI requests are billed to your Trace plan")

    person.choose(Provider.TRACE)
    assert not person.enabled("keyField") and not person.enabled("remove")
    person.choose(Provider.OPENAI)
    person.click("use")
    assert status_now().active_provider is Provider.OPENAI


def test_cancelling_the_confirmation_keeps_the_key(open_panel: OpenPanel, file_store: Path) -> None:
    key = new_key("AIza")
    person = open_panel()
    person.choose(Provider.GEMINI)
    person.type_key(key)
    person.click("save")

    person.remove(confirm=False)

    person.qtbot.wait(100)  # the panel would start RemoveKey now, if it (wrongly) did
    person.wait_idle()
    assert _file_secrets(file_store) == {"llm:gemini": key}
    assert cli_status()["active_provider"] == "gemini"


@pytest.mark.keychain
def test_a_key_saved_in_the_panel_lands_in_the_os_keychain(
    open_panel: OpenPanel,
    keychain_service: str,
    secret_service: RunningSecretService,
    monkeypatch: pytest.MonkeyPatch,
    isolated_env: Path,
) -> None:
    monkeypatch.setenv("TRACE_KEYCHAIN_SERVICE", keychain_service)  # cleaned up by the fixture
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "keychain")
    key = new_key("sk-ant-")
    person = open_panel()
    assert person.text("secretStore").startswith("Keys are kept in the OS keychain (")

    person.choose(Provider.ANTHROPIC)
    person.type_key(key)
    person.click("save")

    assert secret_service.accounts(keychain_service) == {"llm:anthropic": key}
    assert not (isolated_env / "credentials.json").exists()
    row = cli_rows(cli_status())["anthropic"]
    assert row["key"]["source"] == "keychain" and row["active"] is True
    assert person.list_line(Provider.ANTHROPIC).endswith("(keychain) — active")
    assert "OS keychain" in person.text("notice")


def test_an_unusable_keychain_falls_back_to_the_file_and_the_panel_says_so(
    open_panel: OpenPanel, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "auto")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", NO_BUS)
    key = new_key("sk-proj-")
    person = open_panel()

    person.choose(Provider.OPENAI)
    person.type_key(key)
    person.click("save")

    assert _file_secrets(isolated_env) == {"llm:openai": key}
    notice = person.text("notice")
    assert "keychain" in notice.lower()
    assert str(isolated_env / "credentials.json") in notice
    assert cli_rows(cli_status())["openai"]["key"]["source"] == "file"
