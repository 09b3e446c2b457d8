"""What the use-cases refuse or cannot do shows in the panel: a banner, never a crash."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from adapters.secrets.memory import InMemorySecretStore
from domain.credential import StoredSecret
from domain.provider import Provider
from entrypoints.runtime import Runtime
from tests.desktop.conftest import OpenPanel
from tests.desktop.views import cli_rows, cli_status, new_key, status_now
from tests.support.keychain import RunningSecretService

pytestmark = pytest.mark.qt


@pytest.fixture
def file_store(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys in the 0600 credentials file."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return isolated_env


def test_a_key_from_the_environment_is_shown_as_overriding_and_is_read_only(
    open_panel: OpenPanel, file_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key("sk-ant-")
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    person = open_panel()

    person.choose(Provider.ANTHROPIC)

    reason = (
        "ANTHROPIC_API_KEY is set in the environment and overrides any stored key; "
        "to edit the key here: unset ANTHROPIC_API_KEY and reopen this window."
    )
    assert person.text("envReason") == reason and person.shows("envReason")
    assert not person.key_field.isEnabled() and not person.enabled("save")
    assert person.key_field.toolTip() == reason
    assert person.list_line(Provider.ANTHROPIC) == (
        f"Anthropic — key …{key[-4:]} (env:ANTHROPIC_API_KEY)"
    )
    assert cli_rows(cli_status())["anthropic"]["key"]["source"] == "env:ANTHROPIC_API_KEY"
    person.choose(Provider.OPENAI)  # the other providers stay editable
    assert person.key_field.isEnabled() and not person.shows("envReason")


def test_a_bad_key_shows_the_error_and_stores_nothing(
    open_panel: OpenPanel, file_store: Path
) -> None:
    person = open_panel()
    person.choose(Provider.OPENAI)
    person.type_key("sk-proj-two words")

    person.click("save")

    assert person.shows("errorBanner")
    assert person.text("errorProblem") == (
        "invalid key for openai: it contains whitespace; nothing was stored"
    )
    assert person.text("errorFix") == (
        "Fix: paste the key exactly as your provider shows it and click Save"
    )
    assert person.key_field.text() == ""
    assert not (file_store / "credentials.json").exists()
    assert status_now().active_provider is Provider.TRACE
    assert cli_status()["active_provider"] == "trace"

    person.type_key(new_key("sk-proj-"))
    person.click("save")  # the next success clears the banner
    assert not person.shows("errorBanner")


def test_using_a_provider_without_a_key_is_refused_in_the_panel(
    open_panel: OpenPanel, file_store: Path
) -> None:
    person = open_panel()
    person.choose(Provider.GEMINI)

    person.click("use")

    assert person.text("errorProblem").startswith("no API key for gemini")
    assert person.text("errorFix").startswith("Fix: paste a Gemini key and click Save")
    assert "buildwithtrace byok set gemini" in person.text("errorFix")
    assert cli_status()["active_provider"] == "trace"


def test_a_corrupt_credentials_file_is_reported_and_left_alone(
    open_panel: OpenPanel, file_store: Path
) -> None:
    path = file_store / "credentials.json"
    path.touch(mode=0o600)
    path.write_text("{not json", encoding="utf-8")

    person = open_panel()

    assert person.shows("errorBanner")
    assert str(path) in person.text("errorProblem") and "corrupt" in person.text("errorProblem")
    assert person.text("errorFix").startswith("Fix: fix or move the file aside")
    assert not person.enabled("details")
    assert path.read_text(encoding="utf-8") == "{not json"

    path.unlink()  # the person follows the fix, then reloads
    person.click("reload")
    assert not person.shows("errorBanner")
    assert person.text("whoPays").startswith("AI requests are billed to your Trace plan")


@pytest.mark.keychain
def test_a_locked_keychain_is_reported_with_the_fix(
    open_panel: OpenPanel,
    secret_service: RunningSecretService,
    keychain_service: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACE_KEYCHAIN_SERVICE", keychain_service)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "keychain")
    person = open_panel()
    person.choose(Provider.OPENAI)
    person.type_key(new_key("sk-proj-"))

    with secret_service.locked():
        person.click("save")

    assert person.text("errorProblem").startswith("the OS keychain is not usable")
    assert "credentials.store file" in person.text("errorFix")
    assert secret_service.accounts(keychain_service) == {}
    assert status_now().active_provider is Provider.TRACE


class SlowSecretStore(InMemorySecretStore):
    """An in-memory store whose reads take a second, like a keychain waking up."""

    def __init__(self) -> None:
        super().__init__()
        self.read_on: set[str] = set()

    def get(self, account: str) -> StoredSecret | None:
        """The secret, a second later; remembers which thread asked."""
        self.read_on.add(threading.current_thread().name)
        time.sleep(1.0)
        return super().get(account)


def test_a_slow_store_does_not_block_the_window(open_panel: OpenPanel) -> None:
    store = SlowSecretStore()
    started = time.monotonic()
    person = open_panel(Runtime(secrets=store), wait=False)
    ticks_while_busy: list[bool] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks_while_busy.append(person.panel.busy))
    timer.start(50)

    assert person.panel.busy and person.shows("busyIndicator")
    assert not person.enabled("providers") and not person.enabled("reload")
    person.wait_idle()
    timer.stop()

    assert time.monotonic() - started >= 1.0  # it really was slow
    assert sum(ticks_while_busy) >= 10  # the event loop kept turning meanwhile
    assert threading.main_thread().name not in store.read_on
    assert not person.shows("busyIndicator") and person.enabled("providers")
    assert person.text("whoPays").startswith("AI requests are billed to your Trace plan")


class BrokenSecretStore(InMemorySecretStore):
    """A store with a bug: it raises something outside our error tree."""

    def get(self, account: str) -> StoredSecret | None:
        """Always fails."""
        raise RuntimeError("adapter bug")


def test_an_unexpected_failure_is_a_banner_not_a_crash(open_panel: OpenPanel) -> None:
    person = open_panel(Runtime(secrets=BrokenSecretStore()))

    assert person.text("errorProblem") == "unexpected RuntimeError"
    assert "buildwithtrace doctor" in person.text("errorFix")
    assert person.panel.isVisible()


def test_closing_while_a_store_call_runs_lets_it_finish_first(open_panel: OpenPanel) -> None:
    store = SlowSecretStore()
    person = open_panel(Runtime(secrets=store), wait=False)
    assert person.panel.busy

    person.panel.close()

    assert len(store.read_on) == 1 and store.read_on.isdisjoint({threading.main_thread().name})
    assert person.panel.wait(0)  # nothing is left running
