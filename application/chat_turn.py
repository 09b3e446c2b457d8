"""A chat turn as it runs: the stream, the tool calls, the masking, and the reply it keeps.

The machinery behind :class:`application.chat.Chat`, loaded when the first turn runs
(every command imports the use-case's module, only chats run it); the types here are
importable from :mod:`application.chat` too, which is where callers take them from.

The stream is read on the caller's thread; the model's tool calls run on a small
pool (bounded concurrency) and each worker posts its own result, so the backend
can resume the stream while other tools are still running. Writes to one file are
serialised by the tool runner.

The backend is not trusted: the mode decides which tools run (``ChatMode.allows``),
and every string that comes from it is masked against the secrets of the request
(the provider key and the Trace token) before anyone sees it: the events yielded,
the arguments a tool runs with, the results posted back, the reply and its errors.
A turn keeps a summary of each tool run, not its texts, so thousands of tool calls
cost no memory once their results are posted.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator, Mapping

import attrs

from application.ports import ToolRunner, TraceBackend
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
from domain.credential import KeySource
from domain.errors import BackendError, TraceError
from domain.masking import SecretMasker, StreamMasker
from domain.provider import Provider
from domain.resolution import LlmChoice, Resolution
from domain.secret import Secret
from domain.tools import call_target
from domain.value import Value

# What a reply keeps (the stream yields everything): a hostile backend can send text,
# errors and tool calls without end, and the reply must not grow with them.
MAX_REPLY_TEXT = 8 * 1024 * 1024  # characters of ``ChatReply.text``
MAX_REPLY_ERRORS = 100
MAX_ERROR_CHARS = 2000
MAX_DELTA_CHARS = 65536  # a text delta larger than this is passed on in pieces
_SHOWN_NAME = 200


@attrs.frozen(eq=False, repr=False)
class ChatCommand(Value):
    """What the user asked: the message and the request's options."""

    message: str
    mode: ChatMode = ChatMode.ASK
    app_type: AppType = AppType.EESCHEMA
    client: ClientKind = ClientKind.CLI
    project_dir: str | None = None
    file_path: str | None = None
    conversation_id: str | None = None
    overrides: LlmChoice | None = None  # this call's own choice (chat --provider/--model)
    client_defaults: LlmChoice | None = None  # the SDK client's constructor values


@attrs.frozen(eq=False, repr=False)
class ToolFinished(Value):
    """A tool call ran locally (or was refused by the mode) and its result was posted back.

    Streamed once, as it happens; ``call`` and ``result`` are masked like everything shown.
    """

    call: ToolCall
    result: ToolResult


@attrs.frozen(eq=False, repr=False)
class ToolRun(Value):
    """What a reply keeps of one tool run: a summary, not the texts (a turn may run thousands)."""

    tool_call_id: str
    tool_name: str
    is_error: bool
    result_chars: int
    target: str | None = None

    @classmethod
    def of(cls, finished: ToolFinished) -> ToolRun:
        """The summary of a finished run."""
        name = finished.call.tool_name
        return cls(
            tool_call_id=finished.call.tool_call_id[:_SHOWN_NAME],
            tool_name=name if len(name) <= _SHOWN_NAME else name[: _SHOWN_NAME - 1] + "…",
            is_error=finished.result.is_error,
            result_chars=len(finished.result.result),
            target=call_target(finished.call.tool_args),
        )


@attrs.frozen(eq=False, repr=False)
class ChatReply(Value):
    """The outcome of a turn, with which provider/model/key answered and who pays."""

    text: str
    conversation_id: str | None
    usage: Mapping[str, object] | None
    provider: Provider
    model: str | None
    key_source: KeySource | None
    masked_key: str | None
    billing: BillingMode
    tool_runs: tuple[ToolRun, ...]
    errors: tuple[str, ...]

    @property
    def failed(self) -> bool:
        """An error event in the stream means the turn failed (the CLI exits 4 on it)."""
        return bool(self.errors)


@attrs.frozen(eq=False, repr=False)
class ChatFinished(Value):
    """The last item of a stream: the whole reply."""

    reply: ChatReply


ChatOutput = ChatEvent | ToolFinished | ChatFinished


def stream_turn(
    command: ChatCommand,
    resolution: Resolution,
    *,
    token: Secret,
    backend: TraceBackend,
    runner: ToolRunner,
    session_id: str,
    max_parallel_tools: int,
) -> Generator[ChatOutput, None, None]:
    """The turn of ``Chat.stream``, once key and token are known (see its docstring)."""
    request = _build_request(command, resolution, session_id)
    masker = SecretMasker(_secrets(token, resolution))
    turn = _Turn(resolution)
    text = masker.stream()
    outcomes: queue.SimpleQueue[ToolFinished | BaseException] = queue.SimpleQueue()
    # Imported here: importing it costs more than a turn's start-up, and only tools use it.
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_parallel_tools, thread_name_prefix="trace-tool")
    closed = threading.Event()
    finished = False
    try:
        for event in backend.stream_chat(request, token):
            yield from _drain(outcomes, turn)
            for shown in _shown(event, masker, text):
                if isinstance(shown, ToolCall):
                    # The mode is enforced here, before any runner sees the call, so the
                    # CLI, the SDK and the desktop app refuse the same calls whatever the
                    # backend asks; the refusal is posted back like any tool error.
                    assert isinstance(event, ToolCall)
                    pool.submit(
                        _run_tool,
                        _Job(runner, event.tool_call_id, shown, command.mode, session_id, closed),
                        backend,
                        token,
                        masker,
                        outcomes,
                    )
                turn.record(shown)
                if not isinstance(shown, Done):
                    yield shown
        pool.shutdown(wait=True)
        yield from _drain(outcomes, turn)
        finished = True
    except TraceError as error:
        # Our own messages may quote the backend (an HTTP error body, a bad event).
        error.redact(masker.mask)
        rest = text.flush()  # the text held back is shown, masked, before the error
        if rest:
            turn.record(TextDelta(rest))
            yield TextDelta(rest)
        raise
    finally:
        if not finished:
            # An early close (Ctrl-C, break, error): long-running tools such as an
            # EDA engine are stopped now; file edits in progress still complete
            # atomically, so no partial file is left. Nothing more is posted: the
            # turn is over, and a slow backend must not hold up the interrupt.
            closed.set()
            runner.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    yield ChatFinished(turn.reply())


def _run_tool(
    job: _Job,
    backend: TraceBackend,
    token: Secret,
    masker: SecretMasker,
    outcomes: queue.SimpleQueue[ToolFinished | BaseException],
) -> None:
    call = job.call
    if job.mode.allows(call.tool_name):
        # The runner gets the masked arguments: the model cannot make the client
        # write the user's key into a project file.
        ran = job.runner.run(call)
        result = ToolResult(job.wire_id, masker.mask(ran.result), ran.is_error)
    else:
        result = ToolResult(job.wire_id, job.mode.refusal(call.tool_name), is_error=True)
    if job.closed.is_set():
        return  # the turn was closed while the tool ran: nobody waits for this result
    try:
        # Posted under the backend's own id, even if the id shown had to be masked.
        backend.post_tool_result(job.session_id, result, token)
    except BackendError as exc:
        outcomes.put(exc)
        return
    outcomes.put(ToolFinished(call, attrs.evolve(result, tool_call_id=call.tool_call_id)))


@attrs.frozen(eq=False, repr=False)
class _Job(Value):
    """One tool call to run: the runner, the id the backend knows it by, the masked call."""

    runner: ToolRunner
    wire_id: str
    call: ToolCall
    mode: ChatMode
    session_id: str
    closed: threading.Event  # set when the turn ends early: results are no longer posted


def _secrets(token: Secret, resolution: Resolution) -> tuple[str, ...]:
    """The plain texts to mask: the Trace token and the provider key, if any."""
    credential = resolution.credential
    if credential is None:
        return (token.reveal(),)
    return (token.reveal(), credential.secret.reveal())


def _shown(event: ChatEvent, masker: SecretMasker, text: StreamMasker) -> Iterator[ChatEvent]:
    """The masked events to pass on for one event from the backend (none, one or two)."""
    if isinstance(event, TextDelta):
        # A secret split over several deltas: the masker holds back an end that could
        # start one, so a delta may shrink, or wait for the next. A huge delta goes on in
        # pieces, so masking and printing it never copy the whole text at once.
        whole = event.content
        for start in range(0, len(whole), MAX_DELTA_CHARS):
            content = text.feed(whole[start : start + MAX_DELTA_CHARS])
            if content:
                yield TextDelta(content)
        return
    if isinstance(event, Done):
        rest = text.flush()
        if rest:
            yield TextDelta(rest)
    yield masker.mask_event(event)


class _Turn:
    """Accumulates a turn's text, usage, tool summaries and errors, each bounded."""

    def __init__(self, resolution: Resolution) -> None:
        self.resolution = resolution
        self.text: list[str] = []
        self.text_chars = 0
        self.text_dropped = 0
        self.usage: Mapping[str, object] | None = None
        self.conversation_id: str | None = None
        self.tools: list[ToolRun] = []
        self.errors: list[str] = []

    def record(self, event: ChatEvent | ToolFinished) -> None:
        if isinstance(event, TextDelta):
            self._add_text(event.content)
        elif isinstance(event, Usage):
            self.usage = event.data
        elif isinstance(event, StreamError):
            if len(self.errors) < MAX_REPLY_ERRORS:
                content = event.content
                if len(content) > MAX_ERROR_CHARS:
                    content = content[: MAX_ERROR_CHARS - 1] + "…"
                self.errors.append(content)
        elif isinstance(event, Done):
            self.conversation_id = event.conversation_id
        elif isinstance(event, ToolFinished):
            self.tools.append(ToolRun.of(event))

    def _add_text(self, content: str) -> None:
        room = MAX_REPLY_TEXT - self.text_chars
        if len(content) > room:
            self.text_dropped += len(content) - max(room, 0)
            content = content[: max(room, 0)]
        if content:
            self.text.append(content)
            self.text_chars += len(content)

    def reply(self) -> ChatReply:
        credential = self.resolution.credential
        text = "".join(self.text)
        if self.text_dropped:
            text += f"\n[reply text truncated: {self.text_dropped} more characters were streamed]"
        return ChatReply(
            text=text,
            conversation_id=self.conversation_id,
            usage=self.usage,
            provider=self.resolution.provider,
            model=self.resolution.model,
            key_source=credential.source if credential else None,
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
            provider=resolution.provider,
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
