"""The machinery of a chat turn: the stream, the tool pool, masking, the reply.

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

:mod:`application.chat` (what the composition root names, so every command imports
it) loads this module when a chat first needs it: commands that never chat do not
build these classes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Executor

import attrs

from application.ports import ToolRunner, TraceBackend
from application.services.key_resolution import KeyResolution
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
from domain.credential import KeySource, SourceKind
from domain.errors import BackendError, ProtocolError, TraceError
from domain.keys import HelperReason
from domain.masking import SecretMasker, StreamMasker
from domain.notices import Notice, refreshed_notice, resolution_notices
from domain.provider import Provider
from domain.resolution import LlmChoice, Resolution
from domain.secret import Secret
from domain.tools import call_target
from domain.value import Value

# Calls waiting or running at once, as a multiple of the parallel ones: past it the
# backend's stream is not read until a call finishes (backpressure, bounded memory).
MAX_PENDING_TOOLS_FACTOR = 2
# No real turn comes near this; a backend that goes past it is broken or hostile.
MAX_TOOL_CALLS_PER_TURN = 10_000
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
    search_from: str | None = None  # where to look for a project file (default: project_dir)

    @property
    def reason(self) -> HelperReason:
        """Why a key helper would run for this request (told to the helper)."""
        return HelperReason.CHAT if self.client is ClientKind.CLI else HelperReason.SDK


@attrs.frozen(eq=False, repr=False)
class ToolFinished(Value):
    """A tool call ran locally (or was refused by the mode); its result goes back to the backend.

    Streamed once, as it happens: after its ``ToolCall`` and before any event the
    backend sends once it has the result (a post that fails ends the turn with that
    error, right after). ``call`` and ``result`` are masked like everything shown.
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
    project_file: str | None = None  # the project file (trace.toml) that chose provider/key
    notices: tuple[Notice, ...] = ()  # what the user was told before (or during) the turn

    @property
    def failed(self) -> bool:
        """An error event in the stream means the turn failed (the CLI exits 4 on it)."""
        return bool(self.errors)


@attrs.frozen(eq=False, repr=False)
class ChatFinished(Value):
    """The last item of a stream: the whole reply."""

    reply: ChatReply


ChatOutput = ChatEvent | ToolFinished | ChatFinished | Notice


class TurnStream:
    """One turn's run: what :meth:`application.chat.Chat.stream` does once resolved."""

    def __init__(
        self,
        *,
        key_resolution: KeyResolution,
        backend: TraceBackend,
        tool_runner: Callable[[str | None], ToolRunner],
        new_session_id: Callable[[], str],
        max_parallel_tools: int,
    ) -> None:
        self._key_resolution = key_resolution
        self._backend = backend
        self._tool_runner = tool_runner
        self._new_session_id = new_session_id
        self._max_parallel_tools = max_parallel_tools

    def stream(
        self, command: ChatCommand, resolution: Resolution, token: Secret
    ) -> Generator[ChatOutput, None, None]:
        """Yield notices, events as they arrive, tool outcomes as tools finish, then
        ``ChatFinished`` (see :meth:`application.chat.Chat.stream`)."""
        notices = resolution_notices(resolution)
        yield from notices  # before the request: who pays must never be a surprise
        session_id = self._new_session_id()
        request = _build_request(command, resolution, session_id)
        shown_secrets = _secrets(token, resolution)
        masker = SecretMasker(shown_secrets)
        runner = self._tool_runner(command.project_dir)
        turn = _Turn(resolution, notices)
        text = masker.stream()
        outcomes = _Outcomes(MAX_PENDING_TOOLS_FACTOR * self._max_parallel_tools)
        # Imported here: every command builds this use-case's module, only chats need a pool.
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(self._max_parallel_tools, thread_name_prefix="trace-tool")
        closed = threading.Event()
        finished = False
        # One more try when the provider rejected a helper's key before anything ran: the
        # helper may hand out a fresh key (an expired or rotated one).
        retry = _from_helper(resolution)
        try:
            while True:
                play = _Play(runner, session_id, masker, text, turn, outcomes, pool, closed)
                events = self._backend.stream_chat(request, token)
                rejected = yield from self._play(events, command, token, play, retry=retry)
                if not rejected:
                    break
                retry = False
                assert resolution.credential is not None  # a helper's key was rejected
                credential = self._key_resolution.refresh(resolution.credential, command.reason)
                resolution = attrs.evolve(resolution, credential=credential)
                notice = refreshed_notice(resolution.provider.value, credential.source)
                yield notice
                turn.restart(resolution, notice)
                # Both keys stay masked: the rejected one may still be quoted back.
                shown_secrets = (*shown_secrets, credential.secret.reveal())
                masker = SecretMasker(shown_secrets)
                text = masker.stream()
                session_id = self._new_session_id()
                request = _build_request(command, resolution, session_id)
            pool.shutdown(wait=True)
            yield from outcomes.ready(turn)
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

    def _play(
        self,
        events: Iterator[ChatEvent],
        command: ChatCommand,
        token: Secret,
        play: _Play,
        *,
        retry: bool,
    ) -> Generator[ChatOutput, None, bool]:
        """Pass one stream's events on and its tool calls to the pool; True when the
        request should be retried: the provider rejected the key before any text or tool
        call went out (so nothing happened yet that a retry could repeat)."""
        turn = play.turn
        try:
            for event in events:
                yield from play.outcomes.ready(turn)
                if retry and not turn.started and _rejected_key(event):
                    return True
                for shown in _shown(event, play.masker, play.text):
                    if isinstance(shown, ToolCall):
                        if play.outcomes.submitted >= MAX_TOOL_CALLS_PER_TURN:
                            raise ProtocolError(
                                f"the Trace backend asked for more than "
                                f"{MAX_TOOL_CALLS_PER_TURN:,} tool calls in one turn; stopped"
                            )
                        yield from play.outcomes.until_room(turn)
                        # The mode is enforced here, before any runner sees the call, so the
                        # CLI, the SDK and the desktop app refuse the same calls whatever the
                        # backend asks; the refusal is posted back like any tool error.
                        assert isinstance(event, ToolCall)
                        job = _Job(
                            play.runner,
                            event.tool_call_id,
                            shown,
                            command.mode,
                            play.session_id,
                            play.closed,
                        )
                        play.outcomes.add()
                        play.pool.submit(
                            self._run_tool, job, token, play.masker, play.outcomes.queue
                        )
                    turn.record(shown)
                    if not isinstance(shown, Done):
                        yield shown
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # a rejected stream's connection is released now
        return False

    def _run_tool(
        self,
        job: _Job,
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
        # Queued before the post: the backend streams what follows a result before its
        # answer to the post comes back, and the user must read the result first.
        outcomes.put(ToolFinished(call, attrs.evolve(result, tool_call_id=call.tool_call_id)))
        try:
            # Posted under the backend's own id, even if the id shown had to be masked.
            self._backend.post_tool_result(job.session_id, result, token)
        except BackendError as exc:
            outcomes.put(exc)


@attrs.frozen(eq=False, repr=False)
class _Play(Value):
    """What one stream of a turn works with (a retry gets a new session and masker)."""

    runner: ToolRunner
    session_id: str
    masker: SecretMasker
    text: StreamMasker
    turn: _Turn
    outcomes: _Outcomes
    pool: Executor
    closed: threading.Event


@attrs.frozen(eq=False, repr=False)
class _Job(Value):
    """One tool call to run: the runner, the id the backend knows it by, the masked call."""

    runner: ToolRunner
    wire_id: str
    call: ToolCall
    mode: ChatMode
    session_id: str
    closed: threading.Event  # set when the turn ends early: results are no longer posted


def _from_helper(resolution: Resolution) -> bool:
    """True when the request's key came from a key helper (so it can be fetched again)."""
    credential = resolution.credential
    return credential is not None and credential.source.kind is SourceKind.HELPER


def _rejected_key(event: ChatEvent) -> bool:
    return isinstance(event, StreamError) and event.provider_rejected_key


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

    def __init__(self, resolution: Resolution, notices: tuple[Notice, ...] = ()) -> None:
        self.resolution = resolution
        self.notices = notices
        self.started = False  # a text delta or a tool call went out: no retry any more
        self.text: list[str] = []
        self.text_chars = 0
        self.text_dropped = 0
        self.usage: Mapping[str, object] | None = None
        self.conversation_id: str | None = None
        self.tools: list[ToolRun] = []
        self.errors: list[str] = []

    def restart(self, resolution: Resolution, notice: Notice) -> None:
        """A retry with a fresh key: the reply says which key answered, and why."""
        self.resolution = resolution
        self.notices = (*self.notices, notice)

    def record(self, event: ChatEvent | ToolFinished) -> None:
        if isinstance(event, TextDelta | ToolCall):
            self.started = True
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
            project_file=_project_file(self.resolution),
            notices=self.notices,
        )


def _project_file(resolution: Resolution) -> str | None:
    """The project file that chose this request's provider, key or model, if one applied."""
    project = resolution.project
    if project is None or not project.applies:
        return None
    return project.path


class _Outcomes:
    """Tool outcomes posted by the workers, and how many calls are still unanswered.

    At most ``limit`` calls wait or run at once: past that the stream is not read until
    one finishes, so a backend that floods tool calls (or stalls their results) meets
    backpressure instead of filling memory with waiting calls and their arguments.
    """

    def __init__(self, limit: int) -> None:
        self.queue: queue.SimpleQueue[ToolFinished | BaseException] = queue.SimpleQueue()
        self._limit = limit
        self._unanswered = 0
        self.submitted = 0  # calls of this turn

    def add(self) -> None:
        """One more call submitted."""
        self._unanswered += 1
        self.submitted += 1

    def ready(self, turn: _Turn) -> Iterator[ToolFinished]:
        """The outcomes already posted, without waiting; a worker's error is raised."""
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return
            yield self._take(item, turn)

    def until_room(self, turn: _Turn) -> Iterator[ToolFinished]:
        """Outcomes as they come, until another call may be submitted."""
        while self._unanswered >= self._limit:
            try:
                # A timeout, so that Ctrl-C is seen while waiting.
                item = self.queue.get(timeout=0.25)
            except queue.Empty:
                continue
            yield self._take(item, turn)

    def _take(self, item: ToolFinished | BaseException, turn: _Turn) -> ToolFinished:
        self._unanswered -= 1
        if isinstance(item, BaseException):
            raise item
        turn.record(item)
        return item


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
