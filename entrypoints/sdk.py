"""The embedded Python API: the same use-cases as the CLI, with keyword arguments.

    from entrypoints.sdk import Trace

    with Trace() as trace:
        reply = trace.chat("Add a 100nF cap on VCC", mode="agent", project_dir="./board")
        print(reply.text, reply.conversation_id, reply.billing, reply.usage)

``Trace`` is for scripts and CI, ``AsyncTrace`` the same surface for asyncio. Both
read the same config dir, secret store and settings as the ``buildwithtrace`` CLI
(so ``buildwithtrace byok set`` in a shell works from code), unless the caller
passes its own adapters (``secrets=``, ``settings=``, ``backend=``, ``env=``...).

BYOK precedence per call (DESIGN section 3; the rules live in ``ResolveKey``):
per-call ``llm_*`` arguments, then ``TRACE_LLM_PROVIDER`` / ``TRACE_LLM_API_KEY`` /
``TRACE_LLM_MODEL``, then the constructor's ``llm_*`` defaults, then what
``byok set`` / ``byok use`` stored (the Node SDK follows the same table). The Trace
token: ``token=``, then ``TRACE_API_TOKEN``, then the stored login.

Errors are the typed exceptions of ``domain.errors`` (re-exported here), never
``SystemExit`` and never an httpx exception; each message ends with the fix and
none carries a key. See docs/sdk.md.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypedDict, TypeVar, Unpack

from application.chat import (
    Chat,
    ChatCommand,
    ChatFinished,
    ChatOutput,
    ChatReply,
    ToolFinished,
    ToolRun,
)
from application.ports import SecretStore, SettingsStore, ToolRunner, TraceBackend
from application.remove_key import RemoveKeyResult
from application.resolve_key import RequestOverrides
from application.select_model import SelectModelResult
from application.set_key import SetKeyResult
from application.show_status import StatusReport
from application.use_provider import UseProviderResult
from domain.billing import BillingMode
from domain.chat import (
    AppType,
    ChatMode,
    ClientKind,
    FileEdit,
    StatusUpdate,
    StreamError,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
    Usage,
)
from domain.errors import (
    AmbiguousCredentialError,
    AuthenticationRejectedError,
    BackendError,
    BackendUnavailableError,
    InvalidInputError,
    MissingKeyError,
    NotLoggedInError,
    PlanRestrictionError,
    QuotaExhaustedError,
    StorageError,
    TraceError,
)
from domain.resolution import Resolution, SelectionOrigin
from domain.secret import Secret
from entrypoints.container import Container, build_container, close_backends

__all__ = [
    "AmbiguousCredentialError",
    "AsyncTrace",
    "AuthenticationRejectedError",
    "BackendError",
    "BackendUnavailableError",
    "BillingMode",
    "ChatFinished",
    "ChatOptions",
    "ChatOutput",
    "ChatReply",
    "FileEdit",
    "InvalidInputError",
    "MissingKeyError",
    "NotLoggedInError",
    "PlanRestrictionError",
    "QuotaExhaustedError",
    "Resolution",
    "StatusUpdate",
    "StorageError",
    "StreamError",
    "TextDelta",
    "Thinking",
    "ToolCall",
    "ToolFinished",
    "ToolResult",
    "ToolRun",
    "Trace",
    "TraceError",
    "TraceOptions",
    "Usage",
]

_T = TypeVar("_T")


class ChatOptions(TypedDict, total=False):
    """The keyword options of ``chat`` and ``stream``."""

    mode: str | ChatMode
    project_dir: str | os.PathLike[str] | None
    app_type: str | AppType
    file_path: str | None
    conversation_id: str | None
    llm_provider: str | None
    llm_api_key: str | None
    llm_model_id: str | None


class TraceOptions(TypedDict, total=False):
    """The keyword arguments of ``Trace(...)`` (and ``AsyncTrace(...)``)."""

    token: str | None
    llm_provider: str | None
    llm_api_key: str | None
    llm_model_id: str | None
    project_dir: str | os.PathLike[str] | None
    base_url: str | None
    env: Mapping[str, str] | None
    secrets: SecretStore | None
    settings: SettingsStore | None
    backend: TraceBackend | None
    tool_runner: ToolRunner | None
    cache_reads: bool


class Byok:
    """``trace.byok``: manage stored keys exactly like ``buildwithtrace byok``."""

    def __init__(self, build: Callable[[Callable[[Container], Any]], Any]) -> None:
        self._build = build

    def set(self, provider: str, key: str) -> SetKeyResult:
        """Store ``key`` for ``provider`` in the secret store and make it active."""
        use_case = self._build(lambda c: c.use_cases.set_key())
        result: SetKeyResult = use_case.execute(provider, key)
        return result

    def use(self, provider: str) -> UseProviderResult:
        """Make ``provider`` active (``"trace"`` for Trace-hosted models)."""
        use_case = self._build(lambda c: c.use_cases.use_provider())
        result: UseProviderResult = use_case.execute(provider)
        return result

    def model(self, model: str | None, provider: str | None = None) -> SelectModelResult:
        """Remember ``model`` for ``provider`` (default: the active one); ``None`` resets it."""
        use_case = self._build(lambda c: c.use_cases.select_model())
        result: SelectModelResult = use_case.execute(model, provider)
        return result

    def remove(self, provider: str) -> RemoveKeyResult:
        """Delete ``provider``'s stored key."""
        use_case = self._build(lambda c: c.use_cases.remove_key())
        result: RemoveKeyResult = use_case.execute(provider)
        return result

    def status(self) -> StatusReport:
        """Every provider's key source (masked), model and billing, and the active provider."""
        use_case = self._build(lambda c: c.use_cases.show_status())
        result: StatusReport = use_case.execute()
        return result


class Trace:
    """A Trace client for scripts and CI; a context manager that closes its connections.

    ``token``: the Trace token (else ``TRACE_API_TOKEN``, else ``buildwithtrace auth
    login``'s). ``llm_provider`` / ``llm_api_key`` / ``llm_model_id``: defaults for
    every call, below per-call arguments and ``TRACE_LLM_*``, above the stored choice.
    ``project_dir``: the default sandbox root for the model's tools. ``base_url``: instead of
    ``TRACE_BASE_URL``. ``env``: the environment variables to read instead of
    ``os.environ`` (a whole replacement, ``TRACE_CONFIG_DIR`` included).
    ``secrets`` / ``settings`` / ``backend`` / ``tool_runner``: your own adapters
    (e.g. ``adapters.secrets.memory.InMemorySecretStore()``), used as given. ``cache_reads``:
    cache what the real secret and settings stores read (see ``adapters._fs.read_cache``).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        llm_provider: str | None = None,
        llm_api_key: str | None = None,
        llm_model_id: str | None = None,
        project_dir: str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        env: Mapping[str, str] | None = None,
        secrets: SecretStore | None = None,
        settings: SettingsStore | None = None,
        backend: TraceBackend | None = None,
        tool_runner: ToolRunner | None = None,
        cache_reads: bool = True,
    ) -> None:
        # Validate everything the caller gave before building anything.
        explicit_token = Secret.parse(token) if token is not None else None
        self._defaults = _overrides(llm_provider, llm_api_key, llm_model_id, SelectionOrigin.CLIENT)
        self._project_dir = _project_dir(project_dir) if project_dir is not None else None
        variables: Mapping[str, str] | None = env
        if base_url is not None:
            variables = _Overlay({"TRACE_BASE_URL": base_url}, os.environ if env is None else env)
        overrides: dict[str, object] = {
            name: adapter
            for name, adapter in (
                ("secrets", secrets),
                ("settings", settings),
                ("backend", backend),
            )
            if adapter is not None
        }
        if tool_runner is not None:
            runner = tool_runner
            overrides["tool_runner"] = lambda _root: runner
        if variables is not None:
            from adapters.environment import MappingEnvironment

            overrides["environment"] = MappingEnvironment(variables)
        self._container = build_container(variables, overrides=overrides, cache_reads=cache_reads)
        if explicit_token is not None:
            self._container.use_cases.explicit_token.override(explicit_token)
        # dependency-injector's Singleton is not thread-safe: concurrent first chats
        # could build two backends (two connection pools). Everything is built under
        # this lock; once built, the Chat use-case is reused (it keeps no per-turn state).
        self._build_lock = threading.Lock()
        self._chat: Chat | None = None
        self._closed = False
        self.byok = Byok(self._build)

    # --- chat -----------------------------------------------------------------

    def chat(
        self,
        message: str,
        *,
        mode: str | ChatMode = ChatMode.ASK,
        project_dir: str | os.PathLike[str] | None = None,
        app_type: str | AppType = AppType.EESCHEMA,
        file_path: str | None = None,
        conversation_id: str | None = None,
        llm_provider: str | None = None,
        llm_api_key: str | None = None,
        llm_model_id: str | None = None,
    ) -> ChatReply:
        """Run one turn to the end (tools included) and return the reply.

        The reply says what answered and who pays: ``provider``, ``model``,
        ``key_source``, ``masked_key``, ``billing``, plus ``text``, ``usage``,
        ``conversation_id``, ``tool_runs`` (a ``ToolRun`` summary per call, without
        the result text: use ``stream`` for that) and in-stream ``errors``. Every
        text from the backend is masked against your key and token.
        """
        command = self._command(
            message,
            mode=mode,
            project_dir=project_dir,
            app_type=app_type,
            file_path=file_path,
            conversation_id=conversation_id,
            llm_provider=llm_provider,
            llm_api_key=llm_api_key,
            llm_model_id=llm_model_id,
        )
        return self._use_case().execute(command)

    def stream(
        self,
        message: str,
        *,
        mode: str | ChatMode = ChatMode.ASK,
        project_dir: str | os.PathLike[str] | None = None,
        app_type: str | AppType = AppType.EESCHEMA,
        file_path: str | None = None,
        conversation_id: str | None = None,
        llm_provider: str | None = None,
        llm_api_key: str | None = None,
        llm_model_id: str | None = None,
    ) -> Iterator[ChatOutput]:
        """Events as they arrive (``TextDelta``, ``ToolFinished``...), then ``ChatFinished``.

        Nothing is sent before the first ``next()``; errors are raised from the
        iteration. Closing the iterator early (``break``) ends the stream.
        """
        command = self._command(
            message,
            mode=mode,
            project_dir=project_dir,
            app_type=app_type,
            file_path=file_path,
            conversation_id=conversation_id,
            llm_provider=llm_provider,
            llm_api_key=llm_api_key,
            llm_model_id=llm_model_id,
        )
        return self._use_case().stream(command)

    def resolve(
        self,
        *,
        llm_provider: str | None = None,
        llm_api_key: str | None = None,
        llm_model_id: str | None = None,
    ) -> Resolution:
        """Which provider, key (masked, with its source) and model a chat would use; no request."""
        command = self._command(
            "", llm_provider=llm_provider, llm_api_key=llm_api_key, llm_model_id=llm_model_id
        )
        return self._use_case().resolve(command)

    # --- lifecycle ------------------------------------------------------------

    def close(self) -> None:
        """Close the backend's connections (idempotent); the client is unusable afterwards."""
        with self._build_lock:
            if self._closed:
                return
            self._closed = True
            close_backends(self._container)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals ------------------------------------------------------------

    def _build(self, make: Callable[[Container], _T]) -> _T:
        with self._build_lock:
            if self._closed:
                raise BackendError("this Trace client is closed", "create a new Trace()")
            return make(self._container)

    def _use_case(self) -> Chat:
        chat = self._chat
        if chat is None or self._closed:
            chat = self._build(lambda c: c.use_cases.chat())
            self._chat = chat
        return chat

    def _command(
        self,
        message: str,
        *,
        mode: str | ChatMode = ChatMode.ASK,
        project_dir: str | os.PathLike[str] | None = None,
        app_type: str | AppType = AppType.EESCHEMA,
        file_path: str | None = None,
        conversation_id: str | None = None,
        llm_provider: str | None = None,
        llm_api_key: str | None = None,
        llm_model_id: str | None = None,
    ) -> ChatCommand:
        root = _project_dir(project_dir) if project_dir is not None else self._project_dir
        return ChatCommand(
            message=message,
            mode=_choice(ChatMode, mode, "mode"),
            app_type=_choice(AppType, app_type, "app_type"),
            client=ClientKind.SDK,
            project_dir=root,
            file_path=file_path,
            conversation_id=conversation_id,
            overrides=_overrides(
                llm_provider, llm_api_key, llm_model_id, SelectionOrigin.ARGUMENTS
            ),
            client_defaults=self._defaults,
        )


class AsyncTrace:
    """``Trace`` for asyncio: the same arguments and methods, awaited.

    The use-cases are synchronous; they run on a thread pool of ``max_concurrency``
    workers, and every chat shares the one backend and its connection pool.
    """

    def __init__(self, *, max_concurrency: int = 32, **options: Unpack[TraceOptions]) -> None:
        self._sync = Trace(**options)
        self._pool = ThreadPoolExecutor(max_concurrency, thread_name_prefix="trace-sdk")
        self.byok = AsyncByok(self._sync.byok, self._run)

    async def chat(self, message: str, **options: Unpack[ChatOptions]) -> ChatReply:
        """Run one turn to the end (tools included) and return the reply."""
        return await self._run(lambda: self._sync.chat(message, **options))

    async def stream(
        self, message: str, **options: Unpack[ChatOptions]
    ) -> AsyncIterator[ChatOutput]:
        """Events as they arrive, then ``ChatFinished``; leaving the loop early ends the stream."""
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        stop = threading.Event()

        def put(kind: str, value: object) -> None:
            try:
                loop.call_soon_threadsafe(items.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: nobody is listening any more
                stop.set()

        def produce() -> None:
            try:
                sync_stream = self._sync.stream(message, **options)
                try:
                    for item in sync_stream:
                        put("item", item)
                        if stop.is_set():
                            break
                finally:
                    close = getattr(sync_stream, "close", None)
                    if close is not None:
                        close()
            except BaseException as exc:  # handed to the consumer, raised there
                put("error", exc)
            else:
                put("end", None)

        future = loop.run_in_executor(self._pool, produce)
        finished = False
        try:
            while True:
                kind, value = await items.get()
                if kind == "end":
                    finished = True
                    break
                if kind == "error":
                    finished = True
                    assert isinstance(value, BaseException)
                    raise value
                yield value  # type: ignore[misc]  # a ChatOutput, put by produce()
        finally:
            stop.set()
            if finished:
                await future
            # else: the consumer left early; the producer stops at its next event and
            # closes the stream (waiting here could block on a stalled backend).

    async def resolve(
        self,
        *,
        llm_provider: str | None = None,
        llm_api_key: str | None = None,
        llm_model_id: str | None = None,
    ) -> Resolution:
        """Which provider, key source and model a chat would use; sends nothing."""
        return await self._run(
            lambda: self._sync.resolve(
                llm_provider=llm_provider, llm_api_key=llm_api_key, llm_model_id=llm_model_id
            )
        )

    async def aclose(self) -> None:
        """Close the connections and the thread pool (idempotent)."""
        self._sync.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, work: Callable[[], _T]) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, work)


class AsyncByok:
    """``AsyncTrace.byok``: the key-management calls, off the event loop."""

    def __init__(self, byok: Byok, run: Callable[[Callable[[], Any]], Any]) -> None:
        self._byok = byok
        self._run = run

    async def set(self, provider: str, key: str) -> SetKeyResult:
        """Store ``key`` for ``provider`` and make it active."""
        result: SetKeyResult = await self._run(lambda: self._byok.set(provider, key))
        return result

    async def use(self, provider: str) -> UseProviderResult:
        """Make ``provider`` active (``"trace"`` for Trace-hosted models)."""
        result: UseProviderResult = await self._run(lambda: self._byok.use(provider))
        return result

    async def model(self, model: str | None, provider: str | None = None) -> SelectModelResult:
        """Remember ``model`` for ``provider`` (default: the active one); ``None`` resets it."""
        result: SelectModelResult = await self._run(lambda: self._byok.model(model, provider))
        return result

    async def remove(self, provider: str) -> RemoveKeyResult:
        """Delete ``provider``'s stored key."""
        result: RemoveKeyResult = await self._run(lambda: self._byok.remove(provider))
        return result

    async def status(self) -> StatusReport:
        """Every provider's key source (masked), model and billing."""
        result: StatusReport = await self._run(self._byok.status)
        return result


class _Overlay(Mapping[str, str]):
    """``top`` over a live ``base`` (``os.environ`` stays live, as without ``base_url=``)."""

    def __init__(self, top: Mapping[str, str], base: Mapping[str, str]) -> None:
        self._top = top
        self._base = base

    def __getitem__(self, name: str) -> str:
        return self._top[name] if name in self._top else self._base[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._top
        yield from (name for name in self._base if name not in self._top)

    def __len__(self) -> int:
        return len(self._top) + sum(1 for name in self._base if name not in self._top)


# --- argument conversion (input parsing only; the rules live in the use-cases) --------


def _overrides(
    provider: str | None, key: str | None, model: str | None, origin: SelectionOrigin
) -> RequestOverrides | None:
    """Validated overrides, the key wrapped in ``Secret`` so no repr can show it.

    A blank value counts as not given, as a blank environment variable does.
    """
    provider, key, model = (
        v if v is not None and v.strip() else None for v in (provider, key, model)
    )
    if provider is None and key is None and model is None:
        return None
    selection = RequestOverrides(provider, key, model).to_selection(origin)
    return RequestOverrides(selection.provider, selection.key, selection.model)


_E = TypeVar("_E", ChatMode, AppType)


def _choice(kind: type[_E], value: str | _E, name: str) -> _E:
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind)
        raise InvalidInputError(
            f"{name}={str(value)[:40]!r} is not one of {allowed}", f"pass {name}= one of {allowed}"
        ) from None


def _project_dir(path: str | os.PathLike[str]) -> str:
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_dir():
        raise InvalidInputError(
            f"project_dir {os.fspath(path)!r} is not a directory",
            "pass project_dir= the directory that holds your KiCad project",
        )
    return str(resolved)
