"""The embedded Python API: the same use-cases as the CLI, with keyword arguments.

    from entrypoints.sdk import Trace

    with Trace() as trace:
        reply = trace.chat("Add a 100nF cap on VCC", mode="agent", project_dir="./board")
        print(reply.text, reply.conversation_id, reply.billing, reply.usage)

Errors are the typed exceptions of ``domain.errors`` (never ``SystemExit``); none
carries a key. BYOK precedence per call (DESIGN section 3): per-call arguments,
then the constructor's defaults, then ``TRACE_LLM_*``, then what ``byok set`` stored.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from application.chat import ChatCommand, ChatFinished, ChatOutput, ChatReply, ToolFinished
from application.ports import SecretStore, SettingsStore, ToolRunner, TraceBackend
from application.remove_key import RemoveKeyResult
from application.resolve_key import RequestOverrides
from application.select_model import SelectModelResult
from application.set_key import SetKeyResult
from application.show_status import StatusReport
from application.use_provider import UseProviderResult
from domain.chat import AppType, ChatMode, ClientKind
from domain.resolution import Resolution, SelectionOrigin
from domain.secret import Secret
from entrypoints.container import Container, build_container, close_backends

__all__ = ["AsyncTrace", "ChatFinished", "ChatReply", "ToolFinished", "Trace"]


class Byok:
    """``trace.byok``: manage stored keys exactly like ``buildwithtrace byok``."""

    def __init__(self, container: Container) -> None:
        self._use_cases = container.use_cases

    def set(self, provider: str, key: str) -> SetKeyResult:
        """Store ``key`` for ``provider`` and make it active."""
        return self._use_cases.set_key().execute(provider, key)  # type: ignore[no-any-return]

    def use(self, provider: str) -> UseProviderResult:
        """Make ``provider`` active (``"trace"`` for Trace-hosted models)."""
        return self._use_cases.use_provider().execute(provider)  # type: ignore[no-any-return]

    def model(self, model: str | None, provider: str | None = None) -> SelectModelResult:
        """Remember ``model`` for ``provider`` (default: active); ``None`` resets."""
        return self._use_cases.select_model().execute(model, provider)  # type: ignore[no-any-return]

    def remove(self, provider: str) -> RemoveKeyResult:
        """Delete ``provider``'s stored key."""
        return self._use_cases.remove_key().execute(provider)  # type: ignore[no-any-return]

    def status(self) -> StatusReport:
        """Every provider's key source (masked), model and billing."""
        return self._use_cases.show_status().execute()  # type: ignore[no-any-return]


class Trace:
    """A Trace client for scripts and CI; a context manager that closes its connections."""

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
    ) -> None:
        variables = dict(os.environ if env is None else env)
        if base_url is not None:
            variables["TRACE_BASE_URL"] = base_url
        overrides: dict[str, object] = {
            name: adapter
            for name, adapter in (
                ("secrets", secrets),
                ("settings", settings),
                ("backend", backend),
                ("tool_runner", (lambda _root: tool_runner) if tool_runner else None),
            )
            if adapter is not None
        }
        if env is not None or base_url is not None:
            from adapters.environment import MappingEnvironment

            overrides["environment"] = MappingEnvironment(variables)
        self._container = build_container(variables, overrides=overrides)
        if token is not None:
            self._container.use_cases.explicit_token.override(Secret.parse(token))
        self._defaults = None
        if llm_provider or llm_api_key or llm_model_id:
            self._defaults = RequestOverrides(llm_provider, llm_api_key, llm_model_id)
            self._defaults.to_selection(SelectionOrigin.CLIENT)  # validate now, not mid-script
        self._project_dir = os.fspath(project_dir) if project_dir is not None else None
        self.byok = Byok(self._container)
        self._closed = False
        self._lock = threading.Lock()

    def chat(self, message: str, **options: Any) -> ChatReply:
        """Run one turn to the end; see :meth:`stream` for the options."""
        return self._use_case().execute(self._command(message, **options))  # type: ignore[no-any-return]

    def stream(self, message: str, **options: Any) -> Iterator[ChatOutput]:
        """Events as they arrive (text, tool calls, tool outcomes), then ``ChatFinished``.

        Options: ``mode`` (ask|agent|plan), ``project_dir``, ``app_type``
        (eeschema|pcbnew), ``file_path``, ``conversation_id``, ``llm_provider``,
        ``llm_api_key``, ``llm_model_id``.
        """
        stream: Iterator[ChatOutput] = self._use_case().stream(self._command(message, **options))
        return stream

    def resolve(
        self,
        *,
        llm_provider: str | None = None,
        llm_api_key: str | None = None,
        llm_model_id: str | None = None,
    ) -> Resolution:
        """Which provider, key source and model a chat with these arguments would use."""
        command = self._command(
            "", llm_provider=llm_provider, llm_api_key=llm_api_key, llm_model_id=llm_model_id
        )
        return self._use_case().resolve(command)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the backend's connections (idempotent)."""
        with self._lock:
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

    def _use_case(self) -> Any:
        return self._container.use_cases.chat()

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
        call = None
        if llm_provider or llm_api_key or llm_model_id:
            call = RequestOverrides(llm_provider, llm_api_key, llm_model_id)
        root = project_dir if project_dir is not None else self._project_dir
        return ChatCommand(
            message=message,
            mode=ChatMode(mode),
            app_type=AppType(app_type),
            client=ClientKind.SDK,
            project_dir=str(Path(root).absolute()) if root is not None else None,
            file_path=file_path,
            conversation_id=conversation_id,
            overrides=call,
            client_defaults=self._defaults,
        )


class AsyncTrace:
    """The same surface for asyncio; chats run on a thread pool sharing one connection pool."""

    def __init__(self, *, max_concurrency: int = 32, **options: Any) -> None:
        self._sync = Trace(**options)
        self._pool = ThreadPoolExecutor(max_concurrency, thread_name_prefix="trace-sdk")
        self.byok = _AsyncByok(self._sync.byok, self._pool)

    async def chat(self, message: str, **options: Any) -> ChatReply:
        """Run one turn to the end."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self._sync.chat(message, **options))

    async def stream(self, message: str, **options: Any) -> AsyncIterator[ChatOutput]:
        """Events as they arrive, then ``ChatFinished``."""
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        stop = threading.Event()

        def produce() -> None:
            try:
                sync_stream = self._sync.stream(message, **options)
                try:
                    for item in sync_stream:
                        loop.call_soon_threadsafe(items.put_nowait, ("item", item))
                        if stop.is_set():
                            break
                finally:
                    close = getattr(sync_stream, "close", None)
                    if close is not None:
                        close()
            except BaseException as exc:  # handed to the consumer, re-raised there
                loop.call_soon_threadsafe(items.put_nowait, ("error", exc))
            else:
                loop.call_soon_threadsafe(items.put_nowait, ("end", None))

        future = loop.run_in_executor(self._pool, produce)
        try:
            while True:
                kind, value = await items.get()
                if kind == "end":
                    break
                if kind == "error":
                    assert isinstance(value, BaseException)
                    raise value
                yield value  # type: ignore[misc]
        finally:
            stop.set()
            await asyncio.shield(future)

    async def resolve(self, **options: Any) -> Resolution:
        """Which provider, key source and model a chat would use."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self._sync.resolve(**options))

    async def aclose(self) -> None:
        """Close connections and the thread pool."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._sync.close)
        self._pool.shutdown(wait=False)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _AsyncByok:
    """``AsyncTrace.byok``: the key-management calls, off the event loop."""

    def __init__(self, byok: Byok, pool: ThreadPoolExecutor) -> None:
        self._byok = byok
        self._pool = pool

    async def _run(self, name: str, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: getattr(self._byok, name)(*args))

    async def set(self, provider: str, key: str) -> SetKeyResult:
        """Store ``key`` for ``provider`` and make it active."""
        result: SetKeyResult = await self._run("set", provider, key)
        return result

    async def use(self, provider: str) -> UseProviderResult:
        """Make ``provider`` active."""
        result: UseProviderResult = await self._run("use", provider)
        return result

    async def model(self, model: str | None, provider: str | None = None) -> SelectModelResult:
        """Remember ``model`` for ``provider``."""
        result: SelectModelResult = await self._run("model", model, provider)
        return result

    async def remove(self, provider: str) -> RemoveKeyResult:
        """Delete ``provider``'s stored key."""
        result: RemoveKeyResult = await self._run("remove", provider)
        return result

    async def status(self) -> StatusReport:
        """The BYOK status report."""
        result: StatusReport = await self._run("status")
        return result
