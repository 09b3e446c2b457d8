"""Providers and the non-secret settings registry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing import BillingMode
from domain.errors import InvalidInputError, InvalidSettingError, UnknownProviderError
from domain.provider import Provider
from domain.settings import (
    SETTING_KEYS,
    BackendEnv,
    OutputFormat,
    Settings,
    StoreChoice,
    looks_like_secret,
    parse_setting,
    setting_key,
    settings_from_flat,
    settings_to_flat,
)

ANTHROPIC, OPENAI, GEMINI, TRACE = (
    Provider.ANTHROPIC,
    Provider.OPENAI,
    Provider.GEMINI,
    Provider.TRACE,
)

# --- Provider ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("anthropic", ANTHROPIC, id="lower"),
        pytest.param("Anthropic", ANTHROPIC, id="capitalised"),
        pytest.param("OPENAI", OPENAI, id="upper"),
        pytest.param("  gemini\n", GEMINI, id="whitespace-around"),
        pytest.param("\tGeMiNi ", GEMINI, id="mixed-case-and-tab"),
        pytest.param("trace", TRACE, id="trace"),
        pytest.param(" TRACE ", TRACE, id="trace-upper"),
    ],
)
def test_provider_parse_is_case_and_whitespace_insensitive(name: str, expected: Provider) -> None:
    assert Provider.parse(name) is expected


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("mistral", id="unknown"),
        pytest.param("google", id="google-is-not-gemini"),
        pytest.param("open ai", id="inner-space"),
        pytest.param("anthropic-claude", id="suffix"),
    ],
)
def test_provider_parse_refuses_unknown_names_listing_the_known_ones(name: str) -> None:
    with pytest.raises(UnknownProviderError) as raised:
        Provider.parse(name)
    assert isinstance(raised.value, InvalidInputError)
    for known in ("anthropic", "openai", "gemini", "trace"):
        assert known in raised.value.fix


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("AIzaSyD3xAmPlE-KeY_0123456789abcdefgh", id="gemini-key"),
        pytest.param("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", id="anthropic-key"),
        pytest.param("sk-proj-AbCdEfGhIjKlMnOpQrSt0123", id="openai-key"),
    ],
)
def test_unknown_provider_error_never_echoes_a_key_given_as_the_name(key: str) -> None:
    # `byok set <key>` or swapped SDK arguments put a key where the provider goes.
    with pytest.raises(UnknownProviderError) as raised:
        Provider.parse(key)
    assert key not in str(raised.value)
    assert key[4:20] not in str(raised.value)


def test_unknown_provider_error_names_a_short_typo() -> None:
    with pytest.raises(UnknownProviderError) as raised:
        Provider.parse("antropic")
    assert "antropic" in raised.value.message


def test_provider_table_matches_design() -> None:
    table = {
        p: (p.spec.env_vars, p.spec.default_model, p.spec.billing, p.is_byok) for p in Provider
    }
    assert table == {
        ANTHROPIC: (("ANTHROPIC_API_KEY",), "claude-sonnet-4-6", BillingMode.PROVIDER, True),
        OPENAI: (("OPENAI_API_KEY",), "gpt-4o", BillingMode.PROVIDER, True),
        GEMINI: (
            ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            "gemini-2.5-flash",
            BillingMode.PROVIDER,
            True,
        ),
        TRACE: ((), None, BillingMode.TRACE_PLAN, False),
    }
    assert Provider.byok() == (ANTHROPIC, OPENAI, GEMINI)


def test_each_provider_has_its_own_secret_store_account() -> None:
    accounts = [p.account for p in Provider]
    assert len(set(accounts)) == len(accounts)


# --- secret-looking values and names -----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("sk-ant-api03-AbCdEfGhIjKlMnOp", id="anthropic-key"),
        pytest.param("sk-proj-abcdefghijklmnop", id="openai-project-key"),
        pytest.param("sk-abcdefghijklmnopqrst", id="openai-key"),
        pytest.param("AIzaSyA1b2C3d4E5f6G7h8", id="gemini-key"),
        pytest.param("  AIzaSyA1b2C3d4E5f6G7h8  ", id="gemini-key-padded"),
        pytest.param("ghp_abcdefghijklmnopqrstuvwxyz", id="github-token"),
        pytest.param("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", id="jwt"),
        pytest.param("aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH3", id="long-mixed-case-token"),
        pytest.param("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRg==", id="base64-token"),
    ],
)
def test_secret_looking_values_are_refused_for_every_setting(value: str) -> None:
    assert looks_like_secret(value)
    for key in SETTING_KEYS:
        with pytest.raises(InvalidSettingError) as raised:
            parse_setting(key.name, value)
        assert value.strip() not in raised.value.message
        assert "byok set" in raised.value.fix


MODEL_IDS = [
    "claude-sonnet-4-6",
    "claude-opus-4-1-20250805",
    "claude-3-5-sonnet-20241022",
    "claude-3-7-sonnet-latest",
    "gpt-4o",
    "gpt-4o-2024-08-06",
    "gpt-4.1-nano",
    "chatgpt-4o-latest",
    "o1",
    "o3-mini",
    "ft:gpt-4o-mini-2024-07-18:my-org::9abcDEF1",
    "gemini-2.5-flash",
    "gemini-2.5-flash-preview-05-20",
    "models/gemini-2.5-pro",
]


@pytest.mark.parametrize("model", MODEL_IDS)
def test_real_model_ids_are_accepted(model: str) -> None:
    assert not looks_like_secret(model)
    for provider in Provider.byok():
        key, value = parse_setting(f"llm.models.{provider.value}", model)
        assert key.name == f"llm.models.{provider.value}"
        assert value == model


def test_model_setting_is_trimmed() -> None:
    assert parse_setting("llm.models.openai", "  gpt-4o \n")[1] == "gpt-4o"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("gpt 4o", id="inner-space"),
        pytest.param("gpt-4o\x00", id="control"),
        pytest.param("m" * 201, id="too-long"),
    ],
)
def test_bad_model_ids_are_invalid_settings(raw: str) -> None:
    with pytest.raises(InvalidSettingError):
        parse_setting("llm.models.anthropic", raw)


@pytest.mark.parametrize(
    "name",
    [
        "llm.api_key",
        "llm.anthropic.api_key",
        "LLM.API_KEY",
        "auth.token",
        "trace.secret",
        "password",
        "credentials.anthropic",
    ],
)
def test_secretish_setting_names_are_refused_with_the_byok_fix(name: str) -> None:
    with pytest.raises(InvalidSettingError) as raised:
        parse_setting(name, "anything")
    assert "looks like a secret" in raised.value.problem
    assert "byok set" in raised.value.fix


def test_unknown_setting_name_points_to_config_list() -> None:
    with pytest.raises(InvalidSettingError) as raised:
        setting_key("llm.temperature")
    assert "unknown setting" in raised.value.problem
    assert raised.value.fix == "buildwithtrace config list"


def test_credentials_store_is_a_setting_not_a_secret() -> None:
    assert parse_setting("credentials.store", "file")[1] is StoreChoice.FILE


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        pytest.param("llm.provider", " OpenAI ", OPENAI, id="provider"),
        pytest.param("llm.provider", "trace", TRACE, id="provider-trace"),
        pytest.param("LLM.Provider", "gemini", GEMINI, id="name-case-insensitive"),
        pytest.param("backend.env", "LOCAL", BackendEnv.LOCAL, id="backend-env"),
        pytest.param("backend.api_version", "v1", "v1", id="api-version"),
        pytest.param("output.format", "json", OutputFormat.JSON, id="output-format"),
        pytest.param("credentials.store", " Keychain ", StoreChoice.KEYCHAIN, id="store"),
    ],
)
def test_parse_setting_accepts_valid_values(name: str, raw: str, expected: object) -> None:
    assert parse_setting(name, raw)[1] == expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        pytest.param("llm.provider", "mistral", id="unknown-provider"),
        pytest.param("backend.env", "staging", id="unknown-backend"),
        pytest.param("backend.api_version", "v 1", id="bad-version"),
        pytest.param("output.format", "yaml", id="unknown-format"),
        pytest.param("credentials.store", "vault", id="unknown-store"),
    ],
)
def test_parse_setting_refuses_values_outside_the_choices(name: str, raw: str) -> None:
    with pytest.raises(InvalidSettingError):
        parse_setting(name, raw)


# --- flat round trip ---------------------------------------------------------------------

model_ids = st.from_regex(r"[a-z0-9][a-z0-9./:_-]{0,40}", fullmatch=True).filter(
    lambda m: not looks_like_secret(m)
)
settings_strategy = st.builds(
    Settings,
    active_provider=st.none() | st.sampled_from(Provider),
    models=st.dictionaries(st.sampled_from(Provider.byok()), model_ids),
    backend_env=st.none() | st.sampled_from(BackendEnv),
    api_version=st.none() | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", fullmatch=True),
    output_format=st.none() | st.sampled_from(OutputFormat),
    credentials_store=st.none() | st.sampled_from(StoreChoice),
)


@given(settings_strategy)
def test_settings_survive_the_flat_round_trip(settings: Settings) -> None:
    flat = settings_to_flat(settings)
    assert settings_from_flat(flat) == settings
    assert all(isinstance(v, str) for v in flat.values())


@given(settings_strategy)
def test_flat_form_holds_only_set_settings(settings: Settings) -> None:
    flat = settings_to_flat(settings)
    assert ("llm.provider" in flat) == (settings.active_provider is not None)
    for provider in Provider.byok():
        assert flat.get(f"llm.models.{provider.value}") == settings.model_for(provider)


def test_settings_from_flat_ignores_unknown_names() -> None:
    settings = settings_from_flat({"llm.provider": "openai", "ui.theme": "dark"})
    assert settings == Settings(active_provider=OPENAI)


def test_default_settings_have_an_empty_flat_form_and_trace_active() -> None:
    assert settings_to_flat(Settings()) == {}
    assert Settings().provider is TRACE


# --- models per provider ------------------------------------------------------------------


def test_models_are_remembered_per_provider() -> None:
    settings = (
        Settings()
        .with_active(ANTHROPIC)
        .with_model(ANTHROPIC, "claude-opus-4-1")
        .with_active(OPENAI)
    )
    assert settings.model_for(OPENAI) is None
    assert settings.model_for(GEMINI) is None
    assert settings.model_for(ANTHROPIC) == "claude-opus-4-1"


def test_setting_one_providers_model_leaves_the_others() -> None:
    settings = Settings().with_model(ANTHROPIC, "claude-opus-4-1").with_model(OPENAI, "o3-mini")
    assert settings.model_for(ANTHROPIC) == "claude-opus-4-1"
    assert settings.model_for(OPENAI) == "o3-mini"
    reset = settings.with_model(OPENAI, None)
    assert reset.model_for(OPENAI) is None
    assert reset.model_for(ANTHROPIC) == "claude-opus-4-1"


def test_settings_are_immutable_values() -> None:
    original = Settings()
    original.with_model(ANTHROPIC, "claude-opus-4-1").with_active(ANTHROPIC)
    assert original == Settings()
    with pytest.raises(TypeError):
        original.models[ANTHROPIC] = "x"  # type: ignore[index]


def test_model_setting_keys_write_only_their_provider() -> None:
    settings = Settings()
    for provider in Provider.byok():
        key, value = parse_setting(f"llm.models.{provider.value}", f"{provider.value}-model")
        settings = key.write(settings, value)
    assert {p: settings.model_for(p) for p in Provider.byok()} == {
        p: f"{p.value}-model" for p in Provider.byok()
    }
    assert settings.model_for(TRACE) is None
