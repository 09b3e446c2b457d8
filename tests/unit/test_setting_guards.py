"""Guards that keep `config` from bypassing the key-management rules, and doctor's verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.environment import MappingEnvironment
from adapters.secrets.file import FileSecretStore
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from application.change_setting import ChangeSetting
from application.doctor import Doctor, Verdict
from application.services.key_resolution import KeyResolution
from domain.errors import InsecurePermissionsError, InvalidSettingError, UnknownProviderError
from domain.provider import Provider
from domain.secret import Secret


def test_config_set_cannot_activate_a_byok_provider() -> None:
    settings = InMemorySettingsStore()
    change = ChangeSetting(settings=settings, environment=MappingEnvironment({}))
    with pytest.raises(InvalidSettingError) as caught:
        change.execute("llm.provider", "openai")
    assert "byok use openai" in caught.value.fix
    assert settings.load().active_provider is None


def test_config_set_may_return_to_trace() -> None:
    settings = InMemorySettingsStore()
    view = ChangeSetting(settings=settings, environment=MappingEnvironment({})).execute(
        "llm.provider", "trace"
    )
    assert view.value == "trace"
    assert settings.load().active_provider is Provider.TRACE


def test_doctor_fails_an_insecure_credentials_file_with_the_chmod_fix(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    store = FileSecretStore(path)
    store.set(Provider.OPENAI.account, Secret("sk-proj-doctor-test-1234"))
    path.chmod(0o644)
    settings = InMemorySettingsStore()
    env = MappingEnvironment({})
    resolve = KeyResolution(secrets=InMemorySecretStore(), settings=settings, environment=env)
    report = Doctor(
        secrets=store, settings=settings, environment=env, key_resolution=resolve
    ).execute()
    (check,) = [c for c in report.checks if c.name == "secret store: file"]
    assert check.verdict is Verdict.FAIL
    assert f"chmod 600 {path}" in check.fix
    assert isinstance(report.failure, InsecurePermissionsError)


@pytest.mark.parametrize("byok_only", [True, False])
def test_an_unknown_provider_lists_only_the_names_that_command_accepts(byok_only: bool) -> None:
    with pytest.raises(UnknownProviderError) as caught:
        Provider.parse("mistral", byok_only=byok_only)
    assert "anthropic, openai, gemini" in caught.value.fix
    assert ("trace" in caught.value.fix) is not byok_only
