"""``AsyncTrace``: the SDK for asyncio, the same surface as ``Trace``, awaited."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

from application.allow_project import ProjectResult
from application.auth_status import AuthReport
from application.billing_status import BillingReport
from application.chat import ChatOutput, ChatReply
from application.login import LoginResult
from application.remove_key import RemoveKeyResult
from application.select_model import SelectModelResult
from application.set_key import SetKeyResult
from application.show_status import StatusReport
from application.use_provider import UseProviderResult
from domain.resolution import Resolution
from domain.verification import KeyVerification
from entrypoints.sdk.client import Auth, Billing, Byok, Project, Trace
from entrypoints.sdk.options import ChatOptions, TraceOptions

_T = TypeVar("_T")


class AsyncTrace:
    """``Trace`` for asyncio: the same arguments and methods, awaited.

    The use-cases are synchronous; they run on a thread pool of ``max_concurrency``
    workers, and every chat shares the one backend and its connection pool.
    """

    def __init__(self, *, max_concurrency: int = 32, **options: Unpack[TraceOptions]) -> None:
        self._sync = Trace(**options)
        self._pool = ThreadPoolExecutor(max_concurrency, thread_name_prefix="trace-sdk")
        self.byok = AsyncByok(self._sync.byok, self._run)
        self.auth = AsyncAuth(self._sync.auth, self._run)
        self.billing = AsyncBilling(self._sync.billing, self._run)
        self.project = AsyncProject(self._sync.project, self._run)

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

    async def resolve(self, **options: Unpack[ChatOptions]) -> Resolution:
        """Which provider, key source and model a chat would use; sends nothing."""
        return await self._run(lambda: self._sync.resolve(**options))

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

    async def set(
        self,
        provider: str,
        key: str | None = None,
        *,
        helper: str | None = None,
        shell: bool = False,
        name: str | None = None,
        verify: bool = False,
        force: bool = False,
    ) -> SetKeyResult:
        """Store ``key`` (or the ``helper`` command printing it) and make it active."""
        result: SetKeyResult = await self._run(
            lambda: self._byok.set(
                provider, key, helper=helper, shell=shell, name=name, verify=verify, force=force
            )
        )
        return result

    async def verify(self, provider: str, name: str | None = None) -> KeyVerification:
        """Ask ``provider``'s models endpoint whether the key in use works."""
        result: KeyVerification = await self._run(lambda: self._byok.verify(provider, name))
        return result

    async def use(self, provider: str, name: str | None = None) -> UseProviderResult:
        """Make ``provider`` active (``"trace"`` for Trace-hosted models), with key ``name``."""
        result: UseProviderResult = await self._run(lambda: self._byok.use(provider, name))
        return result

    async def model(self, model: str | None, provider: str | None = None) -> SelectModelResult:
        """Remember ``model`` for ``provider`` (default: the active one); ``None`` resets it."""
        result: SelectModelResult = await self._run(lambda: self._byok.model(model, provider))
        return result

    async def remove(self, provider: str, name: str | None = None) -> RemoveKeyResult:
        """Delete ``provider``'s stored key and helper (``name``: that named key)."""
        result: RemoveKeyResult = await self._run(lambda: self._byok.remove(provider, name))
        return result

    async def status(self, *, run_helpers: bool = False) -> StatusReport:
        """Every provider's key source (masked), model and billing."""
        result: StatusReport = await self._run(lambda: self._byok.status(run_helpers=run_helpers))
        return result


class AsyncAuth:
    """``AsyncTrace.auth``: the login calls, off the event loop."""

    def __init__(self, auth: Auth, run: Callable[[Callable[[], Any]], Any]) -> None:
        self._auth = auth
        self._run = run

    async def login(self, token: str) -> LoginResult:
        """Check ``token`` with the backend (when reachable) and store it."""
        result: LoginResult = await self._run(lambda: self._auth.login(token))
        return result

    async def status(self, *, check: bool = True) -> AuthReport:
        """Whether a token is available, its source (masked), and what the backend says."""
        result: AuthReport = await self._run(lambda: self._auth.status(check=check))
        return result

    async def logout(self) -> bool:
        """Forget the stored token; True if there was one."""
        result: bool = await self._run(self._auth.logout)
        return result


class AsyncBilling:
    """``AsyncTrace.billing``: the plan's usage, off the event loop."""

    def __init__(self, billing: Billing, run: Callable[[Callable[[], Any]], Any]) -> None:
        self._billing = billing
        self._run = run

    async def status(self) -> BillingReport:
        """Plan, monthly budget used, credits, and who pays with the current provider."""
        result: BillingReport = await self._run(self._billing.status)
        return result


class AsyncProject:
    """``AsyncTrace.project``: the project file calls, off the event loop."""

    def __init__(self, project: Project, run: Callable[[Callable[[], Any]], Any]) -> None:
        self._project = project
        self._run = run

    async def status(self, directory: str | None = None) -> ProjectResult | None:
        """The project file found from ``directory`` and whether it applies."""
        result: ProjectResult | None = await self._run(lambda: self._project.status(directory))
        return result

    async def allow(self, directory: str | None = None) -> ProjectResult:
        """Allow that project file with its current content."""
        result: ProjectResult = await self._run(lambda: self._project.allow(directory))
        return result

    async def forget(self, directory: str | None = None) -> ProjectResult:
        """Withdraw the allowance of that project file."""
        result: ProjectResult = await self._run(lambda: self._project.forget(directory))
        return result
