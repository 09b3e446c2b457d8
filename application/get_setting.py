"""GetSetting: one non-secret setting's effective value and where it comes from."""

from __future__ import annotations

from application.ports import Environment, SettingsStore
from application.settings_view import SettingView, view_setting
from domain.settings import setting_key


class GetSetting:
    """One setting's effective value."""

    def __init__(self, *, settings: SettingsStore, environment: Environment) -> None:
        self._settings = settings
        self._environment = environment

    def execute(self, name: str) -> SettingView:
        """The setting ``name``; raises ``InvalidSettingError`` for an unknown name."""
        key = setting_key(name)
        return view_setting(key, self._settings.load(), self._environment)
