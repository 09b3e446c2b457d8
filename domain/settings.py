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

from domain.errors import (
    STORE_KEY_FIX,
    InvalidInputError,
    InvalidModelError,
    InvalidSettingError,
    UnknownProviderError,
)
from domain.keys import HelperCommand, KeyRef, parse_key_name
from domain.model_id import parse_model_id
from domain.provider import Provider
from domain.secret import looks_like_secret as looks_like_secret  # re-exported (moved there)
from domain.value import Value

_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")


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


class EnvOverride(enum.Enum):
    """What happens when an environment variable's key overrides the user's stored choice."""

    WARN = "warn"  # say so once, before the request (the default)
    ERROR = "error"  # refuse the request, with the fix


DEFAULT_HELPER_TTL = 300.0  # seconds a helper's key is kept in memory (unless it expires sooner)
DEFAULT_HELPER_TIMEOUT = 60.0  # room for a password manager's unlock prompt, still bounded
MAX_HELPER_TTL = 24 * 3600.0
MAX_HELPER_TIMEOUT = 600.0


def _frozen_models(value: Mapping[Provider, str]) -> Mapping[Provider, str]:
    return types.MappingProxyType(dict(value))


def _frozen_paths(value: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(sorted(value.items())))


def _frozen_helpers(value: Mapping[KeyRef, HelperCommand]) -> Mapping[KeyRef, HelperCommand]:
    return types.MappingProxyType(dict(sorted(value.items(), key=lambda kv: kv[0].sort_key)))


def _sorted_refs(value: object) -> tuple[KeyRef, ...]:
    assert isinstance(value, tuple | list | set | frozenset)
    return tuple(sorted(set(value), key=lambda ref: ref.sort_key))


@attrs.frozen(eq=False, repr=False)
class Settings(Value):
    """Every non-secret setting; ``None`` means "not set, use the default".

    Compared by value (``==``); not hashable, as its mappings are not.
    """

    __hash__ = None  # type: ignore[assignment]

    active_provider: Provider | None = None
    models: Mapping[Provider, str] = attrs.field(factory=dict, converter=_frozen_models)
    backend_env: BackendEnv | None = None
    api_version: str | None = None
    output_format: OutputFormat | None = None
    credentials_store: StoreChoice | None = None
    # Where keys come from (issue 13): the named key chosen per provider, helper commands,
    # named keys, the key-source settings, and the project files the user allowed.
    key_names: Mapping[Provider, str] = attrs.field(factory=dict, converter=_frozen_models)
    env_override: EnvOverride | None = None
    helper_ttl: float | None = None
    helper_timeout: float | None = None
    named_keys: tuple[KeyRef, ...] = attrs.field(default=(), converter=_sorted_refs)
    helpers: Mapping[KeyRef, HelperCommand] = attrs.field(factory=dict, converter=_frozen_helpers)
    allowed_projects: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_paths)

    @property
    def provider(self) -> Provider:
        """The active provider; Trace-hosted when none was chosen."""
        return self.active_provider or Provider.TRACE

    @property
    def env_override_policy(self) -> EnvOverride:
        """``keys.env_override``, else warn."""
        return self.env_override or EnvOverride.WARN

    def key_name_for(self, provider: Provider) -> str | None:
        """The named key chosen for ``provider`` (``byok use PROVIDER --name NAME``), if any."""
        return self.key_names.get(provider)

    def with_key_name(self, provider: Provider, name: str | None) -> Settings:
        """A copy choosing the named key ``name`` for ``provider`` (None: its default key)."""
        return attrs.evolve(self, key_names=_with_entry(self.key_names, provider, name))

    def helper_for(self, ref: KeyRef) -> HelperCommand | None:
        """The helper command configured for ``ref``, if any."""
        return self.helpers.get(ref)

    def with_key(self, ref: KeyRef, helper: HelperCommand | None) -> Settings:
        """A copy that knows ``ref`` (named keys are listed) with ``helper`` (None: stored key)."""
        helpers = _with_entry(self.helpers, ref, helper)
        named = set(self.named_keys)
        if ref.name is not None:
            named.add(ref)
        return attrs.evolve(self, helpers=helpers, named_keys=tuple(named))

    def without_key(self, ref: KeyRef) -> Settings:
        """A copy that forgets ``ref``'s helper and, for a named key, its name."""
        helpers = {r: h for r, h in self.helpers.items() if r != ref}
        named = tuple(r for r in self.named_keys if r != ref)
        return attrs.evolve(self, helpers=helpers, named_keys=named)

    def with_allowed(self, path: str, digest: str | None) -> Settings:
        """A copy that allows the project file ``path`` with content ``digest`` (None: forget)."""
        return attrs.evolve(self, allowed_projects=_with_entry(self.allowed_projects, path, digest))

    def model_for(self, provider: Provider) -> str | None:
        """The model remembered for ``provider``, if any."""
        return self.models.get(provider)

    def with_model(self, provider: Provider, model: str | None) -> Settings:
        """A copy remembering ``model`` for ``provider`` (``None`` forgets it)."""
        return attrs.evolve(self, models=_with_entry(self.models, provider, model))

    def with_active(self, provider: Provider | None) -> Settings:
        """A copy with ``provider`` active."""
        return attrs.evolve(self, active_provider=provider)


def _with_entry(mapping: Mapping[_K, _V], key: _K, value: _V | None) -> dict[_K, _V]:
    """A copy of ``mapping`` with ``key`` set to ``value``, or dropped when it is None."""
    copy = dict(mapping)
    if value is None:
        copy.pop(key, None)
    else:
        copy[key] = value
    return copy


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


def _parse_key_name(raw: str) -> object:
    try:
        return parse_key_name(raw)
    except InvalidInputError as exc:
        raise InvalidSettingError(exc.problem, exc.fix) from None


def _seconds_parser(most: float) -> Callable[[str], object]:
    def parse(raw: str) -> object:
        try:
            value = float(raw.strip())
        except ValueError:
            value = -1.0
        if not 0 < value <= most:
            raise InvalidSettingError(f"{raw!r} is not a number of seconds in (0, {most:g}]")
        return value

    return parse


def _seconds_text(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


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


def _key_name_key(provider: Provider) -> SettingKey:
    return SettingKey(
        name=f"llm.key_names.{provider.value}",
        help=f"named key used for {provider.spec.label} (byok use {provider.value} --name NAME)",
        default=None,
        choices=(),
        parse=_parse_key_name,
        read=lambda s: s.key_name_for(provider),
        write=lambda s, v: s.with_key_name(provider, v if isinstance(v, str) else None),
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
    *(_key_name_key(p) for p in Provider.byok()),
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
    SettingKey(
        name="keys.env_override",
        help="an env var's key overriding a stored key: warn (say so) or error (refuse)",
        default="warn",
        choices=tuple(e.value for e in EnvOverride),
        parse=_enum_parser(EnvOverride),
        read=lambda s: _value(s.env_override),
        write=lambda s, v: attrs.evolve(s, env_override=_narrow(EnvOverride, v)),
    ),
    SettingKey(
        name="keys.helper_ttl",
        help="seconds a key helper's key is kept in memory (or until its expires_at)",
        default=f"{DEFAULT_HELPER_TTL:g}",
        choices=(),
        parse=_seconds_parser(MAX_HELPER_TTL),
        read=lambda s: _seconds_text(s.helper_ttl),
        write=lambda s, v: attrs.evolve(s, helper_ttl=_narrow(float, v)),
    ),
    SettingKey(
        name="keys.helper_timeout",
        help="seconds a key helper may run before it is stopped",
        default=f"{DEFAULT_HELPER_TIMEOUT:g}",
        choices=(),
        parse=_seconds_parser(MAX_HELPER_TIMEOUT),
        read=lambda s: _seconds_text(s.helper_timeout),
        write=lambda s, v: attrs.evolve(s, helper_timeout=_narrow(float, v)),
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
            f"{STORE_KEY_FIX}; a Trace token: buildwithtrace auth login",
        )
    raise InvalidSettingError(f"unknown setting {shown}")


def parse_setting(name: str, raw: str) -> tuple[SettingKey, object]:
    """Validate ``raw`` for setting ``name``; refuses secret-looking values."""
    key = setting_key(name)
    if looks_like_secret(raw):
        raise InvalidSettingError(
            f"the value for {key.name} looks like an API key; config.toml never holds secrets",
            STORE_KEY_FIX,
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
