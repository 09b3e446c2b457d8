"""``ScriptedTraceBackend``: an in-memory Trace backend that plays back scripted turns.

First-class code for unit tests, SDK users and demos. It keeps the port's contract
like the HTTP adapter does: nothing happens before the first ``next()``, a turn that
runs out without ``Done`` raises ``ProtocolError``, and after a batch of consecutive
``ToolCall`` events the stream waits for their results before going on, as the real
backend does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence

import attrs

from application.ports import TraceBackend
from domain.chat import ChatEvent, ChatRequest, Done, Profile, Quota, ToolCall, ToolResult
from domain.errors import AuthenticationRejectedError, BackendError, ProtocolError, TraceError
from domain.secret import Secret

# What profile() and quota() answer unless told otherwise.
DEFAULT_PROFILE = Profile("dev@example.com", "pro")
DEFAULT_QUOTA = Quota("pro", 0.0, 20.0, 0.0)


def _events(value: Iterable[ChatEvent]) -> tuple[ChatEvent, ...]:
    return tuple(value)


@attrs.frozen
class ScriptedTurn:
    """One chat turn: the events to stream, then ``error`` raised if given."""

    events: tuple[ChatEvent, ...] = attrs.field(default=(), converter=_events)
    error: TraceError | None = None


class ScriptedTraceBackend(TraceBackend):
    """Plays one scripted turn per ``stream_chat`` call and records what it was sent."""

    def __init__(
        self,
        turns: Iterable[ScriptedTurn | Sequence[ChatEvent]] = (),
        *,
        profile: Profile | TraceError = DEFAULT_PROFILE,
        quota: Quota | TraceError = DEFAULT_QUOTA,
        valid_token: Secret | None = None,
        tool_result_error: TraceError | None = None,
        tool_result_timeout: float = 10.0,
    ) -> None:
        self._turns = [t if isinstance(t, ScriptedTurn) else ScriptedTurn(t) for t in turns]
        self._profile = profile
        self._quota = quota
        self._valid_token = valid_token
        self._tool_result_error = tool_result_error
        self._tool_result_timeout = tool_result_timeout
        self._cond = threading.Condition()
        self._requests: list[ChatRequest] = []
        self._tool_results: list[tuple[str, ToolResult]] = []
        self._closed = False

    def add_turn(self, *events: ChatEvent, error: TraceError | None = None) -> None:
        """Append a turn streaming ``events`` then raising ``error`` if given."""
        with self._cond:
            self._turns.append(ScriptedTurn(events, error))

    @property
    def requests(self) -> list[ChatRequest]:
        """The chat requests received, in order."""
        with self._cond:
            return list(self._requests)

    @property
    def tool_results(self) -> list[tuple[str, ToolResult]]:
        """The posted tool results as (session_id, result), in order."""
        with self._cond:
            return list(self._tool_results)

    @property
    def turns_left(self) -> int:
        """Scripted turns not yet played."""
        with self._cond:
            return len(self._turns)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    # --- the port -------------------------------------------------------------

    def stream_chat(self, request: ChatRequest, token: Secret) -> Iterator[ChatEvent]:
        """Play the next turn; the request counts as sent on the first ``next()``."""
        return self._play(request, token)

    def post_tool_result(self, session_id: str, result: ToolResult, token: Secret) -> None:
        """Record ``result`` and wake a stream waiting for it; raises ``tool_result_error``."""
        self._check(token)
        if self._tool_result_error is not None:
            raise self._tool_result_error
        with self._cond:
            self._tool_results.append((session_id, result))
            self._cond.notify_all()

    def profile(self, token: Secret) -> Profile:
        """The scripted profile (or its error)."""
        self._check(token)
        if isinstance(self._profile, TraceError):
            raise self._profile
        return self._profile

    def quota(self, token: Secret) -> Quota:
        """The scripted quota (or its error)."""
        self._check(token)
        if isinstance(self._quota, TraceError):
            raise self._quota
        return self._quota

    def close(self) -> None:
        """Mark closed; later calls raise ``BackendError``."""
        self._closed = True
        with self._cond:
            self._cond.notify_all()

    # --- internals ------------------------------------------------------------

    def _check(self, token: Secret) -> None:
        if self._closed:
            raise BackendError("this Trace backend connection is closed", "create a new one")
        if self._valid_token is not None and token != self._valid_token:
            raise AuthenticationRejectedError()

    def _play(self, request: ChatRequest, token: Secret) -> Iterator[ChatEvent]:
        self._check(token)
        with self._cond:
            self._requests.append(request)
            if not self._turns:
                raise ProtocolError("the scripted backend has no turn left for this request")
            turn = self._turns.pop(0)
        pending: list[str] = []
        for event in turn.events:
            if pending and not isinstance(event, ToolCall):
                self._wait_for(request.session_id, pending)
                pending = []
            yield event
            if isinstance(event, Done):
                return
            if isinstance(event, ToolCall):
                pending.append(event.tool_call_id)
        if pending:
            self._wait_for(request.session_id, pending)
        if turn.error is not None:
            raise turn.error
        raise ProtocolError("the Trace backend ended the stream without a 'done' event")

    def _wait_for(self, session_id: str, call_ids: list[str]) -> None:
        """Block until every call in ``call_ids`` has a posted result, as the backend would."""

        def arrived() -> bool:
            posted = {r.tool_call_id for s, r in self._tool_results if s == session_id}
            return self._closed or posted.issuperset(call_ids)

        deadline = time.monotonic() + self._tool_result_timeout
        with self._cond:
            while not arrived():
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = sorted(
                        set(call_ids)
                        - {r.tool_call_id for s, r in self._tool_results if s == session_id}
                    )
                    raise ProtocolError(
                        f"the scripted backend got no result for tool call(s) {', '.join(missing)}"
                    )
                self._cond.wait(left)
        if self._closed:
            raise BackendError("this Trace backend connection is closed", "create a new one")
