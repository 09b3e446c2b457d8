"""A setting as shown by `config get/list`: value, default and where the value comes from."""

from __future__ import annotations

import attrs

from application.ports import Environment
from domain.settings import SettingKey, Settings

# Environment variables that override a stored setting (documented in docs/configuration.md).
ENV_OVERRIDES: dict[str, str] = {
    "credentials.store": "TRACE_CREDENTIALS_STORE",
    "backend.api_version": "TRACE_API_VERSION",
}


@attrs.frozen
class SettingView:
    """One setting's effective value and its origin (``config``, ``default`` or ``env:NAME``)."""

    name: str
    value: str | None
    source: str
    default: str | None
    help: str
    choices: tuple[str, ...]


def view_setting(key: SettingKey, settings: Settings, environment: Environment) -> SettingView:
    """The effective value of ``key``: env override, else config, else default."""
    env_name = ENV_OVERRIDES.get(key.name)
    env_raw = environment.get(env_name) if env_name else None
    value: str | None
    if env_name and env_raw is not None and env_raw.strip():
        value, source = env_raw.strip(), f"env:{env_name}"
    elif (stored := key.read(settings)) is not None:
        value, source = stored, "config"
    else:
        value, source = key.default, "default"
    return SettingView(key.name, value, source, key.default, key.help, key.choices)
