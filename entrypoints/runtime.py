"""``Runtime``: the composition root in use, for the CLI, the SDK and the desktop panel.

It states what the caller knows (the environment, the config directory, the SDK's
``base_url=`` and ``token=``, where notices and warnings go), plugs the real or the
in-memory adapters into the use-cases, and is the one object that closes what was
opened. Entrypoints ask it for use-cases; nothing else reads the container.

    runtime = Runtime(os.environ, notify=notices.append)
    report = runtime.use_cases.show_status().execute()
    runtime.close()
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from application.ports import (
    Environment,
    KeyHelper,
    KeyVerifier,
    ProjectFiles,
    SecretStore,
    SettingsStore,
    ToolRunner,
    TraceBackend,
)
from domain.runtime import RuntimeConfig, config_dir_from
from domain.secret import Secret
from entrypoints.container import Boot, GivenAdapters, assemble

APP_NAME = "buildwithtrace"


def platform_config_dir() -> str:
    """The platform's user config directory for us (``~/.config/buildwithtrace`` on Linux)."""
    import platformdirs  # only when TRACE_CONFIG_DIR is unset: it costs start-up time

    return platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True)


def config_dir(env: Mapping[str, str]) -> Path:
    """``TRACE_CONFIG_DIR`` (``~`` expanded), else the platform's user config directory."""
    return Path(config_dir_from(env, platform_config_dir)).expanduser()


def log_warning(text: str) -> None:
    """Default warning sink: the ``buildwithtrace`` logger."""
    import logging

    logging.getLogger(APP_NAME).warning("%s", text)


class Notices:
    """A sink for what the user should be told once (a fall back to the file store...)."""

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        """Keep ``text`` until the next :meth:`drain`."""
        with self._lock:
            self._texts.append(text)

    def drain(self) -> list[str]:
        """Everything added since the last drain."""
        with self._lock:
            drained, self._texts = self._texts, []
        return drained


class Runtime:
    """One container of adapters and use-cases, and the one ``close()`` for what it opened."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        in_memory: bool = False,
        base_url: str | None = None,
        token: Secret | None = None,
        cache_reads: bool = False,
        notify: Callable[[str], None] | None = None,
        warn: Callable[[str], None] = log_warning,
        secrets: SecretStore | None = None,
        settings: SettingsStore | None = None,
        backend: TraceBackend | None = None,
        tool_runner: ToolRunner | None = None,
        environment: Environment | None = None,
        key_helper: KeyHelper | None = None,
        verifier: KeyVerifier | None = None,
        project_files: ProjectFiles | None = None,
    ) -> None:
        """``env``: the environment variables (default: the live ``os.environ``).

        ``secrets``, ``settings``, ``backend``, ``tool_runner`` (used for every project),
        ``environment``, ``key_helper``, ``verifier`` and ``project_files``: adapters of
        the caller's own, used as given (never cached, never closed here).
        ``cache_reads``: cache what the real secret store reads (the SDK: one process,
        many chats). Notices go to ``notify`` (default: kept for
        :meth:`notices`), adapter warnings to ``warn``.
        """
        variables: Mapping[str, str] = os.environ if env is None else env
        self._notices = Notices()
        self.boot = Boot(
            env=variables,
            config_dir=config_dir(variables),
            base_url=base_url,
            cache_reads=cache_reads,
            token=token,
            notify=notify or self._notices.add,
            warn=warn,
        )
        self.adapters, self.use_cases = assemble(
            self.boot,
            in_memory=in_memory,
            given=GivenAdapters(
                secrets,
                settings,
                backend,
                tool_runner,
                environment,
                key_helper,
                verifier,
                project_files,
            ),
        )
        self._closed = False
        self._lock = threading.Lock()

    @property
    def config(self) -> RuntimeConfig:
        """The runtime configuration (reads config.toml on first use)."""
        found: RuntimeConfig = self.adapters.config()
        return found

    def notices(self) -> list[str]:
        """Notices kept since the last call (when no ``notify`` sink was given)."""
        return self._notices.drain()

    def close(self) -> None:
        """Close what was opened (the backend's connections); idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        shutdown = self.adapters.shutdown_resources()
        if shutdown is not None:  # pragma: no cover - only async resources return one
            raise RuntimeError("an asynchronous resource cannot be closed here")
