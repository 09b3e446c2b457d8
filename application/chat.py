"""Chat: one conversation turn through the Trace backend, tools run locally.

The stream is read on the caller's thread; the model's tool calls run on a small
pool (bounded concurrency) and each worker posts its own result, so the backend
can resume the stream while other tools are still running. Writes to one file are
serialised by the tool runner.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import attrs

from application.ports import ToolRunner, TraceBackend
from application.resolve_key import RequestOverrides, ResolveKey
from application.trace_token import TraceToken
from domain.billing import BillingMode
from domain.chat import (
    AppType,
    ChatEvent,
    ChatMode,
    ChatRequest,
    ClientKind,
    Done,
    LlmSelection,
    StreamError,
    TextDelta,
    ToolCall,
    ToolResult,
    Usage,
)
from domain.errors import BackendError
from domain.provider import Provider
from domain.resolution import Resolution
from domain.secret import Secret

MAX_PARALLEL_TOOLS = 4


@attrs.frozen
class ChatCommand:
    """What the user asked: the message and the request's options."""

    message: str
    mode: ChatMode = ChatMode.ASK
    app_type: AppType = AppType.EESCHEMA
    client: ClientKind = ClientKind.CLI
    project_dir: str | None = None
    file_path: str | None = None
    conversation_id: str | None = None
    overrides: RequestOverrides | None = None
    client_defaults: RequestOverrides | None = None


@attrs.frozen
class ToolFinished:
    """A tool call ran locally and its result was posted back."""

    call: ToolCall
    result: ToolResult


@attrs.frozen
class ChatReply:
    """The outcome of a turn, with which provider/model/key answered and who pays."""

    text: str
    conversation_id: str | None
    usage: Mapping[str, object] | None
    provider: Provider
    model: str | None
    key_source: str | None
    masked_key: str | None
    billing: BillingMode
    tool_runs: tuple[ToolFinished, ...]
    errors: tuple[str, ...]


@attrs.frozen
class ChatFinished:
    """The last item of a stream: the whole reply."""

    reply: ChatReply


ChatOutput = ChatEvent | ToolFinished | ChatFinished


class Chat:
    """Run a chat turn: resolve key and token, stream, dispatch tools, collect the reply."""

    def __init__(
        self,
        *,
        resolve_key: ResolveKey,
        token: TraceToken,
        backend: TraceBackend,
        tool_runner: Callable[[str | None], ToolRunner],
        new_session_id: Callable[[], str],
        max_parallel_tools: int = MAX_PARALLEL_TOOLS,
    ) -> None:
        self._resolve_key = resolve_key
        self._token = token
        self._backend = backend
        self._tool_runner = tool_runner
        self._new_session_id = new_session_id
        self._max_parallel_tools = max_parallel_tools

    def resolve(self, command: ChatCommand) -> Resolution:
        """The provider, key and model this command would use (no request is sent)."""
        return self._resolve_key.for_request(
            command.overrides,
            command.client_defaults,
            use_sdk_environment=command.client is ClientKind.SDK,
        )

    def execute(self, command: ChatCommand) -> ChatReply:
        """Run the turn to the end and return the reply."""
        for item in self.stream(command):
            if isinstance(item, ChatFinished):
                return item.reply
        raise AssertionError("stream() always ends with ChatFinished")  # pragma: no cover

    def stream(self, command: ChatCommand) -> Generator[ChatOutput, None, None]:
        """Yield events as they arrive, tool outcomes as tools finish, then ``ChatFinished``.

        Stops before any request with ``MissingKeyError`` / ``NotLoggedInError``;
        closing the iterator early stops the stream and lets running tools finish.
        """
        resolution = self.resolve(command)
        token = self._token.require().secret
        session_id = self._new_session_id()
        request = _build_request(command, resolution, session_id)
        runner = self._tool_runner(command.project_dir)
        turn = _Turn(resolution)
        outcomes: queue.SimpleQueue[ToolFinished | BaseException] = queue.SimpleQueue()
        pool = ThreadPoolExecutor(self._max_parallel_tools, thread_name_prefix="trace-tool")
        pending: list[Future[None]] = []
        finished = False
        try:
            for event in self._backend.stream_chat(request, token):
                yield from _drain(outcomes, turn)
                if isinstance(event, ToolCall):
                    # The mode is enforced here, before any runner sees the call, so the CLI,
                    # the SDK and the desktop app refuse the same calls whatever the backend
                    # asks; the refusal is posted back like any tool error.
                    allowed = command.mode.allows(event.tool_name)
                    pending.append(
                        pool.submit(
                            self._run_tool,
                            runner,
                            event,
                            allowed,
                            command.mode,
                            session_id,
                            token,
                            outcomes,
                        )
                    )
                turn.record(event)
                if not isinstance(event, Done):
                    yield event
            pool.shutdown(wait=True)
            yield from _drain(outcomes, turn)
            finished = True
        finally:
            if not finished:
                # An early close (Ctrl-C, break, error): long-running tools such as an
                # EDA engine are stopped now; file edits in progress still complete
                # atomically, so no partial file is left.
                runner.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        yield ChatFinished(turn.reply())

    def _run_tool(
        self,
        runner: ToolRunner,
        call: ToolCall,
        allowed: bool,
        mode: ChatMode,
        session_id: str,
        token: Secret,
        outcomes: queue.SimpleQueue[ToolFinished | BaseException],
    ) -> None:
        if allowed:
            result = runner.run(call)
        else:
            result = ToolResult(call.tool_call_id, mode.refusal(call.tool_name), is_error=True)
        try:
            self._backend.post_tool_result(session_id, result, token)
        except BackendError as exc:
            outcomes.put(exc)
            return
        outcomes.put(ToolFinished(call, result))


class _Turn:
    """Accumulates a turn's text, usage, tool runs and errors."""

    def __init__(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self.text: list[str] = []
        self.usage: Mapping[str, object] | None = None
        self.conversation_id: str | None = None
        self.tools: list[ToolFinished] = []
        self.errors: list[str] = []

    def record(self, event: ChatEvent | ToolFinished) -> None:
        if isinstance(event, TextDelta):
            self.text.append(event.content)
        elif isinstance(event, Usage):
            self.usage = event.data
        elif isinstance(event, StreamError):
            self.errors.append(event.content)
        elif isinstance(event, Done):
            self.conversation_id = event.conversation_id
        elif isinstance(event, ToolFinished):
            self.tools.append(event)

    def reply(self) -> ChatReply:
        credential = self.resolution.credential
        return ChatReply(
            text="".join(self.text),
            conversation_id=self.conversation_id,
            usage=self.usage,
            provider=self.resolution.provider,
            model=self.resolution.model,
            key_source=credential.source.label if credential else None,
            masked_key=credential.secret.masked() if credential else None,
            billing=self.resolution.billing,
            tool_runs=tuple(self.tools),
            errors=tuple(self.errors),
        )


def _drain(
    outcomes: queue.SimpleQueue[ToolFinished | BaseException], turn: _Turn
) -> Iterator[ToolFinished]:
    while True:
        try:
            item = outcomes.get_nowait()
        except queue.Empty:
            return
        if isinstance(item, BaseException):
            raise item
        turn.record(item)
        yield item


def _build_request(command: ChatCommand, resolution: Resolution, session_id: str) -> ChatRequest:
    llm = None
    if resolution.credential is not None:
        llm = LlmSelection(
            provider=resolution.provider.value,
            api_key=resolution.credential.secret,
            model_id=resolution.model,
        )
    return ChatRequest(
        message=command.message,
        session_id=session_id,
        mode=command.mode,
        app_type=command.app_type,
        client=command.client,
        conversation_id=command.conversation_id,
        project_dir=command.project_dir,
        file_path=command.file_path,
        llm=llm,
    )
