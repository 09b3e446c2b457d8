"""ListSettings and GetSetting: read the non-secret settings."""

from __future__ import annotations

from application.ports import Environment, SettingsStore
from application.settings_view import SettingView, view_setting
from domain.settings import SETTING_KEYS


class ListSettings:
    """Every known setting with its effective value."""

    def __init__(self, *, settings: SettingsStore, environment: Environment) -> None:
        self._settings = settings
        self._environment = environment

    def execute(self) -> tuple[SettingView, ...]:
        """All settings, in registry order."""
        current = self._settings.load()
        return tuple(view_setting(k, current, self._environment) for k in SETTING_KEYS)
