"""The runtime configuration: which variable or setting wins, and what an invalid one does."""

from __future__ import annotations

import pytest

from domain.backend_url import LOCAL_URL, PRODUCTION_URL
from domain.errors import CorruptFileError, InvalidSettingError
from domain.runtime import Origin, RuntimeConfig, runtime_config
from domain.settings import BackendEnv, OutputFormat, Settings, StoreChoice


def config(env: dict[str, str] | None = None, settings: Settings | None = None) -> RuntimeConfig:
    return runtime_config(env or {}, settings or Settings(), config_dir="/cfg")


@pytest.mark.parametrize(
    ("env_url", "backend_env", "expected", "origin"),
    [
        (None, None, PRODUCTION_URL, Origin.DEFAULT),
        (None, BackendEnv.PRODUCTION, PRODUCTION_URL, Origin.CONFIG),
        (None, BackendEnv.LOCAL, LOCAL_URL, Origin.CONFIG),
        ("  ", BackendEnv.LOCAL, LOCAL_URL, Origin.CONFIG),
        (
            "https://staging.example.com/",
            BackendEnv.LOCAL,
            "https://staging.example.com",
            Origin.ENV,
        ),
    ],
)
def test_base_url_prefers_trace_base_url_then_the_env_setting(
    env_url: str | None, backend_env: BackendEnv | None, expected: str, origin: Origin
) -> None:
    env = {"TRACE_BASE_URL": env_url} if env_url is not None else {}
    found = config(env, Settings(backend_env=backend_env)).base_url

    assert (found.get(), found.origin) == (expected, origin)


def test_a_stated_base_url_wins_over_the_environment() -> None:
    found = runtime_config(
        {"TRACE_BASE_URL": "https://env.example.com"},
        Settings(),
        config_dir="/cfg",
        base_url="https://stated.example.com/",
    ).base_url

    assert (found.get(), found.source) == ("https://stated.example.com", "argument")


@pytest.mark.parametrize(
    "env",
    [
        {"TRACE_BASE_URL": "ftp://x"},
        {"TRACE_API_VERSION": "../../etc"},
        {"TRACE_CREDENTIALS_STORE": "vault"},
    ],
)
def test_an_invalid_value_raises_only_where_it_is_used(env: dict[str, str]) -> None:
    runtime = config(env)  # building never raises: status must still work

    values = (runtime.base_url, runtime.api_version, runtime.credentials_store)
    broken = [value for value in values if value.error is not None]
    assert len(broken) == 1
    with pytest.raises(InvalidSettingError):
        broken[0].get()
    assert broken[0].source == f"env:{next(iter(env))}"


def test_the_store_choice_env_beats_the_setting_and_is_case_blind() -> None:
    runtime = config(
        {"TRACE_CREDENTIALS_STORE": " FILE "}, Settings(credentials_store=StoreChoice.KEYCHAIN)
    )

    assert runtime.credentials_store.get() is StoreChoice.FILE
    assert runtime.store_name == "file"
    assert (
        config(settings=Settings(credentials_store=StoreChoice.KEYCHAIN)).store_name == "keychain"
    )
    assert config().credentials_store.origin is Origin.DEFAULT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", 3.0), ("0.5", 0.5), ("60", 60.0), ("61", 3.0), ("0", 3.0), ("-1", 3.0), ("soon", 3.0)],
)
def test_the_keychain_timeout_is_accepted_in_zero_to_sixty_seconds(
    raw: str, expected: float
) -> None:
    assert config({"TRACE_KEYCHAIN_TIMEOUT": raw}).keychain_timeout == expected


def test_plain_values_and_their_defaults() -> None:
    bare = config()
    assert (bare.keychain_service, bare.keyring_backend, bare.kicad_cli) == (
        "buildwithtrace",
        None,
        None,
    )
    assert (bare.login_timeout, bare.debug, bare.output_format.get()) == (
        180.0,
        False,
        OutputFormat.TEXT,
    )
    full = config(
        {
            "TRACE_KEYCHAIN_SERVICE": "svc",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "TRACE_KICAD_CLI": "/opt/kicad/bin/kicad-cli",
            "TRACE_LOGIN_TIMEOUT": "30",
            "TRACE_DEBUG": "1",
        },
        Settings(output_format=OutputFormat.JSON),
    )
    assert (full.keychain_service, full.keyring_backend) == ("svc", "keyring.backends.null.Keyring")
    assert (full.kicad_cli, full.login_timeout, full.debug) == (
        "/opt/kicad/bin/kicad-cli",
        30.0,
        True,
    )
    assert full.output_format.get() is OutputFormat.JSON
    assert config({"TRACE_DEBUG": "0"}).debug is False


def test_unreadable_settings_fail_only_the_values_the_environment_does_not_decide() -> None:
    broken = CorruptFileError("/cfg/config.toml", "invalid TOML at line 1, column 5")
    runtime = runtime_config({"TRACE_CREDENTIALS_STORE": "file"}, broken, config_dir="/cfg")

    assert runtime.store_name == "file"  # decided by the variable: doctor can still run
    for value in (runtime.base_url, runtime.api_version, runtime.output_format):
        with pytest.raises(CorruptFileError):
            value.get()
    assert runtime_config({}, broken, config_dir="/cfg").credentials_store.error is broken


@pytest.mark.parametrize(
    "url",
    ["http://[::1]evil.com:8000", "http://[::1", "https://exa mple.com", "http://a_b.example"],
)
def test_a_base_url_whose_host_is_not_plain_is_refused_with_our_fix(url: str) -> None:
    found = config({"TRACE_BASE_URL": url}).base_url

    with pytest.raises(InvalidSettingError) as raised:
        found.get()
    assert raised.value.fix.startswith("set TRACE_BASE_URL")
