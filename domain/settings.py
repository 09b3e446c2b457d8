"""The non-secret settings and the registry of their dotted names.

The settings file holds these and nothing secret. Each setting has a dotted name
(``llm.provider``) that is also its path in ``config.toml``.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Callable, Mapping
from typing import TypeVar

import attrs

from domain.errors import InvalidModelError, InvalidSettingError, UnknownProviderError
from domain.model_id import parse_model_id
from domain.provider import Provider
from domain.secret import looks_like_secret as looks_like_secret  # re-exported (moved there)
from domain.value import Value

_T = TypeVar("_T")


class StoreChoice(enum.Enum):
    """Where secrets go: keychain else file, keychain only, or file only."""

    AUTO = "auto"
    KEYCHAIN = "keychain"
    FILE = "file"


class BackendEnv(enum.Enum):
    """Which Trace backend to talk to when TRACE_BASE_URL is not set."""

    PRODUCTION = "production"
    LOCAL = "local"


class OutputFormat(enum.Enum):
    """Default output format of the CLI."""

    TEXT = "text"
    JSON = "json"


def _frozen_models(value: Mapping[Provider, str]) -> Mapping[Provider, str]:
    return types.MappingProxyType(dict(value))


@attrs.frozen(hash=False)
class Settings:
    """Every non-secret setting; ``None`` means "not set, use the default"."""

    active_provider: Provider | None = None
    models: Mapping[Provider, str] = attrs.field(factory=dict, converter=_frozen_models)
    backend_env: BackendEnv | None = None
    api_version: str | None = None
    output_format: OutputFormat | None = None
    credentials_store: StoreChoice | None = None

    @property
    def provider(self) -> Provider:
        """The active provider; Trace-hosted when none was chosen."""
        return self.active_provider or Provider.TRACE

    def model_for(self, provider: Provider) -> str | None:
        """The model remembered for ``provider``, if any."""
        return self.models.get(provider)

    def with_model(self, provider: Provider, model: str | None) -> Settings:
        """A copy remembering ``model`` for ``provider`` (``None`` forgets it)."""
        models = dict(self.models)
        if model is None:
            models.pop(provider, None)
        else:
            models[provider] = model
        return attrs.evolve(self, models=models)

    def with_active(self, provider: Provider | None) -> Settings:
        """A copy with ``provider`` active."""
        return attrs.evolve(self, active_provider=provider)


@attrs.frozen(eq=False, repr=False)
class SettingKey(Value):
    """One dotted setting name, how to parse its value, and how to read/write it."""

    name: str
    help: str
    default: str | None
    choices: tuple[str, ...]
    parse: Callable[[str], object]
    read: Callable[[Settings], str | None]
    write: Callable[[Settings, object], Settings]


def _parse_provider(raw: str) -> object:
    return Provider.parse(raw)


def _enum_parser(kind: type[enum.Enum]) -> Callable[[str], object]:
    def parse(raw: str) -> object:
        try:
            return kind(raw.strip().lower())
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise InvalidSettingError(f"{raw!r} is not one of: {allowed}") from None

    return parse


def _parse_version(raw: str) -> object:
    value = raw.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", value):
        raise InvalidSettingError(f"{raw!r} is not an API version such as 'latest' or 'v1'")
    return value


def _model_key(provider: Provider) -> SettingKey:
    return SettingKey(
        name=f"llm.models.{provider.value}",
        help=f"model for {provider.spec.label}",
        default=provider.spec.default_model,
        choices=(),
        parse=parse_model_id,
        read=lambda s: s.model_for(provider),
        write=lambda s, v: s.with_model(provider, v if isinstance(v, str) else None),
    )


def _narrow(kind: type[_T], value: object) -> _T | None:
    """``value`` if it is a ``kind`` (written by ``SettingKey.parse``), else None (unset)."""
    return value if isinstance(value, kind) else None


def _value(item: object) -> str | None:
    return None if item is None else str(item.value if isinstance(item, enum.Enum) else item)


SETTING_KEYS: tuple[SettingKey, ...] = (
    SettingKey(
        name="llm.provider",
        help="active model provider (byok use)",
        default="trace",
        choices=tuple(p.value for p in Provider),
        parse=_parse_provider,
        read=lambda s: _value(s.active_provider),
        write=lambda s, v: s.with_active(v if isinstance(v, Provider) else None),
    ),
    *(_model_key(p) for p in Provider.byok()),
    SettingKey(
        name="backend.env",
        help="Trace backend when TRACE_BASE_URL is unset",
        default="production",
        choices=tuple(e.value for e in BackendEnv),
        parse=_enum_parser(BackendEnv),
        read=lambda s: _value(s.backend_env),
        write=lambda s, v: attrs.evolve(s, backend_env=_narrow(BackendEnv, v)),
    ),
    SettingKey(
        name="backend.api_version",
        help="API version path segment",
        default="latest",
        choices=(),
        parse=_parse_version,
        read=lambda s: s.api_version,
        write=lambda s, v: attrs.evolve(s, api_version=_narrow(str, v)),
    ),
    SettingKey(
        name="output.format",
        help="default output format",
        default="text",
        choices=tuple(e.value for e in OutputFormat),
        parse=_enum_parser(OutputFormat),
        read=lambda s: _value(s.output_format),
        write=lambda s, v: attrs.evolve(s, output_format=_narrow(OutputFormat, v)),
    ),
    SettingKey(
        name="credentials.store",
        help="where secrets are kept: auto (keychain, else file), keychain, file",
        default="auto",
        choices=tuple(e.value for e in StoreChoice),
        parse=_enum_parser(StoreChoice),
        read=lambda s: _value(s.credentials_store),
        write=lambda s, v: attrs.evolve(s, credentials_store=_narrow(StoreChoice, v)),
    ),
)
_BY_NAME = {key.name: key for key in SETTING_KEYS}
_SECRETISH_NAME = r"(key|token|secret|password|credential(?!s\.store))"


def setting_key(name: str) -> SettingKey:
    """The setting called ``name``; raises :class:`InvalidSettingError` for unknown names."""
    key = _BY_NAME.get(name.strip().lower())
    if key is not None:
        return key
    # A key pasted where the setting name goes must not be echoed back.
    shown = "(a value shaped like a key, not shown)" if looks_like_secret(name) else repr(name)
    if re.search(_SECRETISH_NAME, name, re.I):  # an error path: compiled (and cached) here
        raise InvalidSettingError(
            f"{shown} looks like a secret; config.toml never holds keys or tokens",
            "buildwithtrace byok set PROVIDER   (or: buildwithtrace auth login)",
        )
    raise InvalidSettingError(f"unknown setting {shown}")


def parse_setting(name: str, raw: str) -> tuple[SettingKey, object]:
    """Validate ``raw`` for setting ``name``; refuses secret-looking values."""
    key = setting_key(name)
    if looks_like_secret(raw):
        raise InvalidSettingError(
            f"the value for {key.name} looks like an API key; config.toml never holds secrets",
            "buildwithtrace byok set PROVIDER",
        )
    try:
        return key, key.parse(raw)
    except (UnknownProviderError, InvalidModelError) as exc:
        raise InvalidSettingError(f"{key.name}: {exc.problem}", exc.fix) from None


def settings_from_flat(flat: Mapping[str, str]) -> Settings:
    """Build settings from dotted-name strings; unknown names are ignored (kept by the file)."""
    settings = Settings()
    for name, raw in flat.items():
        key = _BY_NAME.get(name)
        if key is not None:
            settings = key.write(settings, key.parse(raw))
    return settings


def settings_to_flat(settings: Settings) -> dict[str, str]:
    """The set settings as dotted-name strings."""
    flat: dict[str, str] = {}
    for key in SETTING_KEYS:
        value = key.read(settings)
        if value is not None:
            flat[key.name] = value
    return flat
