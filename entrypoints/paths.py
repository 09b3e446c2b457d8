"""Where our files live: ``TRACE_CONFIG_DIR``, else the platform's user config dir."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

APP_NAME = "buildwithtrace"
CONFIG_FILE = "config.toml"
CREDENTIALS_FILE = "credentials.json"


def config_dir(env: Mapping[str, str]) -> Path:
    """The config directory (not created here)."""
    override = env.get("TRACE_CONFIG_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs  # only when needed: it costs start-up time

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True))
