"""A setting as shown by `config get/list`: value, default and where the value comes from.

The effective values come from ``domain.runtime.effective_settings``, the function the
runtime configuration is built from, so what `config list` shows is what the commands
use (a variable that overrides a setting shows as its source).
"""

from __future__ import annotations

import attrs

from application.ports import Environment
from domain.runtime import SETTINGS_VARIABLES, EffectiveSettings, Sourced, effective_settings
from domain.settings import OutputFormat, SettingKey, Settings, StoreChoice
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class SettingView(Value):
    """One setting's effective value and its origin (``config``, ``default`` or ``env:NAME``).

    ``overridden_by``: a variable that makes this setting moot (``env:TRACE_BASE_URL`` for
    ``backend.env``), when one is set.
    """

    name: str
    value: str | None
    source: str
    default: str | None
    help: str
    choices: tuple[str, ...]
    overridden_by: str | None = None


def _from_environment(effective: EffectiveSettings, name: str) -> tuple[str, str] | None:
    """(source, raw text) when a variable sets ``name``, as written, valid or not."""
    chosen: Sourced[StoreChoice] | Sourced[str] | Sourced[OutputFormat]
    if name == "credentials.store":
        chosen = effective.credentials_store
    elif name == "backend.api_version":
        chosen = effective.api_version
    elif name == "output.format":
        chosen = effective.output_format
    else:
        return None
    if chosen.env_name is None:
        return None
    return chosen.source, (chosen.raw or "").strip()


def view_setting(key: SettingKey, settings: Settings, environment: Environment) -> SettingView:
    """The effective value of ``key``: env override, else config, else default."""
    effective = effective_settings(environment.snapshot(SETTINGS_VARIABLES), settings)
    overridden_by = None
    if key.name == "backend.env" and effective.base_url.env_name is not None:
        overridden_by = effective.base_url.source
    from_env = _from_environment(effective, key.name)
    value: str | None
    if from_env is not None:
        # Shown as written, valid or not: the command that uses it reports the error.
        source, value = from_env
    elif (stored := key.read(settings)) is not None:
        value, source = stored, "config"
    else:
        value, source = key.default, "default"
    return SettingView(key.name, value, source, key.default, key.help, key.choices, overridden_by)
