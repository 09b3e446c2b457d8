"""The panel with the key sources of issue 13: a helper command instead of a key, Verify,
and the project file that applies where the panel was opened."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from domain.provider import Provider
from tests.desktop.conftest import OpenPanel
from tests.desktop.views import cli_rows, cli_status, new_key
from tests.support.provider_stub import ProviderStub

pytestmark = pytest.mark.qt


@pytest.fixture
def file_store(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys in the 0600 credentials file."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return isolated_env


def test_a_helper_command_typed_in_the_panel_goes_to_config_toml_not_a_key(
    open_panel: OpenPanel, file_store: Path, tmp_path: Path
) -> None:
    key = new_key("sk-ant-")
    helper = tmp_path / "helper.py"
    helper.write_text(f"print({key!r})\n", encoding="utf-8")
    command = f"{sys.executable} {helper}"
    person = open_panel()

    person.choose(Provider.ANTHROPIC)
    field = person.find(QLineEdit, "helperField")
    QTest.keyClicks(field, command)
    person.click("saveHelper")

    assert field.text() == ""
    config = tomllib.loads((file_store / "config.toml").read_text(encoding="utf-8"))
    assert config["keys"]["anthropic"]["helper"] == command
    assert not (file_store / "credentials.json").exists()
    assert "Saved the helper command for Anthropic in config.toml" in person.text("notice")
    assert person.list_line(Provider.ANTHROPIC) == (
        # The program's own name: python, python3 or python3.11, as the venv was made.
        f"Anthropic — key from helper {Path(sys.executable).name} (fetched when needed) — active"
    )
    row = cli_rows(cli_status())["anthropic"]
    assert row["key"]["source"] == "helper" and row["key"]["helper"] == command


def test_a_refused_helper_command_shows_in_the_banner(
    open_panel: OpenPanel, file_store: Path
) -> None:
    person = open_panel()
    person.choose(Provider.OPENAI)
    QTest.keyClicks(person.find(QLineEdit, "helperField"), "echo 'unclosed")
    person.click("saveHelper")
    assert person.shows("errorBanner")
    assert "quote that does not close" in person.text("errorProblem")


def test_verify_asks_the_provider_and_says_what_it_answered(
    open_panel: OpenPanel,
    file_store: Path,
    provider_stub: ProviderStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in provider_stub.env().items():
        monkeypatch.setenv(name, value)
    good = new_key("sk-proj-")
    provider_stub.valid[Provider.OPENAI].add(good)
    person = open_panel()
    person.choose(Provider.OPENAI)
    assert not person.enabled("verify")  # no key yet
    person.type_key(good)
    person.click("save")

    person.click("verify")
    assert person.text("notice") == f"OpenAI accepted the key …{good[-4:]} (file)."

    provider_stub.valid[Provider.OPENAI].clear()
    person.click("verify")
    assert person.text("notice").startswith(f"OpenAI rejected the key …{good[-4:]} (file)")
    (request,) = {r.headers["authorization"] for r in provider_stub.requests}
    assert request == f"Bearer {good}"


def test_the_project_file_where_the_panel_opened_is_shown(
    open_panel: OpenPanel, file_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "client-a"
    project.mkdir()
    (project / "trace.toml").write_text('[llm]\nprovider = "openai"\n', encoding="utf-8")
    monkeypatch.chdir(project)
    person = open_panel()
    assert person.text("project") == (
        f"Ignored {project}/trace.toml (not allowed yet): run buildwithtrace project allow "
        f"{project}"
    )
