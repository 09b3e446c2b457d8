"""The composition root: which adapters serve which ports, and the use-cases built on them.

Only this module imports dependency_injector. Adapter modules are imported inside
the factory functions, so a command pays only for the adapters it really uses
(``byok status`` with the file store never imports keyring; nothing but ``chat``
and ``auth`` import httpx).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from entrypoints import factories

if TYPE_CHECKING:
    from application.auth_status import AuthStatus
    from application.billing_status import BillingStatus
    from application.change_setting import ChangeSetting
    from application.chat import Chat
    from application.doctor import Doctor
    from application.get_setting import GetSetting
    from application.list_settings import ListSettings
    from application.login import Login
    from application.logout import Logout
    from application.ports import (
        SecretStore,
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


class Adapters(containers.DeclarativeContainer):
    """The real adapters: OS environment, config.toml, keychain else 0600 file.

    Settings are always read through a stat-checked cache (``adapters._fs.read_cache``);
    with ``config.cache_reads`` the secret store is wrapped in one too. Every
    use-case writes through them.
    """

    config = providers.Configuration(strict=True)
    environment = providers.Singleton(factories.os_environment)
    # Settings are always read through the cache: it is checked against the file's stat
    # on every load and written through, so it is never stale, and a command that reads
    # them twice (the CLI's output.format default, then the use-case) parses once.
    settings = providers.Singleton(
        factories.cached_settings,
        providers.Singleton(factories.toml_settings, config_dir=config.config_dir),
        True,
        config.config_dir,
    )
    keychain = providers.Singleton(
        factories.keychain_store,
        service=config.keychain_service,
        timeout=config.keychain_timeout,
        environment=environment,
    )
    credentials_file = providers.Singleton(factories.file_store, config_dir=config.config_dir)
    built_secret_stores: providers.Singleton[list[SecretStore]] = providers.Singleton(list)
    secrets = providers.Singleton(
        factories.cached_secrets,
        providers.Singleton(
            factories.secret_store,
            choice=providers.Callable(factories.store_choice, environment, settings),
            keychain=keychain.provider,
            file=credentials_file.provider,
            built=built_secret_stores,
        ),
        config.cache_reads,
        config.config_dir,
    )
    warn: providers.Object[Callable[[str], None]] = providers.Object(factories.log_warning)
    built_backends: providers.Singleton[list[TraceBackend]] = providers.Singleton(list)
    backend = providers.Singleton(
        factories.http_backend, environment, settings, warn, built_backends
    )
    tool_runner = providers.Singleton(
        factories.local_tools,
        providers.Callable(factories.find_kicad_cli, environment),
        environment,
    )
    new_session_id = providers.Object(factories.new_session_id)


class InMemoryAdapters(containers.DeclarativeContainer):
    """In-memory adapters for tests, SDK users and the desktop app's previews."""

    config = providers.Configuration()
    environment = providers.Singleton(
        lambda variables: factories.mapping_environment(variables), config.environment
    )
    settings = providers.Singleton(lambda: factories.in_memory_settings())
    secrets = providers.Singleton(lambda: factories.in_memory_secrets())
    built_secret_stores: providers.Singleton[list[SecretStore]] = providers.Singleton(list)
    warn: providers.Object[Callable[[str], None]] = providers.Object(factories.log_warning)
    built_backends: providers.Singleton[list[TraceBackend]] = providers.Singleton(list)
    backend = providers.Singleton(lambda: factories.scripted_backend())
    tool_runner = providers.Singleton(factories.local_tools, None)
    new_session_id = providers.Object(factories.new_session_id)


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
        _use_case("application.get_setting", "GetSetting"),
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
        _use_case("application.logout", "Logout"), secrets=adapters.secrets
    )
    auth_status: providers.Factory[AuthStatus] = providers.Factory(
        _use_case("application.auth_status", "AuthStatus"), backend=adapters.backend, token=token
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
    ``cache_reads`` (the SDK: one process, many chats) also caches what the real
    secret store reads; adapters passed in ``overrides`` are never wrapped.
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
        container.adapters.environment.override(
            providers.Object(factories.mapping_environment(env))
        )
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
