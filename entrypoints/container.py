"""The composition root: which adapters serve which ports, and the use-cases built on them.

Only this module imports dependency_injector. Adapter modules are imported inside
the factory functions, so a command pays only for the adapters it really uses
(``byok status`` with the file store never imports keyring; nothing but ``chat``
and ``auth`` import httpx).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from domain.settings import StoreChoice
from entrypoints.paths import CONFIG_FILE, CREDENTIALS_FILE

if TYPE_CHECKING:
    from application.billing_status import BillingStatus
    from application.change_setting import ChangeSetting
    from application.chat import Chat
    from application.doctor import Doctor
    from application.list_settings import GetSetting, ListSettings
    from application.login import AuthStatus, Login, Logout
    from application.ports import (
        Environment,
        SecretStore,
        SettingsStore,
        ToolRunner,
        TraceBackend,
    )
    from application.remove_key import RemoveKey
    from application.resolve_key import ResolveKey
    from application.select_model import SelectModel
    from application.set_key import SetKey
    from application.show_status import ShowStatus
    from application.trace_token import TraceToken
    from application.use_provider import UseProvider
    from domain.secret import Secret

DEFAULT_KEYCHAIN_SERVICE = "buildwithtrace"
DEFAULT_KEYCHAIN_TIMEOUT = 3.0
STORE_ENV = "TRACE_CREDENTIALS_STORE"
# With cached reads (the SDK), a key another process puts in the keychain is seen after
# at most this long; file and config.toml changes are seen at once (their stat changes).
KEYCHAIN_CACHE_SECONDS = 5.0


def _os_environment() -> Environment:
    from adapters.environment import OsEnvironment

    return OsEnvironment()


def _toml_settings(config_dir: str) -> SettingsStore:
    from adapters.toml_settings import TomlSettingsStore

    return TomlSettingsStore(Path(config_dir) / CONFIG_FILE)


def _file_store(config_dir: str) -> SecretStore:
    from adapters.file_store import FileSecretStore

    return FileSecretStore(Path(config_dir) / CREDENTIALS_FILE)


def _cached_settings(store: SettingsStore, enabled: bool, config_dir: str) -> SettingsStore:
    if not enabled:
        return store
    from adapters.caching import CachingSettingsStore, file_fingerprint

    return CachingSettingsStore(store, fingerprint=file_fingerprint(Path(config_dir) / CONFIG_FILE))


def _cached_secrets(store: SecretStore, enabled: bool, config_dir: str) -> SecretStore:
    if not enabled:
        return store
    from adapters.caching import CachingSecretStore, file_fingerprint

    return CachingSecretStore(
        store,
        fingerprint=file_fingerprint(Path(config_dir) / CREDENTIALS_FILE),
        max_age=KEYCHAIN_CACHE_SECONDS,
    )


def _keychain_store(service: str, timeout: float) -> SecretStore:
    from adapters.keyring_store import KeyringSecretStore

    return KeyringSecretStore(service, timeout=timeout)


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


def _secret_store(
    choice: StoreChoice,
    keychain: providers.Provider[SecretStore],
    file: providers.Provider[SecretStore],
    built: list[SecretStore],
) -> SecretStore:
    store: SecretStore
    if choice is StoreChoice.FILE:
        store = file()
    elif choice is StoreChoice.KEYCHAIN:
        store = keychain()
    else:
        from adapters.fallback_store import FallbackSecretStore

        store = FallbackSecretStore(keychain(), file())
    built.append(store)  # so the CLI can print the store's notices without building one
    return store


def _http_backend(
    environment: Environment,
    settings: SettingsStore,
    warn: Callable[[str], None],
    built: list[TraceBackend],
) -> TraceBackend:
    from adapters.http_backend import HttpTraceBackend
    from adapters.http_backend.urls import base_url_for

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


def _log_warning(text: str) -> None:
    import logging

    logging.getLogger("buildwithtrace").warning("%s", text)


def _local_tools(kicad_cli: str | None) -> Callable[[str | None], ToolRunner]:
    def runner_for(project_dir: str | None) -> ToolRunner:
        from adapters.local_tools import LocalToolRunner

        return LocalToolRunner(Path(project_dir or ".").resolve(), kicad_cli=kicad_cli)

    return runner_for


def _find_kicad_cli(environment: Environment) -> str | None:
    import shutil

    return (environment.get("TRACE_KICAD_CLI") or "").strip() or shutil.which("kicad-cli")


def _new_session_id() -> str:
    import uuid

    return uuid.uuid4().hex


class Adapters(containers.DeclarativeContainer):
    """The real adapters: OS environment, config.toml, keychain else 0600 file.

    With ``config.cache_reads`` the secret and settings stores are wrapped in read
    caches (``adapters.caching``) that every use-case writes through.
    """

    config = providers.Configuration(strict=True)
    environment = providers.Singleton(_os_environment)
    settings = providers.Singleton(
        _cached_settings,
        providers.Singleton(_toml_settings, config_dir=config.config_dir),
        config.cache_reads,
        config.config_dir,
    )
    keychain = providers.Singleton(
        _keychain_store, service=config.keychain_service, timeout=config.keychain_timeout
    )
    credentials_file = providers.Singleton(_file_store, config_dir=config.config_dir)
    built_secret_stores: providers.Singleton[list[SecretStore]] = providers.Singleton(list)
    secrets = providers.Singleton(
        _cached_secrets,
        providers.Singleton(
            _secret_store,
            choice=providers.Callable(store_choice, environment, settings),
            keychain=keychain.provider,
            file=credentials_file.provider,
            built=built_secret_stores,
        ),
        config.cache_reads,
        config.config_dir,
    )
    warn: providers.Object[Callable[[str], None]] = providers.Object(_log_warning)
    built_backends: providers.Singleton[list[TraceBackend]] = providers.Singleton(list)
    backend = providers.Singleton(_http_backend, environment, settings, warn, built_backends)
    tool_runner = providers.Singleton(
        _local_tools, providers.Callable(_find_kicad_cli, environment)
    )
    new_session_id = providers.Object(_new_session_id)


class InMemoryAdapters(containers.DeclarativeContainer):
    """In-memory adapters for tests, SDK users and the desktop app's previews."""

    config = providers.Configuration()
    environment = providers.Singleton(
        lambda variables: _mapping_environment(variables), config.environment
    )
    settings = providers.Singleton(lambda: _in_memory_settings())
    secrets = providers.Singleton(lambda: _in_memory_secrets())
    built_secret_stores: providers.Singleton[list[SecretStore]] = providers.Singleton(list)
    warn: providers.Object[Callable[[str], None]] = providers.Object(_log_warning)
    built_backends: providers.Singleton[list[TraceBackend]] = providers.Singleton(list)
    backend = providers.Singleton(lambda: _scripted_backend())
    tool_runner = providers.Singleton(_local_tools, None)
    new_session_id = providers.Object(_new_session_id)


def _scripted_backend() -> TraceBackend:
    from adapters.scripted_backend import ScriptedTraceBackend

    return ScriptedTraceBackend()


def _mapping_environment(variables: Mapping[str, str] | None) -> Environment:
    from adapters.environment import MappingEnvironment

    return MappingEnvironment(dict(variables or {}))


def _in_memory_settings() -> SettingsStore:
    from adapters.memory import InMemorySettingsStore

    return InMemorySettingsStore()


def _in_memory_secrets() -> SecretStore:
    from adapters.memory import InMemorySecretStore

    return InMemorySecretStore()


def _use_case(module: str, name: str) -> Callable[..., Any]:
    """A factory that imports ``module`` only when the use-case is first built.

    Each command needs one or two use-cases; importing all of them (``chat`` alone
    pulls in concurrent.futures and queue) would cost every command ~10 ms.
    """

    def build(**ports: Any) -> Any:
        return getattr(importlib.import_module(module), name)(**ports)

    build.__qualname__ = build.__name__ = name
    return build


class UseCases(containers.DeclarativeContainer):
    """The use-cases, built on whichever adapters container is plugged in."""

    adapters = providers.DependenciesContainer()

    resolve_key: providers.Singleton[ResolveKey] = providers.Singleton(
        _use_case("application.resolve_key", "ResolveKey"),
        secrets=adapters.secrets,
        settings=adapters.settings,
        environment=adapters.environment,
    )
    set_key: providers.Factory[SetKey] = providers.Factory(
        _use_case("application.set_key", "SetKey"),
        secrets=adapters.secrets,
        settings=adapters.settings,
        environment=adapters.environment,
    )
    use_provider: providers.Factory[UseProvider] = providers.Factory(
        _use_case("application.use_provider", "UseProvider"),
        settings=adapters.settings,
        resolve_key=resolve_key,
    )
    select_model: providers.Factory[SelectModel] = providers.Factory(
        _use_case("application.select_model", "SelectModel"), settings=adapters.settings
    )
    remove_key: providers.Factory[RemoveKey] = providers.Factory(
        _use_case("application.remove_key", "RemoveKey"),
        secrets=adapters.secrets,
        settings=adapters.settings,
        resolve_key=resolve_key,
    )
    show_status: providers.Factory[ShowStatus] = providers.Factory(
        _use_case("application.show_status", "ShowStatus"),
        secrets=adapters.secrets,
        settings=adapters.settings,
        resolve_key=resolve_key,
    )
    doctor: providers.Factory[Doctor] = providers.Factory(
        _use_case("application.doctor", "Doctor"),
        secrets=adapters.secrets,
        settings=adapters.settings,
        environment=adapters.environment,
        resolve_key=resolve_key,
    )
    list_settings: providers.Factory[ListSettings] = providers.Factory(
        _use_case("application.list_settings", "ListSettings"),
        settings=adapters.settings,
        environment=adapters.environment,
    )
    get_setting: providers.Factory[GetSetting] = providers.Factory(
        _use_case("application.list_settings", "GetSetting"),
        settings=adapters.settings,
        environment=adapters.environment,
    )
    change_setting: providers.Factory[ChangeSetting] = providers.Factory(
        _use_case("application.change_setting", "ChangeSetting"),
        settings=adapters.settings,
        environment=adapters.environment,
    )
    explicit_token: providers.Object[Secret | None] = providers.Object(None)
    token: providers.Factory[TraceToken] = providers.Factory(
        _use_case("application.trace_token", "TraceToken"),
        secrets=adapters.secrets,
        environment=adapters.environment,
        explicit=explicit_token,
    )
    chat: providers.Factory[Chat] = providers.Factory(
        _use_case("application.chat", "Chat"),
        resolve_key=resolve_key,
        token=token,
        backend=adapters.backend,
        tool_runner=adapters.tool_runner,
        new_session_id=adapters.new_session_id,
    )
    login: providers.Factory[Login] = providers.Factory(
        _use_case("application.login", "Login"),
        secrets=adapters.secrets,
        backend=adapters.backend,
        token=token,
    )
    logout: providers.Factory[Logout] = providers.Factory(
        _use_case("application.login", "Logout"), secrets=adapters.secrets
    )
    auth_status: providers.Factory[AuthStatus] = providers.Factory(
        _use_case("application.login", "AuthStatus"), backend=adapters.backend, token=token
    )
    billing_status: providers.Factory[BillingStatus] = providers.Factory(
        _use_case("application.billing_status", "BillingStatus"),
        backend=adapters.backend,
        token=token,
        settings=adapters.settings,
        resolve_key=resolve_key,
    )


class Container(containers.DeclarativeContainer):
    """Adapters plus use-cases; entrypoints pull what they need from an instance."""

    config = providers.Configuration(strict=True)
    adapters: providers.Container[Any] = providers.Container(Adapters, config=config)
    use_cases = providers.Container(UseCases, adapters=adapters)


def pending_notices(container: Container) -> list[str]:
    """Notices of the secret stores built so far (drained); builds nothing new."""
    stores: list[SecretStore] = container.adapters.built_secret_stores()
    return [notice.text for store in stores for notice in store.notices()]


def close_backends(container: Container) -> None:
    """Close the backends built so far; builds nothing new."""
    backends: list[TraceBackend] = container.adapters.built_backends()
    for backend in backends:
        backend.close()


def build_container(
    env: Mapping[str, str] | None = None,
    *,
    in_memory: bool = False,
    overrides: Mapping[str, object] | None = None,
    warn: Callable[[str], None] | None = None,
    cache_reads: bool = False,
) -> Container:
    """A container for the CLI, the SDK or the desktop app.

    ``env`` is read for the config dir and keychain service (the process
    environment when None). ``in_memory`` swaps every adapter for its in-memory
    version; ``overrides`` replaces single adapters by name (``secrets``,
    ``settings``, ``environment``, ...), e.g. an SDK user's own secret store.
    ``warn`` receives adapter warnings (default: the ``buildwithtrace`` logger).
    ``cache_reads`` (the SDK: one process, many chats) caches what the real secret
    and settings stores read; adapters passed in ``overrides`` are never wrapped.
    """
    import os

    from entrypoints.paths import config_dir

    variables = os.environ if env is None else env
    container = Container()
    container.config.from_dict(
        {
            "config_dir": str(config_dir(variables)),
            "keychain_service": variables.get("TRACE_KEYCHAIN_SERVICE", "").strip()
            or DEFAULT_KEYCHAIN_SERVICE,
            "keychain_timeout": _timeout(variables),
            "cache_reads": cache_reads,
        }
    )
    if in_memory:
        memory = InMemoryAdapters()
        memory.config.from_dict({"environment": dict(variables)})
        container.adapters.override(memory)
    elif env is not None:
        # One environment for everything: the adapters read the same mapping that
        # chose the config dir, never a mix of it and os.environ.
        container.adapters.environment.override(providers.Object(_mapping_environment(env)))
    for name, adapter in (overrides or {}).items():
        getattr(container.adapters, name).override(providers.Object(adapter))
    if warn is not None:
        container.adapters.warn.override(providers.Object(warn))
    return container


def _timeout(variables: Mapping[str, str]) -> float:
    raw = variables.get("TRACE_KEYCHAIN_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_KEYCHAIN_TIMEOUT
    except ValueError:
        value = DEFAULT_KEYCHAIN_TIMEOUT
    return value if 0 < value <= 60 else DEFAULT_KEYCHAIN_TIMEOUT
