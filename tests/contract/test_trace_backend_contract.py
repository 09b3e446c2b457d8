"""The TraceBackend contract: the scripted fake and the HTTP adapter behave alike.

To add an adapter, add a ``Harness`` that scripts a turn for it and a branch in
``harness``. The HTTP case runs against the real protocol server on 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import pytest

from adapters.backend.http import HttpTraceBackend
from adapters.backend.scripted import ScriptedTraceBackend, ScriptedTurn
from application.ports import TraceBackend
from domain.chat import (
    ChatEvent,
    ChatMode,
    ChatRequest,
    Done,
    LlmSelection,
    Profile,
    StreamError,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
    Usage,
)
from domain.errors import (
    AuthenticationRejectedError,
    BackendError,
    PlanRestrictionError,
    ProtocolError,
    QuotaExhaustedError,
    TraceError,
)
from domain.provider import Provider
from domain.secret import Secret
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

GOOD_TOKEN = Secret(TOKEN)
REQUEST = ChatRequest(
    "hello",
    "sess-c",
    mode=ChatMode.AGENT,
    llm=LlmSelection(Provider.OPENAI, Secret("sk-contract-key-123456"), None),
)
_FAILURES: dict[int, TraceError] = {
    401: AuthenticationRejectedError(),
    402: QuotaExhaustedError("openai", Provider.OPENAI.payer),
    403: PlanRestrictionError("agent"),
}


class Harness(Protocol):
    """A backend under test plus a way to script its next turn."""

    backend: TraceBackend

    def add_turn(self, events: Sequence[ChatEvent], fail_status: int | None = None) -> None:
        """Script one turn: ``events``, or a failure before the stream starts."""
        ...

    def chat_requests_seen(self) -> int:
        """How many chat requests reached the backend."""
        ...


class ScriptedHarness:
    """The in-memory fake."""

    def __init__(self) -> None:
        self.scripted = ScriptedTraceBackend(valid_token=GOOD_TOKEN, tool_result_timeout=5)
        self.backend: TraceBackend = self.scripted

    def add_turn(self, events: Sequence[ChatEvent], fail_status: int | None = None) -> None:
        """Script one turn."""
        if fail_status is None:
            self.scripted.add_turn(*events)
        else:
            self.scripted.add_turn(error=_FAILURES[fail_status])

    def chat_requests_seen(self) -> int:
        """Requests recorded by the fake."""
        return len(self.scripted.requests)


class HttpHarness:
    """The HTTP adapter against the protocol server."""

    def __init__(self, server: ProtocolServer) -> None:
        self.server = server
        self.backend: TraceBackend = HttpTraceBackend(server.url, read_timeout=5)

    def add_turn(self, events: Sequence[ChatEvent], fail_status: int | None = None) -> None:
        """Script one turn on the server."""
        respond = [ps.respond(fail_status)] if fail_status is not None else []
        self.server.add_turn(*(self._step(e) for e in events), respond=respond)

    def chat_requests_seen(self) -> int:
        """Requests recorded by the server."""
        return len(self.server.chat_requests)

    @staticmethod
    def _step(event: ChatEvent) -> ps.Step:
        if isinstance(event, TextDelta):
            return ps.text(event.content)
        if isinstance(event, Thinking):
            return ps.thinking(event.content)
        if isinstance(event, StreamError):
            return ps.error(event.content)
        if isinstance(event, ToolCall):
            return ps.tool_call(event.tool_call_id, event.tool_name, event.tool_args, timeout=5)
        if isinstance(event, Usage):
            return ps.metrics(**event.data)
        if isinstance(event, Done):
            return ps.done(event.conversation_id)
        raise AssertionError(f"no step for {event!r}")


@pytest.fixture(params=["scripted", "http"])
def harness(request: pytest.FixtureRequest, protocol_server: ProtocolServer) -> Iterator[Harness]:
    """One TraceBackend implementation with nothing scripted yet."""
    made: Harness = (
        ScriptedHarness() if request.param == "scripted" else HttpHarness(protocol_server)
    )
    yield made
    made.backend.close()


def test_a_turn_streams_its_events_until_done(harness: Harness) -> None:
    events: list[ChatEvent] = [Thinking("hm"), TextDelta("a"), Usage({"tokens": 3}), Done("conv-1")]
    harness.add_turn(events)

    assert list(harness.backend.stream_chat(REQUEST, GOOD_TOKEN)) == events


def test_turns_are_played_in_order(harness: Harness) -> None:
    harness.add_turn([Done("first")])
    harness.add_turn([Done("second")])

    assert list(harness.backend.stream_chat(REQUEST, GOOD_TOKEN)) == [Done("first")]
    assert list(harness.backend.stream_chat(REQUEST, GOOD_TOKEN)) == [Done("second")]


def test_nothing_is_sent_before_the_first_event_is_asked_for(harness: Harness) -> None:
    harness.add_turn([Done("c")])

    stream = harness.backend.stream_chat(REQUEST, GOOD_TOKEN)

    assert harness.chat_requests_seen() == 0
    assert next(stream) == Done("c")
    assert harness.chat_requests_seen() == 1


def test_tool_results_posted_from_worker_threads_let_the_stream_continue(
    harness: Harness,
) -> None:
    calls = [ToolCall("t1", "list_dir", {}), ToolCall("t2", "read_file", {"file_path": "a"})]
    harness.add_turn([calls[0], TextDelta("one"), calls[1], TextDelta("two"), Done("c")])
    seen: list[ChatEvent] = []
    posted = threading.Event()

    def answer(call: ToolCall) -> None:
        harness.backend.post_tool_result("sess-c", ToolResult(call.tool_call_id, "ok"), GOOD_TOKEN)
        posted.set()

    with ThreadPoolExecutor(2) as pool:
        for event in harness.backend.stream_chat(REQUEST, GOOD_TOKEN):
            seen.append(event)
            if isinstance(event, ToolCall):
                pool.submit(answer, event)

    assert seen == [calls[0], TextDelta("one"), calls[1], TextDelta("two"), Done("c")]
    assert posted.is_set()


def test_a_turn_that_ends_without_done_is_a_protocol_error(harness: Harness) -> None:
    harness.add_turn([TextDelta("half")])
    seen: list[ChatEvent] = []

    with pytest.raises(ProtocolError):
        seen.extend(harness.backend.stream_chat(REQUEST, GOOD_TOKEN))

    assert seen == [TextDelta("half")]


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationRejectedError), (402, QuotaExhaustedError), (403, PlanRestrictionError)],
)
def test_refusals_before_the_stream_raise_their_errors(
    harness: Harness, status: int, error: type[BackendError]
) -> None:
    harness.add_turn([Done("never")], fail_status=status)

    with pytest.raises(error):
        list(harness.backend.stream_chat(REQUEST, GOOD_TOKEN))


def test_a_wrong_token_is_rejected_everywhere(harness: Harness) -> None:
    harness.add_turn([Done("c")])
    wrong = Secret("not-the-token-000000")

    with pytest.raises(AuthenticationRejectedError):
        list(harness.backend.stream_chat(REQUEST, wrong))
    with pytest.raises(AuthenticationRejectedError):
        harness.backend.profile(wrong)
    with pytest.raises(AuthenticationRejectedError):
        harness.backend.quota(wrong)


def test_profile_and_quota_answer_domain_values(harness: Harness) -> None:
    assert isinstance(harness.backend.profile(GOOD_TOKEN), Profile)
    assert harness.backend.quota(GOOD_TOKEN).plan == "pro"


def test_a_closed_backend_refuses_further_calls(harness: Harness) -> None:
    harness.backend.close()

    with pytest.raises(BackendError):
        harness.backend.profile(GOOD_TOKEN)


# --- ScriptedTraceBackend specifics --------------------------------------------------


def test_scripted_records_requests_and_tool_results() -> None:
    backend = ScriptedTraceBackend([[ToolCall("t1", "list_dir", {}), Done("c")]])

    for event in backend.stream_chat(REQUEST, GOOD_TOKEN):
        if isinstance(event, ToolCall):
            backend.post_tool_result("sess-c", ToolResult("t1", "[]"), GOOD_TOKEN)

    assert backend.requests == [REQUEST]
    assert backend.tool_results == [("sess-c", ToolResult("t1", "[]"))]
    assert backend.turns_left == 0


def test_scripted_emits_a_batch_of_tool_calls_before_waiting_for_all_results() -> None:
    calls = [ToolCall("t1", "list_dir", {}), ToolCall("t2", "list_dir", {})]
    backend = ScriptedTraceBackend([[*calls, TextDelta("after"), Done("c")]])
    stream = backend.stream_chat(REQUEST, GOOD_TOKEN)

    assert [next(stream), next(stream)] == calls
    backend.post_tool_result("sess-c", ToolResult("t2", "x"), GOOD_TOKEN)
    backend.post_tool_result("sess-c", ToolResult("t1", "x"), GOOD_TOKEN)
    assert list(stream) == [TextDelta("after"), Done("c")]


def test_scripted_names_the_tool_call_whose_result_never_came() -> None:
    backend = ScriptedTraceBackend(
        [[ToolCall("t9", "grep", {}), Done("c")]], tool_result_timeout=0.05
    )

    with pytest.raises(ProtocolError, match="t9"):
        list(backend.stream_chat(REQUEST, GOOD_TOKEN))


def test_scripted_error_is_raised_after_the_turns_events() -> None:
    backend = ScriptedTraceBackend(
        [ScriptedTurn((TextDelta("a"),), error=ProtocolError("cut"))],
        profile=AuthenticationRejectedError(),
    )
    seen: list[ChatEvent] = []

    with pytest.raises(ProtocolError, match="cut"):
        seen.extend(backend.stream_chat(REQUEST, GOOD_TOKEN))
    with pytest.raises(AuthenticationRejectedError):
        backend.profile(GOOD_TOKEN)

    assert seen == [TextDelta("a")]


def test_scripted_without_a_turn_left_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="no turn left"):
        list(ScriptedTraceBackend().stream_chat(REQUEST, GOOD_TOKEN))
