"""The key-management use-cases over the in-memory adapters: state in, state out."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from adapters.environment import MappingEnvironment
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from application.change_setting import ChangeSetting
from application.doctor import Doctor, DoctorCheck, Verdict
from application.get_setting import GetSetting
from application.list_settings import ListSettings
from application.ports import StoreInfo, StoreKind
from application.remove_key import RemoveKey, RemoveKeyResult
from application.select_model import SelectModel, SelectModelResult
from application.services.key_resolution import KeyResolution
from application.set_key import SetKey, SetKeyResult
from application.settings_view import SettingView
from application.show_status import KeyStatus, ProviderStatus, ShowStatus, overriding_env
from application.use_provider import UseProvider, UseProviderResult
from domain.billing import BillingMode
from domain.credential import KeySource, SourceKind, StoredSecret
from domain.errors import (
    InvalidInputError,
    InvalidKeyError,
    InvalidModelError,
    InvalidSettingError,
    MissingKeyError,
    NotLoggedInError,
    UnknownProviderError,
)
from domain.model_id import ModelSource, parse_model_id
from domain.provider import TRACE_TOKEN_ACCOUNT, Provider
from domain.secret import Secret
from domain.settings import SETTING_KEYS, OutputFormat, Settings, StoreChoice

ANTHROPIC, OPENAI, GEMINI, TRACE = (
    Provider.ANTHROPIC,
    Provider.OPENAI,
    Provider.GEMINI,
    Provider.TRACE,
)

ANTHROPIC_KEY = "sk-ant-api03-anthropic-key-Zx9Q"
OPENAI_KEY = "sk-proj-openai-key-0001-Ab12"
GEMINI_KEY = "AIzaSy-gemini-key-0002-Cd34"
STORE = KeySource(SourceKind.MEMORY)


# --- the edge, as the CLI's click types parse it: text in, domain values to the use-case -----


@attrs.frozen
class SetKeyFromText:
    """``byok set PROVIDER`` with a key: both parsed, then SetKey."""

    use_case: SetKey

    def execute(self, provider: str, key: str) -> SetKeyResult:
        parsed = Provider.parse(provider, byok_only=True)
        return self.use_case.execute(parsed, Secret.parse(key, parsed.value))


@attrs.frozen
class UseProviderFromText:
    """``byok use PROVIDER``."""

    use_case: UseProvider

    def execute(self, provider: str) -> UseProviderResult:
        return self.use_case.execute(Provider.parse(provider))


@attrs.frozen
class SelectModelFromText:
    """``byok model [MODEL] [--provider P]``."""

    use_case: SelectModel

    def execute(self, model: str | None, provider: str | None = None) -> SelectModelResult:
        parsed_model = parse_model_id(model) if model is not None else None
        parsed = Provider.parse(provider, byok_only=True) if provider is not None else None
        return self.use_case.execute(parsed_model, parsed)


@attrs.frozen
class RemoveKeyFromText:
    """``byok remove PROVIDER``."""

    use_case: RemoveKey

    def execute(self, provider: str) -> RemoveKeyResult:
        return self.use_case.execute(Provider.parse(provider, byok_only=True))


@attrs.define
class App:
    """The in-memory adapters and the use-cases built on them, as the container would."""

    env: dict[str, str] = attrs.field(factory=dict)
    secrets: InMemorySecretStore = attrs.field(factory=InMemorySecretStore)
    settings: InMemorySettingsStore = attrs.field(factory=InMemorySettingsStore)

    @property
    def environment(self) -> MappingEnvironment:
        """A live view of ``env`` (tests may change it between calls)."""
        return MappingEnvironment(self.env)

    @property
    def key_resolution(self) -> KeyResolution:
        """The key-resolution service over this app's adapters."""
        return KeyResolution(
            secrets=self.secrets, settings=self.settings, environment=self.environment
        )

    def set_key(self) -> SetKeyFromText:
        """SetKey over this app's adapters, with the CLI's parsing in front."""
        return SetKeyFromText(
            SetKey(secrets=self.secrets, settings=self.settings, environment=self.environment)
        )

    def use_provider(self) -> UseProviderFromText:
        """UseProvider over this app's adapters, with the CLI's parsing in front."""
        return UseProviderFromText(
            UseProvider(settings=self.settings, key_resolution=self.key_resolution)
        )

    def select_model(self) -> SelectModelFromText:
        """SelectModel over this app's adapters, with the CLI's parsing in front."""
        return SelectModelFromText(SelectModel(settings=self.settings))

    def remove_key(self) -> RemoveKeyFromText:
        """RemoveKey over this app's adapters, with the CLI's parsing in front."""
        return RemoveKeyFromText(
            RemoveKey(
                secrets=self.secrets, settings=self.settings, key_resolution=self.key_resolution
            )
        )

    def show_status(self) -> ShowStatus:
        """ShowStatus over this app's adapters."""
        return ShowStatus(
            secrets=self.secrets, settings=self.settings, key_resolution=self.key_resolution
        )

    def doctor(self) -> Doctor:
        """Doctor over this app's adapters."""
        return Doctor(
            secrets=self.secrets,
            settings=self.settings,
            environment=self.environment,
            key_resolution=self.key_resolution,
        )

    def change_setting(self) -> ChangeSetting:
        """ChangeSetting over this app's adapters."""
        return ChangeSetting(settings=self.settings, environment=self.environment)

    def get_setting(self) -> GetSetting:
        """GetSetting over this app's adapters."""
        return GetSetting(settings=self.settings, environment=self.environment)

    def list_settings(self) -> ListSettings:
        """ListSettings over this app's adapters."""
        return ListSettings(settings=self.settings, environment=self.environment)

    def store(self, provider: Provider, key: str) -> None:
        """Put a key in the secret store directly (as an earlier `byok set` would)."""
        self.secrets.set(provider.account, Secret(key))

    def stored(self, provider: Provider) -> str | None:
        """The key the secret store holds for ``provider``."""
        found = self.secrets.get(provider.account)
        return None if found is None else found.secret.reveal()

    def configure(self, settings: Settings) -> None:
        """Replace the persisted settings."""
        self.settings.update(lambda _: settings)

    @property
    def active(self) -> Provider:
        """The persisted active provider."""
        return self.settings.load().provider

    def state(self) -> tuple[dict[str, str | None], Settings]:
        """Everything the use-cases can change: every stored secret and the settings."""
        accounts = [p.account for p in Provider] + [TRACE_TOKEN_ACCOUNT]
        secrets = {a: (s.secret.reveal() if (s := self.secrets.get(a)) else None) for a in accounts}
        return secrets, self.settings.load()


@pytest.fixture
def app() -> App:
    """A fresh app: empty store, default settings, empty environment."""
    return App()


@pytest.fixture
def configured() -> App:
    """An app where anthropic is active with a stored key and a remembered model."""
    configured = App()
    configured.store(ANTHROPIC, ANTHROPIC_KEY)
    configured.configure(Settings(active_provider=ANTHROPIC, models={ANTHROPIC: "claude-opus-4-1"}))
    return configured


# --- SetKey -----------------------------------------------------------------------------


def test_set_key_stores_the_key_and_makes_the_provider_active(app: App) -> None:
    result = app.set_key().execute("anthropic", ANTHROPIC_KEY)
    assert app.stored(ANTHROPIC) == ANTHROPIC_KEY
    assert app.active is ANTHROPIC
    assert result.provider is ANTHROPIC
    assert result.stored is not None and result.stored.source == STORE
    assert result.warnings == ()
    assert result.overridden_by is None


def test_set_key_trims_the_key_and_reads_the_provider_case_insensitively(app: App) -> None:
    app.set_key().execute("  OpenAI ", f"\t{OPENAI_KEY}  \n")
    assert app.stored(OPENAI) == OPENAI_KEY
    assert app.active is OPENAI


def test_set_key_replaces_the_old_key_and_leaves_other_providers(configured: App) -> None:
    configured.store(GEMINI, GEMINI_KEY)
    configured.set_key().execute("anthropic", "sk-ant-api03-replacement-9999")
    assert configured.stored(ANTHROPIC) == "sk-ant-api03-replacement-9999"
    assert configured.stored(GEMINI) == GEMINI_KEY
    assert configured.settings.load().model_for(ANTHROPIC) == "claude-opus-4-1"


def test_set_key_for_another_provider_switches_the_active_one(configured: App) -> None:
    configured.set_key().execute("gemini", GEMINI_KEY)
    assert configured.active is GEMINI
    assert configured.stored(ANTHROPIC) == ANTHROPIC_KEY


@pytest.mark.parametrize(
    ("provider", "key", "error"),
    [
        pytest.param("anthropic", "", InvalidKeyError, id="empty-key"),
        pytest.param("anthropic", "  \n", InvalidKeyError, id="whitespace-key"),
        pytest.param("anthropic", "sk-ant-one two", InvalidKeyError, id="inner-space"),
        pytest.param("anthropic", "sk-ant-\x00x", InvalidKeyError, id="control-char"),
        pytest.param("anthropic", "k" * 4097, InvalidKeyError, id="over-4KiB"),
        pytest.param("mistral", OPENAI_KEY, UnknownProviderError, id="unknown-provider"),
        pytest.param("trace", OPENAI_KEY, InvalidInputError, id="trace-takes-no-key"),
    ],
)
def test_set_key_refuses_bad_input_and_changes_nothing(
    configured: App, provider: str, key: str, error: type[Exception]
) -> None:
    before = configured.state()
    with pytest.raises(error) as raised:
        configured.set_key().execute(provider, key)
    assert configured.state() == before
    if key.strip():
        assert key.strip() not in str(raised.value)


@pytest.mark.parametrize(
    ("provider", "key", "looks_like"),
    [
        pytest.param("openai", ANTHROPIC_KEY, "Anthropic", id="anthropic-key-for-openai"),
        pytest.param("gemini", OPENAI_KEY, "OpenAI", id="openai-key-for-gemini"),
        pytest.param("anthropic", OPENAI_KEY, "OpenAI", id="openai-key-for-anthropic"),
        pytest.param("anthropic", GEMINI_KEY, "Gemini", id="gemini-key-for-anthropic"),
        pytest.param("gemini", "plain-key-0123456789", "AIza", id="unprefixed-for-gemini"),
    ],
)
def test_set_key_warns_about_another_providers_key_shape_but_stores_it(
    app: App, provider: str, key: str, looks_like: str
) -> None:
    result = app.set_key().execute(provider, key)
    assert app.stored(Provider.parse(provider)) == key
    assert app.active is Provider.parse(provider)
    assert len(result.warnings) == 1
    assert looks_like in result.warnings[0]
    assert key not in result.warnings[0]


@pytest.mark.parametrize(
    ("provider", "key"),
    [("anthropic", ANTHROPIC_KEY), ("openai", OPENAI_KEY), ("gemini", GEMINI_KEY)],
)
def test_set_key_gives_no_warning_for_a_well_shaped_key(app: App, provider: str, key: str) -> None:
    assert app.set_key().execute(provider, key).warnings == ()


@pytest.mark.parametrize(
    ("provider", "env", "overridden_by"),
    [
        pytest.param(
            "anthropic", {"ANTHROPIC_API_KEY": "sk-ant-env"}, "ANTHROPIC_API_KEY", id="anthropic"
        ),
        pytest.param("openai", {"OPENAI_API_KEY": "sk-env"}, "OPENAI_API_KEY", id="openai"),
        pytest.param(
            "gemini", {"GOOGLE_API_KEY": "AIza-env"}, "GOOGLE_API_KEY", id="gemini-google"
        ),
        pytest.param(
            "gemini",
            {"GEMINI_API_KEY": "AIza-g", "GOOGLE_API_KEY": "AIza-go"},
            "GEMINI_API_KEY",
            id="gemini-first-var",
        ),
        pytest.param("anthropic", {"ANTHROPIC_API_KEY": "  "}, None, id="blank-is-no-override"),
        pytest.param("anthropic", {"OPENAI_API_KEY": "sk-env"}, None, id="other-provider-env"),
    ],
)
def test_set_key_reports_an_env_var_that_overrides_the_stored_key(
    app: App, provider: str, env: dict[str, str], overridden_by: str | None
) -> None:
    app.env.update(env)
    key = {"anthropic": ANTHROPIC_KEY, "openai": OPENAI_KEY, "gemini": GEMINI_KEY}[provider]
    result = app.set_key().execute(provider, key)
    assert result.overridden_by == (KeySource.env(overridden_by) if overridden_by else None)
    assert app.stored(Provider.parse(provider)) == key


# --- UseProvider -------------------------------------------------------------------------


def test_use_provider_refuses_a_provider_without_a_key_and_keeps_the_active_one(
    configured: App,
) -> None:
    before = configured.state()
    with pytest.raises(MissingKeyError) as raised:
        configured.use_provider().execute("openai")
    assert configured.state() == before
    assert configured.active is ANTHROPIC
    assert "buildwithtrace byok set openai" in raised.value.fix


def test_use_provider_treats_a_blank_env_var_as_no_key(app: App) -> None:
    app.env["OPENAI_API_KEY"] = "   "
    with pytest.raises(MissingKeyError):
        app.use_provider().execute("openai")
    assert app.active is TRACE


def test_use_provider_accepts_a_provider_whose_key_is_only_in_env(configured: App) -> None:
    configured.env["OPENAI_API_KEY"] = OPENAI_KEY
    result = configured.use_provider().execute("OPENAI")
    assert configured.active is OPENAI
    assert result.provider is OPENAI
    assert result.credential is not None
    assert result.credential.source == KeySource.env("OPENAI_API_KEY")
    assert configured.stored(OPENAI) is None


def test_use_provider_accepts_a_provider_with_a_stored_key(app: App) -> None:
    app.store(GEMINI, GEMINI_KEY)
    result = app.use_provider().execute("gemini")
    assert app.active is GEMINI
    assert result.credential is not None
    assert result.credential.secret.reveal() == GEMINI_KEY


@pytest.mark.parametrize("start", [None, ANTHROPIC, OPENAI, TRACE])
def test_use_trace_always_works(app: App, start: Provider | None) -> None:
    app.configure(Settings(active_provider=start))
    result = app.use_provider().execute("trace")
    assert app.active is TRACE
    assert result.credential is None


def test_use_provider_refuses_an_unknown_provider(configured: App) -> None:
    before = configured.state()
    with pytest.raises(UnknownProviderError):
        configured.use_provider().execute("mistral")
    assert configured.state() == before


def test_switching_provider_never_carries_a_model_across(configured: App) -> None:
    configured.env["OPENAI_API_KEY"] = OPENAI_KEY
    configured.use_provider().execute("openai")
    resolution = configured.key_resolution.for_request()
    assert resolution.provider is OPENAI
    assert resolution.model == "gpt-4o"
    assert resolution.model_source is ModelSource.DEFAULT


# --- SelectModel -------------------------------------------------------------------------


def test_select_model_for_the_active_provider(configured: App) -> None:
    result = configured.select_model().execute("claude-haiku-4-5")
    assert configured.settings.load().model_for(ANTHROPIC) == "claude-haiku-4-5"
    assert (result.provider, result.model, result.source) == (
        ANTHROPIC,
        "claude-haiku-4-5",
        ModelSource.CONFIG,
    )


def test_select_model_for_a_named_provider_leaves_the_others(configured: App) -> None:
    configured.select_model().execute("  o3-mini ", " OpenAI")
    settings = configured.settings.load()
    assert settings.model_for(OPENAI) == "o3-mini"
    assert settings.model_for(ANTHROPIC) == "claude-opus-4-1"
    assert settings.model_for(GEMINI) is None
    assert settings.provider is ANTHROPIC


def test_select_model_reset_returns_to_the_default(configured: App) -> None:
    result = configured.select_model().execute(None)
    assert configured.settings.load().model_for(ANTHROPIC) is None
    assert (result.model, result.source) == ("claude-sonnet-4-6", ModelSource.DEFAULT)
    assert configured.key_resolution.for_request().model == "claude-sonnet-4-6"


def test_select_model_reset_of_an_unset_model_is_harmless(app: App) -> None:
    result = app.select_model().execute(None, "gemini")
    assert (result.model, result.source) == ("gemini-2.5-flash", ModelSource.DEFAULT)
    assert app.settings.load() == Settings()


def test_selected_model_is_used_by_requests(configured: App) -> None:
    configured.select_model().execute("claude-haiku-4-5")
    resolution = configured.key_resolution.for_request()
    assert (resolution.model, resolution.model_source) == ("claude-haiku-4-5", ModelSource.CONFIG)


@pytest.mark.parametrize(
    ("settings", "provider_name"),
    [
        pytest.param(Settings(), None, id="nothing-active"),
        pytest.param(Settings(active_provider=TRACE), None, id="trace-active"),
        pytest.param(Settings(active_provider=ANTHROPIC), "trace", id="trace-named"),
    ],
)
def test_select_model_refuses_trace(
    app: App, settings: Settings, provider_name: str | None
) -> None:
    app.configure(settings)
    with pytest.raises(InvalidInputError) as raised:
        app.select_model().execute("gpt-4o", provider_name)
    assert "--provider" in raised.value.fix
    assert app.settings.load() == settings


@pytest.mark.parametrize(
    ("model", "provider_name", "error"),
    [
        pytest.param("gpt 4o", "openai", InvalidModelError, id="inner-space"),
        pytest.param("", "openai", InvalidModelError, id="empty"),
        pytest.param("gpt-4o", "mistral", UnknownProviderError, id="unknown-provider"),
    ],
)
def test_select_model_refuses_bad_input_and_changes_nothing(
    configured: App, model: str, provider_name: str, error: type[Exception]
) -> None:
    before = configured.state()
    with pytest.raises(error):
        configured.select_model().execute(model, provider_name)
    assert configured.state() == before


# --- RemoveKey ---------------------------------------------------------------------------


def test_remove_key_of_the_active_provider_deletes_it_and_reverts_to_trace(
    configured: App,
) -> None:
    result = configured.remove_key().execute("anthropic")
    assert configured.stored(ANTHROPIC) is None
    assert configured.active is TRACE
    assert (result.provider, result.removed, result.reverted_to_trace, result.still_from) == (
        ANTHROPIC,
        True,
        True,
        None,
    )
    # Trace-hosted now: requests no longer need a key.
    assert configured.key_resolution.for_request().credential is None


def test_remove_key_of_an_inactive_provider_keeps_the_active_one(configured: App) -> None:
    configured.store(OPENAI, OPENAI_KEY)
    result = configured.remove_key().execute("openai")
    assert configured.stored(OPENAI) is None
    assert configured.stored(ANTHROPIC) == ANTHROPIC_KEY
    assert configured.active is ANTHROPIC
    assert result.removed is True
    assert result.reverted_to_trace is False


def test_remove_key_reports_an_env_key_that_still_supplies_one(configured: App) -> None:
    configured.env["ANTHROPIC_API_KEY"] = "sk-ant-env-key-1234"
    result = configured.remove_key().execute("anthropic")
    assert configured.stored(ANTHROPIC) is None
    assert result.still_from == KeySource.env("ANTHROPIC_API_KEY")


def test_remove_key_reports_gemini_google_env_key(app: App) -> None:
    app.store(GEMINI, GEMINI_KEY)
    app.env["GOOGLE_API_KEY"] = "AIza-google-env"
    assert app.remove_key().execute("gemini").still_from == KeySource.env("GOOGLE_API_KEY")


def test_remove_key_is_idempotent(configured: App) -> None:
    configured.remove_key().execute("anthropic")
    after_first = configured.state()
    again = configured.remove_key().execute("Anthropic")
    assert configured.state() == after_first
    assert (again.removed, again.reverted_to_trace) == (False, False)


def test_remove_key_without_a_stored_key_does_not_touch_the_active_provider(app: App) -> None:
    app.configure(Settings(active_provider=OPENAI))
    app.env["OPENAI_API_KEY"] = OPENAI_KEY
    result = app.remove_key().execute("gemini")
    assert (result.removed, result.reverted_to_trace) == (False, False)
    assert app.active is OPENAI


@pytest.mark.parametrize(
    ("provider", "error"),
    [("trace", InvalidInputError), ("mistral", UnknownProviderError)],
)
def test_remove_key_refuses_trace_and_unknown_providers(
    configured: App, provider: str, error: type[Exception]
) -> None:
    before = configured.state()
    with pytest.raises(error):
        configured.remove_key().execute(provider)
    assert configured.state() == before


# --- ShowStatus --------------------------------------------------------------------------


def test_show_status_reports_every_provider_without_revealing_keys(configured: App) -> None:
    configured.env["ANTHROPIC_API_KEY"] = "sk-ant-api03-from-env-Ab12"
    configured.env["GOOGLE_API_KEY"] = "AIzaSy-from-google-env-Cd34"
    configured.store(GEMINI, GEMINI_KEY)
    configured.configure(configured.settings.load().with_model(GEMINI, "gemini-2.5-pro"))
    report = configured.show_status().execute()

    assert report.active_provider is ANTHROPIC
    assert report.billing is BillingMode.PROVIDER
    assert report.secret_store == StoreInfo(StoreKind.MEMORY, "in-memory")
    assert report.config_path == "(in memory)"
    assert report.providers == (
        ProviderStatus(
            provider=ANTHROPIC,
            active=True,
            key=KeyStatus(True, KeySource.env("ANTHROPIC_API_KEY"), "…Ab12"),
            shadowed=(STORE,),
            model="claude-opus-4-1",
            model_source=ModelSource.CONFIG,
            billing=BillingMode.PROVIDER,
        ),
        ProviderStatus(
            provider=OPENAI,
            active=False,
            key=KeyStatus(False),
            shadowed=(),
            model="gpt-4o",
            model_source=ModelSource.DEFAULT,
            billing=BillingMode.PROVIDER,
        ),
        ProviderStatus(
            provider=GEMINI,
            active=False,
            key=KeyStatus(True, KeySource.env("GOOGLE_API_KEY"), "…Cd34"),
            shadowed=(STORE,),
            model="gemini-2.5-pro",
            model_source=ModelSource.CONFIG,
            billing=BillingMode.PROVIDER,
        ),
        ProviderStatus(
            provider=TRACE,
            active=False,
            key=KeyStatus(False),
            shadowed=(),
            model=None,
            model_source=ModelSource.DEFAULT,
            billing=BillingMode.TRACE_PLAN,
        ),
    )
    assert report.active.provider is ANTHROPIC
    assert [overriding_env(row) for row in report.providers] == [True, False, True, False]
    shown = repr(report)
    for key in (ANTHROPIC_KEY, GEMINI_KEY, "from-env", "from-google-env"):
        assert key not in shown


def test_show_status_of_a_fresh_install_is_trace_hosted(app: App) -> None:
    report = app.show_status().execute()
    assert report.active_provider is TRACE
    assert report.billing is BillingMode.TRACE_PLAN
    assert report.active.provider is TRACE
    assert all(not row.key.present for row in report.providers)
    assert [row.provider for row in report.providers] == [ANTHROPIC, OPENAI, GEMINI, TRACE]


def test_show_status_works_when_the_active_provider_has_no_key(app: App) -> None:
    app.configure(Settings(active_provider=OPENAI))
    report = app.show_status().execute()
    assert report.active == ProviderStatus(
        provider=OPENAI,
        active=True,
        key=KeyStatus(False),
        shadowed=(),
        model="gpt-4o",
        model_source=ModelSource.DEFAULT,
        billing=BillingMode.PROVIDER,
    )


def test_show_status_stored_key_only_is_not_an_env_override(configured: App) -> None:
    row = configured.show_status().execute().active
    assert row.key == KeyStatus(True, STORE, "…Zx9Q")
    assert row.shadowed == ()
    assert not overriding_env(row)


def test_show_status_changes_nothing(configured: App) -> None:
    configured.env["OPENAI_API_KEY"] = OPENAI_KEY
    before = configured.state()
    configured.show_status().execute()
    assert configured.state() == before


class CountingSecretStore(InMemorySecretStore):
    """An in-memory store that counts the reads it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.gets: list[str] = []
        self.rounds: list[tuple[str, ...]] = []

    def get(self, account: str) -> StoredSecret | None:
        """Counted ``get``."""
        self.gets.append(account)
        return super().get(account)

    def get_many(self, accounts: Sequence[str]) -> dict[str, StoredSecret | None]:
        """Counted ``get_many`` (answered without ``get``, as one round)."""
        self.rounds.append(tuple(accounts))
        return {account: InMemorySecretStore.get(self, account) for account in accounts}


def test_show_status_reads_the_store_once_for_every_provider() -> None:
    """A keychain read costs a connection and a session: status makes one, not one each."""
    counting = App(secrets=CountingSecretStore())
    counting.store(ANTHROPIC, ANTHROPIC_KEY)
    store = counting.secrets
    assert isinstance(store, CountingSecretStore)

    report = counting.show_status().execute()

    assert store.gets == []
    assert store.rounds == [tuple(p.account for p in Provider.byok())]
    assert report.providers[0].key.present


# --- Doctor ------------------------------------------------------------------------------


def check_named(checks: tuple[DoctorCheck, ...], name: str) -> DoctorCheck:
    """The one check called ``name``."""
    (found,) = (c for c in checks if c.name == name)
    return found


def test_doctor_fails_with_missing_key_for_an_active_provider_without_one(app: App) -> None:
    app.configure(Settings(active_provider=GEMINI))
    report = app.doctor().execute()
    active = check_named(report.checks, "active provider")
    assert active.verdict is Verdict.FAIL
    assert isinstance(report.failure, MissingKeyError)
    assert report.failure.provider == "gemini"
    assert "buildwithtrace byok set gemini" in active.fix


def test_doctor_passes_a_configured_provider_naming_source_and_payer(configured: App) -> None:
    configured.secrets.set(TRACE_TOKEN_ACCOUNT, Secret("trace-token-0123456789"))
    report = configured.doctor().execute()
    active = check_named(report.checks, "active provider")
    assert active.verdict is Verdict.OK
    assert "memory" in active.detail
    assert "Anthropic" in active.detail
    assert ANTHROPIC_KEY not in active.detail
    assert report.failure is None
    assert all(c.verdict is Verdict.OK for c in report.checks)


def test_doctor_with_trace_active_needs_no_key(app: App) -> None:
    active = check_named(app.doctor().execute().checks, "active provider")
    assert active.verdict is Verdict.OK
    assert "Trace plan" in active.detail


def test_doctor_warns_when_an_env_var_shadows_a_stored_key(configured: App) -> None:
    configured.env["ANTHROPIC_API_KEY"] = "sk-ant-api03-from-env-Ab12"
    report = configured.doctor().execute()
    warning = check_named(report.checks, "env override: anthropic")
    assert warning.verdict is Verdict.WARN
    assert "env:ANTHROPIC_API_KEY" in warning.detail
    assert "unset ANTHROPIC_API_KEY" in warning.fix
    assert "from-env" not in warning.detail
    assert report.failure is None


def test_doctor_does_not_warn_about_env_vars_that_shadow_no_stored_key(app: App) -> None:
    # GEMINI_API_KEY over GOOGLE_API_KEY is the documented order, and there is no stored
    # key to get back by unsetting anything.
    app.env.update({"GEMINI_API_KEY": "AIza-g-0001", "GOOGLE_API_KEY": "AIza-go-0002"})
    app.env["OPENAI_API_KEY"] = OPENAI_KEY
    names = [c.name for c in app.doctor().execute().checks]
    assert not [n for n in names if n.startswith("env override")]


def test_doctor_warns_about_login_when_there_is_no_token(app: App) -> None:
    report = app.doctor().execute()
    login = check_named(report.checks, "trace login")
    assert login.verdict is Verdict.WARN
    assert login.fix == NotLoggedInError().fix
    assert report.failure is None


@pytest.mark.parametrize(
    ("env", "stored", "source"),
    [
        pytest.param(
            {"TRACE_API_TOKEN": "trace-env-token-123"}, False, "env:TRACE_API_TOKEN", id="env"
        ),
        pytest.param({}, True, "memory", id="store"),
        pytest.param({"TRACE_API_TOKEN": "  "}, True, "memory", id="blank-env-then-store"),
    ],
)
def test_doctor_reports_where_the_login_token_comes_from(
    app: App, env: dict[str, str], stored: bool, source: str
) -> None:
    app.env.update(env)
    if stored:
        app.secrets.set(TRACE_TOKEN_ACCOUNT, Secret("trace-stored-token-123"))
    login = check_named(app.doctor().execute().checks, "trace login")
    assert login.verdict is Verdict.OK
    assert source in login.detail
    assert "token-123" not in login.detail


def test_doctor_reports_the_secret_store_and_config(app: App) -> None:
    checks = app.doctor().execute().checks
    assert check_named(checks, "config").verdict is Verdict.OK
    assert check_named(checks, "secret store: memory").verdict is Verdict.OK


# --- settings: ChangeSetting / GetSetting / ListSettings ---------------------------------


def test_change_setting_writes_the_value(app: App) -> None:
    view = app.change_setting().execute("output.format", "JSON")
    assert app.settings.load().output_format is OutputFormat.JSON
    assert (view.name, view.value, view.source, view.default) == (
        "output.format",
        "json",
        "config",
        "text",
    )


def test_change_setting_unset_returns_to_the_default(app: App) -> None:
    app.change_setting().execute("credentials.store", "file")
    view = app.change_setting().execute("credentials.store", None)
    assert app.settings.load().credentials_store is None
    assert (view.value, view.source) == ("auto", "default")


def test_change_setting_of_a_model_is_remembered_for_that_provider_only(app: App) -> None:
    app.change_setting().execute("llm.models.openai", "o3-mini")
    settings = app.settings.load()
    assert settings.model_for(OPENAI) == "o3-mini"
    assert settings.model_for(ANTHROPIC) is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("llm.models.openai", "sk-proj-abcdefghijklmnop", id="key-as-model"),
        pytest.param("backend.api_version", "AIzaSyA1b2C3d4E5f6G7h8", id="key-as-version"),
        pytest.param("llm.api_key", "whatever", id="secret-name"),
        pytest.param("llm.temperature", "0.2", id="unknown-name"),
        pytest.param("output.format", "yaml", id="bad-choice"),
        pytest.param("llm.provider", "mistral", id="unknown-provider"),
    ],
)
def test_change_setting_refuses_and_changes_nothing(configured: App, name: str, value: str) -> None:
    before = configured.state()
    with pytest.raises(InvalidSettingError):
        configured.change_setting().execute(name, value)
    assert configured.state() == before


def test_change_setting_unset_of_an_unknown_name_is_refused(app: App) -> None:
    with pytest.raises(InvalidSettingError):
        app.change_setting().execute("llm.temperature", None)


def test_get_setting_of_an_unset_setting_is_its_default(app: App) -> None:
    assert app.get_setting().execute("llm.models.gemini") == SettingView(
        name="llm.models.gemini",
        value="gemini-2.5-flash",
        source="default",
        default="gemini-2.5-flash",
        help="model for Gemini",
        choices=(),
    )


def test_get_setting_reads_the_active_provider(configured: App) -> None:
    view = configured.get_setting().execute(" LLM.Provider ")
    assert (view.name, view.value, view.source) == ("llm.provider", "anthropic", "config")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            {"TRACE_CREDENTIALS_STORE": "file"},
            ("file", "env:TRACE_CREDENTIALS_STORE"),
            id="env-wins",
        ),
        pytest.param(
            {"TRACE_CREDENTIALS_STORE": "  file "},
            ("file", "env:TRACE_CREDENTIALS_STORE"),
            id="env-trimmed",
        ),
        pytest.param(
            {"TRACE_CREDENTIALS_STORE": "  "}, ("keychain", "config"), id="blank-env-is-unset"
        ),
        pytest.param({}, ("keychain", "config"), id="config"),
    ],
)
def test_get_setting_reports_an_env_override(
    app: App, env: dict[str, str], expected: tuple[str, str]
) -> None:
    app.configure(Settings(credentials_store=StoreChoice.KEYCHAIN))
    app.env.update(env)
    view = app.get_setting().execute("credentials.store")
    assert (view.value, view.source) == expected


def test_env_override_without_config_still_wins_over_the_default(app: App) -> None:
    app.env["TRACE_API_VERSION"] = "v2"
    view = app.get_setting().execute("backend.api_version")
    assert (view.value, view.source, view.default) == ("v2", "env:TRACE_API_VERSION", "latest")


def test_get_setting_refuses_unknown_and_secretish_names(app: App) -> None:
    with pytest.raises(InvalidSettingError):
        app.get_setting().execute("llm.temperature")
    with pytest.raises(InvalidSettingError) as raised:
        app.get_setting().execute("llm.api_key")
    assert "byok set" in raised.value.fix


def test_list_settings_shows_every_setting_with_its_origin(app: App) -> None:
    app.configure(Settings(active_provider=OPENAI, models={OPENAI: "o3-mini"}))
    app.env["TRACE_CREDENTIALS_STORE"] = "file"
    views = app.list_settings().execute()
    assert [v.name for v in views] == [k.name for k in SETTING_KEYS]
    table = {v.name: (v.value, v.source) for v in views}
    assert table == {
        "llm.provider": ("openai", "config"),
        "llm.models.anthropic": ("claude-sonnet-4-6", "default"),
        "llm.models.openai": ("o3-mini", "config"),
        "llm.models.gemini": ("gemini-2.5-flash", "default"),
        "backend.env": ("production", "default"),
        "backend.api_version": ("latest", "default"),
        "output.format": ("text", "default"),
        "credentials.store": ("file", "env:TRACE_CREDENTIALS_STORE"),
        "llm.key_names.anthropic": (None, "default"),
        "llm.key_names.openai": (None, "default"),
        "llm.key_names.gemini": (None, "default"),
        "keys.env_override": ("warn", "default"),
        "keys.helper_ttl": ("300", "default"),
        "keys.helper_timeout": ("60", "default"),
    }


def test_list_settings_never_lists_a_secret(configured: App) -> None:
    configured.secrets.set(TRACE_TOKEN_ACCOUNT, Secret("trace-token-0123456789"))
    shown = repr(configured.list_settings().execute())
    assert ANTHROPIC_KEY not in shown
    assert "trace-token-0123456789" not in shown
