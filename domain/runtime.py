"""The runtime configuration: every value derived from the environment and the settings.

One frozen value, built by one pure function (:func:`runtime_config`) from the
environment variables, the stored settings and the few things a caller states
explicitly (the config directory, an SDK's ``base_url=``). The container builds the
adapters from it, and ``config list`` shows it, so what is displayed and what is used
cannot drift apart. Nothing else reads ``TRACE_*`` configuration variables.

What is *not* here: the credential sources that resolution reads per request (the
providers' ``*_API_KEY`` variables, ``TRACE_LLM_*``, ``TRACE_API_TOKEN``). They are
inputs of a decision the user can inspect (``byok status``), not configuration, and
the use-cases read them through the ``Environment`` port.

A value that does not parse does not stop everything: it is kept with its error, and
raises only where it is used (:meth:`Sourced.get`), so a bad ``TRACE_BASE_URL`` fails
``chat`` with the fix but leaves ``byok status`` working, as before.

    variable                    setting                 default
    TRACE_CREDENTIALS_STORE     credentials.store       auto
    TRACE_BASE_URL              backend.env             production (https://api.buildwithtrace.com)
    TRACE_API_VERSION           backend.api_version     latest
                                output.format           text
    TRACE_KEYCHAIN_SERVICE                              buildwithtrace
    TRACE_KEYCHAIN_TIMEOUT                              3 s, accepted (0, 60]
    PYTHON_KEYRING_BACKEND                              the platform's keychain
    TRACE_KICAD_CLI                                     kicad-cli on PATH
    TRACE_LOGIN_TIMEOUT                                 180 s, accepted (0, 3600]
    TRACE_DEBUG                                         off ("" or "0")
                                keys.helper_ttl         300 s (a helper's key in memory)
                                keys.helper_timeout     60 s (a helper's run)
    TRACE_ANTHROPIC_BASE_URL                            https://api.anthropic.com (verify)
    TRACE_OPENAI_BASE_URL                               https://api.openai.com (verify)
    TRACE_GEMINI_BASE_URL                               https://generativelanguage.googleapis.com
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

import attrs

from domain.backend_url import BACKEND_URLS, check_api_version, normalize_base_url
from domain.errors import InvalidSettingError, TraceError
from domain.provider import Provider
from domain.settings import (
    DEFAULT_HELPER_TIMEOUT,
    DEFAULT_HELPER_TTL,
    OutputFormat,
    Settings,
    StoreChoice,
)
from domain.value import Value
from domain.verification import ENDPOINTS

T = TypeVar("T")

STORE_ENV = "TRACE_CREDENTIALS_STORE"
BASE_URL_ENV = "TRACE_BASE_URL"
API_VERSION_ENV = "TRACE_API_VERSION"
KEYCHAIN_SERVICE_ENV = "TRACE_KEYCHAIN_SERVICE"
KEYCHAIN_TIMEOUT_ENV = "TRACE_KEYCHAIN_TIMEOUT"
KEYRING_BACKEND_ENV = "PYTHON_KEYRING_BACKEND"
KICAD_CLI_ENV = "TRACE_KICAD_CLI"
LOGIN_TIMEOUT_ENV = "TRACE_LOGIN_TIMEOUT"
DEBUG_ENV = "TRACE_DEBUG"
CONFIG_DIR_ENV = "TRACE_CONFIG_DIR"

DEFAULT_KEYCHAIN_SERVICE = "buildwithtrace"
DEFAULT_KEYCHAIN_TIMEOUT = 3.0
DEFAULT_LOGIN_TIMEOUT = 180.0


class Origin(enum.Enum):
    """Where a configuration value came from."""

    ARGUMENT = "argument"  # stated by the caller (the SDK's base_url=)
    ENV = "env"
    CONFIG = "config"
    DEFAULT = "default"


@attrs.frozen(eq=False, repr=False)
class Sourced(Value, Generic[T]):
    """One configuration value, where it came from, and why it cannot be used (if so)."""

    value: T | None
    origin: Origin
    env_name: str | None = None  # the variable, when ``origin`` is ENV
    raw: str | None = None  # the text as written, for display
    error: TraceError | None = attrs.field(default=None, eq=False)

    @property
    def source(self) -> str:
        """``env:NAME``, ``config``, ``default`` or ``argument`` (the ``config list`` column)."""
        return f"env:{self.env_name}" if self.origin is Origin.ENV else self.origin.value

    def get(self) -> T:
        """The value; raises its error when it did not parse."""
        if self.error is not None:
            raise self.error
        assert self.value is not None  # a Sourced without error always holds a value
        return self.value


@attrs.frozen(eq=False, repr=False)
class EffectiveSettings(Value):
    """The settings of config.toml as they take effect, environment overrides applied.

    ``config list`` shows these, and the runtime configuration is built from them.
    """

    credentials_store: Sourced[StoreChoice]
    base_url: Sourced[str]
    api_version: Sourced[str]
    output_format: Sourced[OutputFormat]


@attrs.frozen(eq=False, repr=False)
class RuntimeConfig(Value):
    """Everything the adapters are built from (see the module docstring for the table)."""

    config_dir: str
    effective: EffectiveSettings
    keychain_service: str
    keychain_timeout: float
    keyring_backend: str | None
    kicad_cli: str | None
    login_timeout: float
    debug: bool
    helper_ttl: float = DEFAULT_HELPER_TTL
    helper_timeout: float = DEFAULT_HELPER_TIMEOUT
    # Where `byok verify` asks each provider (https, or http to loopback for stubs).
    provider_urls: Mapping[Provider, Sourced[str]] = attrs.field(factory=dict)

    def provider_url(self, provider: Provider) -> str:
        """The base URL to verify ``provider``'s keys at; raises when it does not parse."""
        found = self.provider_urls.get(provider)
        return found.get() if found is not None else ENDPOINTS[provider].default_base_url

    @property
    def credentials_store(self) -> Sourced[StoreChoice]:
        """Where secrets go: ``TRACE_CREDENTIALS_STORE``, else ``credentials.store``, else auto."""
        return self.effective.credentials_store

    @property
    def base_url(self) -> Sourced[str]:
        """The Trace backend: ``base_url=``, ``TRACE_BASE_URL``, ``backend.env``, production."""
        return self.effective.base_url

    @property
    def api_version(self) -> Sourced[str]:
        """The API version path segment: ``TRACE_API_VERSION``, the setting, ``latest``."""
        return self.effective.api_version

    @property
    def output_format(self) -> Sourced[OutputFormat]:
        """The CLI's default output (``--json``/``--text`` override it per command)."""
        return self.effective.output_format

    @property
    def store_name(self) -> str:
        """The credentials store's name (``auto``, ``keychain``, ``file``); raises when invalid."""
        return self.credentials_store.get().value


def runtime_config(
    env: Mapping[str, str],
    settings: Settings | TraceError,
    *,
    config_dir: str,
    base_url: str | None = None,
) -> RuntimeConfig:
    """The runtime configuration from ``env``, ``settings`` and what the caller stated.

    ``base_url`` (the SDK's ``base_url=``) wins over ``TRACE_BASE_URL`` and the setting.
    ``settings`` may be the error that loading them raised (a corrupt config.toml): then
    every value the environment does not decide carries that error, so ``doctor`` and
    a command whose variables decide everything still run.
    Never raises: values that do not parse carry their error (see :class:`Sourced`).
    """
    return RuntimeConfig(
        config_dir=config_dir,
        effective=effective_settings(env, settings, base_url=base_url),
        keychain_service=_text(env, KEYCHAIN_SERVICE_ENV) or DEFAULT_KEYCHAIN_SERVICE,
        keychain_timeout=_seconds(env, KEYCHAIN_TIMEOUT_ENV, DEFAULT_KEYCHAIN_TIMEOUT, 60),
        keyring_backend=_text(env, KEYRING_BACKEND_ENV),
        kicad_cli=_text(env, KICAD_CLI_ENV),
        login_timeout=_seconds(env, LOGIN_TIMEOUT_ENV, DEFAULT_LOGIN_TIMEOUT, 3600),
        debug=debug_enabled(env),
        helper_ttl=_stored_seconds(settings, lambda s: s.helper_ttl, DEFAULT_HELPER_TTL),
        helper_timeout=_stored_seconds(
            settings, lambda s: s.helper_timeout, DEFAULT_HELPER_TIMEOUT
        ),
        provider_urls={p: _provider_url(env, p) for p in ENDPOINTS},
    )


def _stored_seconds(
    settings: Settings | TraceError, read: Callable[[Settings], float | None], default: float
) -> float:
    """A seconds setting, else the default (also when config.toml cannot be read)."""
    if isinstance(settings, TraceError):
        return default
    value = read(settings)
    return default if value is None else value


def _provider_url(env: Mapping[str, str], provider: Provider) -> Sourced[str]:
    """``TRACE_<PROVIDER>_BASE_URL``, else the provider's own API."""
    endpoint = ENDPOINTS[provider]
    name = endpoint.base_url_env
    raw = _text(env, name)
    if raw is None:
        return Sourced(endpoint.default_base_url, Origin.DEFAULT)
    try:
        return Sourced(normalize_base_url(raw), Origin.ENV, name, raw)
    except InvalidSettingError:
        error = InvalidSettingError(
            f"{name} is not an http(s)://host[:port] URL",
            f"unset {name} (or set it to the https:// URL of a proxy for {provider.value})",
        )
        return Sourced(None, Origin.ENV, name, raw, error)


def debug_enabled(env: Mapping[str, str]) -> bool:
    """``TRACE_DEBUG`` set to anything but empty or ``0`` (the CLI asks before a runtime exists)."""
    return (env.get(DEBUG_ENV) or "") not in ("", "0")


def effective_settings(
    env: Mapping[str, str], settings: Settings | TraceError, *, base_url: str | None = None
) -> EffectiveSettings:
    """``settings`` with the environment's overrides (and a stated ``base_url``) applied."""
    return EffectiveSettings(
        credentials_store=_store_choice(env, settings),
        base_url=_base_url(env, settings, base_url),
        api_version=_api_version(env, settings),
        output_format=_chosen(settings, lambda s: s.output_format, OutputFormat.TEXT),
    )


# The variables effective_settings reads (for an Environment port's snapshot).
SETTINGS_VARIABLES = (STORE_ENV, BASE_URL_ENV, API_VERSION_ENV)


def config_dir_from(env: Mapping[str, str], platform_default: Callable[[], str]) -> str:
    """``TRACE_CONFIG_DIR`` (``~`` expanded by the caller's path type), else the default."""
    return _text(env, CONFIG_DIR_ENV) or platform_default()


def _text(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value without surrounding blanks; None when unset or blank."""
    value = (env.get(name) or "").strip()
    return value or None


def _chosen(
    settings: Settings | TraceError, read: Callable[[Settings], T | None], default: T
) -> Sourced[T]:
    """The stored setting, else the default; the load error when the settings are unreadable."""
    if isinstance(settings, TraceError):
        return Sourced(None, Origin.CONFIG, error=settings)
    stored = read(settings)
    if stored is not None:
        return Sourced(stored, Origin.CONFIG)
    return Sourced(default, Origin.DEFAULT)


def _store_choice(env: Mapping[str, str], settings: Settings | TraceError) -> Sourced[StoreChoice]:
    raw = _text(env, STORE_ENV)
    if raw is None:
        return _chosen(settings, lambda s: s.credentials_store, StoreChoice.AUTO)
    try:
        return Sourced(StoreChoice(raw.lower()), Origin.ENV, STORE_ENV, raw)
    except ValueError:
        allowed = ", ".join(choice.value for choice in StoreChoice)
        error = InvalidSettingError(
            f"{STORE_ENV}={raw!r} is not one of: {allowed}", f"export {STORE_ENV}=auto"
        )
        return Sourced(None, Origin.ENV, STORE_ENV, raw, error)


def _base_url(
    env: Mapping[str, str], settings: Settings | TraceError, stated: str | None
) -> Sourced[str]:
    if stated is not None and stated.strip():
        return _url(stated, Origin.ARGUMENT, None)
    raw = _text(env, BASE_URL_ENV)
    if raw is not None:
        return _url(raw, Origin.ENV, BASE_URL_ENV)
    return _chosen(
        settings,
        lambda s: BACKEND_URLS[s.backend_env.value] if s.backend_env else None,
        BACKEND_URLS["production"],
    )


def _url(raw: str, origin: Origin, env_name: str | None) -> Sourced[str]:
    try:
        return Sourced(normalize_base_url(raw), origin, env_name, raw)
    except InvalidSettingError as error:
        return Sourced(None, origin, env_name, raw, error)


def _api_version(env: Mapping[str, str], settings: Settings | TraceError) -> Sourced[str]:
    raw = _text(env, API_VERSION_ENV)
    if raw is None:
        return _chosen(settings, lambda s: s.api_version, "latest")
    try:
        return Sourced(check_api_version(raw), Origin.ENV, API_VERSION_ENV, raw)
    except InvalidSettingError as error:
        return Sourced(None, Origin.ENV, API_VERSION_ENV, raw, error)


def _seconds(env: Mapping[str, str], name: str, default: float, most: float) -> float:
    """A positive number of seconds up to ``most``; anything else means the default."""
    raw = _text(env, name)
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        return default
    return value if 0 < value <= most else default
