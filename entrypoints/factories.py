"""Factories the container calls to build each adapter, importing its module only then.

A command pays only for the adapters it really uses: ``byok status`` with the file
store never imports keyring, and nothing but ``chat``, ``auth`` and ``billing``
imports httpx. No dependency_injector here: the container wires these together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from domain.settings import StoreChoice
from entrypoints.paths import CONFIG_FILE, CREDENTIALS_FILE

if TYPE_CHECKING:
    from application.ports import Environment, SecretStore, SettingsStore, ToolRunner, TraceBackend

STORE_ENV = "TRACE_CREDENTIALS_STORE"
# With cached reads (the SDK), a key another process puts in the keychain is seen after
# at most this long; file and config.toml changes are seen at once (their stat changes).
KEYCHAIN_CACHE_SECONDS = 5.0


def os_environment() -> Environment:
    from adapters.environment import OsEnvironment

    return OsEnvironment()


def toml_settings(config_dir: str) -> SettingsStore:
    from adapters.settings.toml import TomlSettingsStore

    return TomlSettingsStore(Path(config_dir) / CONFIG_FILE)


def file_store(config_dir: str) -> SecretStore:
    from adapters.secrets.file import FileSecretStore

    return FileSecretStore(Path(config_dir) / CREDENTIALS_FILE)


def cached_settings(store: SettingsStore, enabled: bool, config_dir: str) -> SettingsStore:
    if not enabled:
        return store
    from adapters._fs.read_cache import file_fingerprint
    from adapters.settings.caching import CachingSettingsStore

    return CachingSettingsStore(store, fingerprint=file_fingerprint(Path(config_dir) / CONFIG_FILE))


def cached_secrets(store: SecretStore, enabled: bool, config_dir: str) -> SecretStore:
    if not enabled:
        return store
    from adapters._fs.read_cache import file_fingerprint
    from adapters.secrets.caching import CachingSecretStore

    return CachingSecretStore(
        store,
        fingerprint=file_fingerprint(Path(config_dir) / CREDENTIALS_FILE),
        max_age=KEYCHAIN_CACHE_SECONDS,
    )


def keychain_store(service: str, timeout: float, environment: Environment) -> SecretStore:
    from adapters.secrets.keychain import KeyringSecretStore

    named = environment.get("PYTHON_KEYRING_BACKEND")
    return KeyringSecretStore(service, timeout=timeout, backend_name=named)


def store_choice(environment: Environment, settings: SettingsStore) -> StoreChoice:
    """``TRACE_CREDENTIALS_STORE``, else the ``credentials.store`` setting, else auto."""
    raw = (environment.get(STORE_ENV) or "").strip().lower()
    if raw:
        try:
            return StoreChoice(raw)
        except ValueError:
            allowed = ", ".join(c.value for c in StoreChoice)
            from domain.errors import InvalidSettingError

            raise InvalidSettingError(
                f"{STORE_ENV}={raw!r} is not one of: {allowed}", f"export {STORE_ENV}=auto"
            ) from None
    return settings.load().credentials_store or StoreChoice.AUTO


def secret_store(
    choice: StoreChoice,
    keychain: Callable[[], SecretStore],
    file: Callable[[], SecretStore],
    built: list[SecretStore],
) -> SecretStore:
    store: SecretStore
    if choice is StoreChoice.FILE:
        store = file()
    elif choice is StoreChoice.KEYCHAIN:
        store = keychain()
    else:
        from adapters.secrets.fallback import FallbackSecretStore

        store = FallbackSecretStore(keychain(), file())
    built.append(store)  # so the CLI can print the store's notices without building one
    return store


def http_backend(
    environment: Environment,
    settings: SettingsStore,
    warn: Callable[[str], None],
    built: list[TraceBackend],
) -> TraceBackend:
    from adapters.backend.http import HttpTraceBackend
    from adapters.backend.http.urls import base_url_for

    current = settings.load()
    backend_env = current.backend_env.value if current.backend_env else None
    version = (environment.get("TRACE_API_VERSION") or "").strip() or current.api_version
    backend: TraceBackend = HttpTraceBackend(
        base_url_for(environment.get("TRACE_BASE_URL"), backend_env),
        api_version=version or "latest",
        on_warning=warn,
    )
    built.append(backend)  # so close() can release connections without building one
    return backend


def log_warning(text: str) -> None:
    import logging

    logging.getLogger("buildwithtrace").warning("%s", text)


def local_tools(
    kicad_cli: str | None, environment: Environment | None = None
) -> Callable[[str | None], ToolRunner]:
    def runner_for(project_dir: str | None) -> ToolRunner:
        from adapters.tools.local import LocalToolRunner

        # The runner passes only an allow-list of these to kicad-cli (no keys, no token).
        variables = environment.snapshot(environment.names()) if environment else {}
        return LocalToolRunner(
            Path(project_dir or ".").resolve(), kicad_cli=kicad_cli, environment=variables
        )

    return runner_for


def find_kicad_cli(environment: Environment) -> str | None:
    import shutil

    return (environment.get("TRACE_KICAD_CLI") or "").strip() or shutil.which("kicad-cli")


def new_session_id() -> str:
    import uuid

    return uuid.uuid4().hex


def scripted_backend() -> TraceBackend:
    from adapters.backend.scripted import ScriptedTraceBackend

    return ScriptedTraceBackend()


def mapping_environment(variables: Mapping[str, str] | None) -> Environment:
    from adapters.environment import MappingEnvironment

    return MappingEnvironment(dict(variables or {}))


def in_memory_settings() -> SettingsStore:
    from adapters.settings.memory import InMemorySettingsStore

    return InMemorySettingsStore()


def in_memory_secrets() -> SecretStore:
    from adapters.secrets.memory import InMemorySecretStore

    return InMemorySecretStore()
