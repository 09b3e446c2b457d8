"""ChangeSetting: set or unset one non-secret setting (refusing secret-looking values)."""

from __future__ import annotations

from application.ports import Environment, SettingsStore
from application.settings_view import SettingView, view_setting
from domain.errors import InvalidSettingError
from domain.provider import Provider
from domain.settings import parse_setting, setting_key


class ChangeSetting:
    """Validate and write one setting; ``None`` removes it (back to the default)."""

    def __init__(self, *, settings: SettingsStore, environment: Environment) -> None:
        self._settings = settings
        self._environment = environment

    def execute(self, name: str, raw_value: str | None) -> SettingView:
        """Set ``name`` to ``raw_value`` (validated), or unset it when ``raw_value`` is None."""
        if raw_value is None:
            key, value = setting_key(name), None
        else:
            key, value = parse_setting(name, raw_value)
            if isinstance(value, Provider) and value.is_byok:
                # `byok use` checks that a key resolves; a bare config write would not.
                raise InvalidSettingError(
                    f"{key.name} picks the provider that pays; it is set by `byok use`, "
                    "which first checks that a key exists",
                    f"buildwithtrace byok use {value.value}",
                )
        updated = self._settings.update(lambda s: key.write(s, value))
        return view_setting(key, updated, self._environment)
