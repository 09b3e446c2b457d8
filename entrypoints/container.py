"""The composition root: which adapter serves which port, and the use-cases built on them.

Only this module imports dependency_injector; only :mod:`entrypoints.runtime` reads it.
Providers name the classes they build (mypy checks every argument). Every value taken
from the environment or the settings comes from one :class:`~domain.runtime.RuntimeConfig`
(``Adapters.config``), built lazily by one pure function; nothing here parses a variable.

Start-up stays fast mostly because the adapter modules themselves keep their heavy
libraries out of the import path (keyring, tomlkit, RE2 and httpx load inside the calls
that need them). What only some commands build (doctor, login, verification, the
project allow list, the in-memory adapters...) is named by path with :func:`deferred`,
so its module loads when a command first builds it; everything a hot command (status,
use, model, chat) builds is imported here as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from dependency_injector import containers, providers

from adapters._fs.read_cache import file_fingerprint
from adapters.backend.http import open_http_backend
from adapters.environment import MappingEnvironment
from adapters.helpers.subprocess_helper import SubprocessKeyHelper
from adapters.project.files import LocalProjectFiles
from adapters.secrets.caching import CachingSecretStore
from adapters.secrets.fallback import FallbackSecretStore
from adapters.secrets.file import FileSecretStore
from adapters.secrets.keychain import KeyringSecretStore
from adapters.settings.caching import CachingSettingsStore
from adapters.settings.toml import TomlSettingsStore
from adapters.tools.local import LocalToolRunner
from application.chat import Chat
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
from application.select_model import SelectModel
from application.services.helper_keys import HelperKeys
from application.services.key_resolution import KeyResolution
from application.services.trace_token import TraceToken
from application.show_status import ShowStatus
from application.use_provider import UseProvider
from domain.errors import TraceError
from domain.provider import Provider
from domain.runtime import RuntimeConfig, runtime_config
from domain.secret import Secret
from domain.settings import Settings
from domain.value import Value

if TYPE_CHECKING:
    # Built by name (``deferred``): their modules load when a command first builds one.
    from adapters.backend.scripted import ScriptedTraceBackend
    from adapters.helpers.scripted import ScriptedKeyHelper
    from adapters.login.device import DeviceCodeLogin
    from adapters.project.files import InMemoryProjectFiles
    from adapters.secrets.memory import InMemorySecretStore
    from adapters.settings.memory import InMemorySettingsStore
    from adapters.verify.http import HttpKeyVerifier
    from adapters.verify.scripted import ScriptedKeyVerifier
    from application.allow_project import AllowProject, ForgetProject, ShowProject
    from application.auth_status import AuthStatus
    from application.billing_status import BillingStatus
    from application.change_setting import ChangeSetting
    from application.doctor import Doctor
    from application.get_setting import GetSetting
    from application.list_settings import ListSettings
    from application.login import Login
    from application.logout import Logout
    from application.remove_key import RemoveKey
    from application.resolve_key import ResolveKey
    from application.set_key import SetKey
    from application.verify_key import VerifyKey

CONFIG_FILE = "config.toml"
CREDENTIALS_FILE = "credentials.json"
# With cached reads (the SDK), a key another process puts in the keychain is seen after
# at most this long; file and config.toml changes are seen at once (their stat changes).
KEYCHAIN_CACHE_SECONDS = 5.0


@attrs.frozen(eq=False, repr=False)
class Boot(Value):
    """What the caller states when a runtime is built; everything else is derived."""

    env: Mapping[str, str] = attrs.field(repr=False)
    config_dir: Path
    base_url: str | None = None
    cache_reads: bool = False
    token: Secret | None = None  # the SDK's token=, above TRACE_API_TOKEN and the store
    notify: Callable[[str], None] = attrs.field(default=lambda _text: None, repr=False)
    warn: Callable[[str], None] = attrs.field(default=lambda _text: None, repr=False)

    @property
    def config_file(self) -> Path:
        """``config.toml`` in the config directory."""
        return self.config_dir / CONFIG_FILE

    @property
    def credentials_file(self) -> Path:
        """``credentials.json`` in the config directory."""
        return self.config_dir / CREDENTIALS_FILE

    @property
    def secrets_cache(self) -> str:
        """Which ``secrets`` variant to build: ``cached`` (the SDK) or ``direct``."""
        return "cached" if self.cache_reads else "direct"


def loaded(store: SettingsStore) -> Settings | TraceError:
    """The settings, or the error that loading them raised (the config carries it on)."""
    try:
        return store.load()
    except TraceError as error:
        return error


def verify_urls(config: RuntimeConfig) -> dict[Provider, str]:
    """Where ``byok verify`` asks each provider; a bad ``TRACE_*_BASE_URL`` raises when used."""
    return {provider: config.provider_url(provider) for provider in config.provider_urls}


def new_session_id() -> str:
    """A fresh chat session id."""
    import uuid  # only chats need one

    return uuid.uuid4().hex


def deferred(path: str) -> Callable[..., Any]:
    """``module:name``, imported on the first call and then called with its arguments.

    A provider built on it names what it builds without importing that module while
    the container loads: every command loads the container, and most build one or two
    use-cases (``byok status`` neither logs in nor verifies). The provider's annotation
    keeps the type its callers see.
    """
    module, _, name = path.partition(":")

    def build(*args: Any, **kwargs: Any) -> Any:
        from importlib import import_module

        return getattr(import_module(module), name)(*args, **kwargs)

    build.__qualname__ = f"deferred({path!r})"
    return build


class Adapters(containers.DeclarativeContainer):
    """The real adapters: the process environment, config.toml, keychain else 0600 file."""

    boot = providers.Dependency(instance_of=Boot)
    environment = providers.Singleton(MappingEnvironment, boot.provided.env)
    # Always read through the stat-checked cache: never stale, and a command that reads
    # the settings twice (the output.format default, then the use-case) parses once.
    settings = providers.Singleton(
        CachingSettingsStore,
        providers.Singleton(TomlSettingsStore, boot.provided.config_file),
        fingerprint=providers.Callable(file_fingerprint, boot.provided.config_file),
    )
    config = providers.Singleton(
        runtime_config,
        boot.provided.env,
        providers.Callable(loaded, settings),
        config_dir=boot.provided.config_dir,
        base_url=boot.provided.base_url,
    )
    keychain = providers.Singleton(
        KeyringSecretStore,
        config.provided.keychain_service,
        timeout=config.provided.keychain_timeout,
        backend_name=config.provided.keyring_backend,
    )
    credentials_file = providers.Singleton(FileSecretStore, boot.provided.credentials_file)
    chosen_store = providers.Selector(
        config.provided.store_name,
        auto=providers.Singleton(
            FallbackSecretStore, keychain, credentials_file, notify=boot.provided.notify
        ),
        keychain=keychain,
        file=credentials_file,
    )
    secrets = providers.Selector(
        boot.provided.secrets_cache,
        cached=providers.Singleton(
            CachingSecretStore,
            chosen_store,
            fingerprint=providers.Callable(file_fingerprint, boot.provided.credentials_file),
            max_age=KEYCHAIN_CACHE_SECONDS,
        ),
        direct=chosen_store,
    )
    backend = providers.Resource(open_http_backend, config, warn=boot.provided.warn)
    tool_runner = providers.Factory(
        LocalToolRunner.in_project,
        kicad_cli=config.provided.kicad_cli,
        find_kicad_cli=True,
        environment=boot.provided.env,
    )
    browser_login: providers.Factory[DeviceCodeLogin] = providers.Factory(
        deferred("adapters.login.device:DeviceCodeLogin"),
        backend,
        timeout=config.provided.login_timeout,
    )
    new_session_id = providers.Object(new_session_id)
    key_helper = providers.Singleton(
        SubprocessKeyHelper, boot.provided.env, timeout=config.provided.helper_timeout
    )
    verifier: providers.Factory[HttpKeyVerifier] = providers.Factory(
        deferred("adapters.verify.http:HttpKeyVerifier"), providers.Callable(verify_urls, config)
    )
    project_files = providers.Singleton(LocalProjectFiles)
    clock = providers.Object(time.time)


class InMemoryAdapters(containers.DeclarativeContainer):
    """In-memory adapters, first-class: for tests, SDK users and the desktop app's previews."""

    boot = providers.Dependency(instance_of=Boot)
    environment = providers.Singleton(MappingEnvironment, boot.provided.env)
    settings: providers.Singleton[InMemorySettingsStore] = providers.Singleton(
        deferred("adapters.settings.memory:InMemorySettingsStore")
    )
    config = providers.Singleton(
        runtime_config,
        boot.provided.env,
        providers.Callable(loaded, settings),
        config_dir=boot.provided.config_dir,
        base_url=boot.provided.base_url,
    )
    secrets: providers.Singleton[InMemorySecretStore] = providers.Singleton(
        deferred("adapters.secrets.memory:InMemorySecretStore")
    )
    backend: providers.Singleton[ScriptedTraceBackend] = providers.Singleton(
        deferred("adapters.backend.scripted:ScriptedTraceBackend")
    )
    tool_runner = providers.Factory(LocalToolRunner.in_project, environment=boot.provided.env)
    browser_login: providers.Factory[DeviceCodeLogin] = providers.Factory(
        deferred("adapters.login.device:DeviceCodeLogin"),
        backend,
        timeout=config.provided.login_timeout,
    )
    new_session_id = providers.Object(new_session_id)
    key_helper: providers.Singleton[ScriptedKeyHelper] = providers.Singleton(
        deferred("adapters.helpers.scripted:ScriptedKeyHelper")
    )
    verifier: providers.Singleton[ScriptedKeyVerifier] = providers.Singleton(
        deferred("adapters.verify.scripted:ScriptedKeyVerifier")
    )
    project_files: providers.Singleton[InMemoryProjectFiles] = providers.Singleton(
        deferred("adapters.project.files:InMemoryProjectFiles")
    )
    clock = providers.Object(time.time)


class UseCases(containers.DeclarativeContainer):
    """The use-cases and the services they share, over whichever adapters are plugged in."""

    adapters = providers.DependenciesContainer()

    # Services several use-cases share. HelperKeys holds helper keys in memory, one
    # per runtime (the CLI's process, an SDK client).
    helper_keys = providers.Singleton(
        HelperKeys,
        runner=adapters.key_helper,
        clock=adapters.clock,
        ttl=adapters.config.provided.helper_ttl,
    )
    key_resolution = providers.Singleton(
        KeyResolution,
        secrets=adapters.secrets,
        settings=adapters.settings,
        environment=adapters.environment,
        helper_keys=helper_keys,
        project_files=adapters.project_files,
    )
    token = providers.Factory(
        TraceToken,
        secrets=adapters.secrets,
        environment=adapters.environment,
        explicit=adapters.boot.provided.token,
    )
    resolve_key: providers.Factory[ResolveKey] = providers.Factory(
        deferred("application.resolve_key:ResolveKey"), key_resolution=key_resolution
    )
    set_key: providers.Factory[SetKey] = providers.Factory(
        deferred("application.set_key:SetKey"),
        secrets=adapters.secrets,
        settings=adapters.settings,
        environment=adapters.environment,
        key_resolution=key_resolution,
        verifier=adapters.verifier,
    )
    verify_key: providers.Factory[VerifyKey] = providers.Factory(
        deferred("application.verify_key:VerifyKey"),
        key_resolution=key_resolution,
        verifier=adapters.verifier,
    )
    allow_project: providers.Factory[AllowProject] = providers.Factory(
        deferred("application.allow_project:AllowProject"),
        settings=adapters.settings,
        project_files=adapters.project_files,
    )
    forget_project: providers.Factory[ForgetProject] = providers.Factory(
        deferred("application.allow_project:ForgetProject"),
        settings=adapters.settings,
        project_files=adapters.project_files,
    )
    show_project: providers.Factory[ShowProject] = providers.Factory(
        deferred("application.allow_project:ShowProject"),
        settings=adapters.settings,
        project_files=adapters.project_files,
    )
    use_provider = providers.Factory(
        UseProvider, settings=adapters.settings, key_resolution=key_resolution
    )
    select_model = providers.Factory(SelectModel, settings=adapters.settings)
    remove_key: providers.Factory[RemoveKey] = providers.Factory(
        deferred("application.remove_key:RemoveKey"),
        secrets=adapters.secrets,
        settings=adapters.settings,
        key_resolution=key_resolution,
    )
    show_status = providers.Factory(
        ShowStatus,
        secrets=adapters.secrets,
        settings=adapters.settings,
        key_resolution=key_resolution,
    )
    # doctor runs every check it can: a store that cannot be chosen (a corrupt
    # config.toml without TRACE_CREDENTIALS_STORE) is reported, not raised at build time.
    doctor_secrets = providers.Callable(
        deferred("adapters.secrets.unchosen:chosen_or_unchosen"), adapters.secrets.provider
    )
    doctor: providers.Factory[Doctor] = providers.Factory(
        deferred("application.doctor:Doctor"),
        secrets=doctor_secrets,
        settings=adapters.settings,
        environment=adapters.environment,
        key_resolution=providers.Factory(
            KeyResolution,
            secrets=doctor_secrets,
            settings=adapters.settings,
            environment=adapters.environment,
            helper_keys=helper_keys,
            project_files=adapters.project_files,
        ),
        verifier=adapters.verifier,
    )
    list_settings: providers.Factory[ListSettings] = providers.Factory(
        deferred("application.list_settings:ListSettings"),
        settings=adapters.settings,
        environment=adapters.environment,
    )
    get_setting: providers.Factory[GetSetting] = providers.Factory(
        deferred("application.get_setting:GetSetting"),
        settings=adapters.settings,
        environment=adapters.environment,
    )
    change_setting: providers.Factory[ChangeSetting] = providers.Factory(
        deferred("application.change_setting:ChangeSetting"),
        settings=adapters.settings,
        environment=adapters.environment,
    )
    chat = providers.Factory(
        Chat,
        key_resolution=key_resolution,
        token=token,
        backend=adapters.backend,
        tool_runner=adapters.tool_runner.provider,
        new_session_id=adapters.new_session_id,
    )
    login: providers.Factory[Login] = providers.Factory(
        deferred("application.login:Login"),
        secrets=adapters.secrets,
        backend=adapters.backend,
        token=token,
        browser_login=adapters.browser_login,
    )
    logout: providers.Factory[Logout] = providers.Factory(
        deferred("application.logout:Logout"), secrets=adapters.secrets
    )
    auth_status: providers.Factory[AuthStatus] = providers.Factory(
        deferred("application.auth_status:AuthStatus"), backend=adapters.backend, token=token
    )
    billing_status: providers.Factory[BillingStatus] = providers.Factory(
        deferred("application.billing_status:BillingStatus"),
        backend=adapters.backend,
        token=token,
        settings=adapters.settings,
        key_resolution=key_resolution,
    )


@attrs.frozen(eq=False, repr=False)
class GivenAdapters(Value):
    """Adapters of the caller's own (an SDK user's store, a test's fake), used as given."""

    secrets: SecretStore | None = None
    settings: SettingsStore | None = None
    backend: TraceBackend | None = None
    tool_runner: ToolRunner | None = None  # used for every project
    environment: Environment | None = None
    key_helper: KeyHelper | None = None
    verifier: KeyVerifier | None = None
    project_files: ProjectFiles | None = None


def assemble(
    boot: Boot, *, in_memory: bool = False, given: GivenAdapters = GivenAdapters()
) -> tuple[Adapters | InMemoryAdapters, UseCases]:
    """The adapters (real or in-memory, with ``given`` ones in place) and the use-cases."""
    adapters = (
        InMemoryAdapters(boot=providers.Object(boot))
        if in_memory
        else Adapters(boot=providers.Object(boot))
    )
    if given.secrets is not None:
        adapters.secrets.override(providers.Object(given.secrets))
    if given.settings is not None:
        adapters.settings.override(providers.Object(given.settings))
    if given.backend is not None:
        adapters.backend.override(providers.Object(given.backend))
    if given.environment is not None:
        adapters.environment.override(providers.Object(given.environment))
    if given.key_helper is not None:
        adapters.key_helper.override(providers.Object(given.key_helper))
    if given.verifier is not None:
        adapters.verifier.override(providers.Object(given.verifier))
    if given.project_files is not None:
        adapters.project_files.override(providers.Object(given.project_files))
    if given.tool_runner is not None:
        runner = given.tool_runner
        adapters.tool_runner.override(providers.Callable(lambda _project: runner))
    return adapters, UseCases(adapters=adapters)
