"""``ScriptedTraceBackend``: an in-memory Trace backend that plays back scripted turns.

First-class code for unit tests, SDK users and demos. It keeps the port's contract
like the HTTP adapter does: nothing happens before the first ``next()``, a turn that
runs out without ``Done`` raises ``ProtocolError``, and after a batch of consecutive
``ToolCall`` events the stream waits for their results before going on, as the real
backend does.

Device login (RFC 8628): ``start_device_login`` hands out ``device_authorization``;
each ``poll_device_login`` with its device code plays the next of ``device_polls``
(a ``DevicePoll`` or an error to raise), and once they are used up answers approved
with ``valid_token`` (else ``DEFAULT_DEVICE_TOKEN``), as if the user approved at once.
Like the real backend, a device code is used up once it delivered its token.

Provider rejections: a request carrying one of ``rejected_keys`` gets, without using a
turn, the ``error`` event a backend sends when the model provider rejected the key
(``code`` ``provider_auth``, ``provider_status`` 401), then ``done``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import attrs

from application.ports import TraceBackend
from domain.account import ClientKind, Profile, Quota
from domain.device_login import DeviceAuthorization, DeviceLoginState, DevicePoll
from domain.errors import (
    AuthenticationRejectedError,
    BackendError,
    LoginFailedError,
    ProtocolError,
    TraceError,
)
from domain.secret import Secret
from domain.value import Value

if TYPE_CHECKING:
    # The chat events load with the first turn played: the composition root names this
    # class, and commands that never chat must not build them.
    from domain.chat import ChatEvent, ChatRequest, ToolResult

# What profile() and quota() answer unless told otherwise.
DEFAULT_PROFILE = Profile("dev@example.com", "pro")
DEFAULT_QUOTA = Quota("pro", 0.0, 20.0, 0.0)
DEFAULT_DEVICE_AUTHORIZATION = DeviceAuthorization(
    Secret("scripted-device-code-0123456789abcdef"),
    "BCDF-GHJK",
    "https://app.buildwithtrace.com/login/device",
    expires_in=900,
    interval=1,
)
DEFAULT_DEVICE_TOKEN = Secret("scripted-device-login-token-0123456789")


def _events(value: Iterable[ChatEvent]) -> tuple[ChatEvent, ...]:
    return tuple(value)


@attrs.frozen(eq=False, repr=False)
class ScriptedTurn(Value):
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
        device_authorization: DeviceAuthorization | TraceError = DEFAULT_DEVICE_AUTHORIZATION,
        device_polls: Iterable[DevicePoll | TraceError] = (),
        rejected_keys: Iterable[str] = (),
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
        self._device_authorization = device_authorization
        self._device_polls = list(device_polls)
        self._device_clients: list[ClientKind] = []
        self._device_polled = 0
        self._device_used = False
        self._closed = False
        self._rejected_keys = set(rejected_keys)

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
    def device_logins_started(self) -> list[ClientKind]:
        """The ``client`` of every ``start_device_login`` call, in order."""
        with self._cond:
            return list(self._device_clients)

    @property
    def device_polls_seen(self) -> int:
        """How many times ``poll_device_login`` was called."""
        with self._cond:
            return self._device_polled

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

    def start_device_login(self, client: ClientKind) -> DeviceAuthorization:
        """The scripted device authorization (or its error)."""
        self._check(None)
        with self._cond:
            self._device_clients.append(client)
        if isinstance(self._device_authorization, TraceError):
            raise self._device_authorization
        return self._device_authorization

    def poll_device_login(self, device_code: Secret) -> DevicePoll:
        """The next scripted poll; approved with the default token once they are used up."""
        self._check(None)
        expected = self._device_authorization
        with self._cond:
            used = self._device_used
        if used or isinstance(expected, TraceError) or device_code != expected.device_code:
            # What the backend answers for a device code it never issued or that is used up.
            raise LoginFailedError(
                "the Trace backend ended the device login (invalid_grant)",
                "buildwithtrace auth login   (to start a new login)",
            )
        with self._cond:
            self._device_polled += 1
            answer = self._device_polls.pop(0) if self._device_polls else None
        if isinstance(answer, TraceError):
            raise answer
        if answer is None:
            answer = DevicePoll(
                DeviceLoginState.APPROVED, self._valid_token or DEFAULT_DEVICE_TOKEN
            )
        if answer.state is DeviceLoginState.APPROVED:
            with self._cond:
                self._device_used = True
        return answer

    def close(self) -> None:
        """Mark closed; later calls raise ``BackendError``."""
        self._closed = True
        with self._cond:
            self._cond.notify_all()

    # --- internals ------------------------------------------------------------

    def _check(self, token: Secret | None) -> None:
        """Refuse when closed; refuse ``token`` unless it is valid (None: no token needed)."""
        if self._closed:
            raise BackendError(
                "this Trace backend connection is closed", "build a new client: Trace()"
            )
        if token is not None and self._valid_token is not None and token != self._valid_token:
            raise AuthenticationRejectedError()

    def _play(self, request: ChatRequest, token: Secret) -> Iterator[ChatEvent]:
        from domain.chat import PROVIDER_AUTH, Done, StreamError, ToolCall

        self._check(token)
        with self._cond:
            self._requests.append(request)
            key = request.llm.api_key.reveal() if request.llm is not None else None
            if key is not None and key in self._rejected_keys:
                rejected = True
            elif not self._turns:
                raise ProtocolError("the scripted backend has no turn left for this request")
            else:
                rejected = False
            turn = self._turns.pop(0) if not rejected else None
        if turn is None:
            # The model provider rejected the request's key (no turn is used).
            assert request.llm is not None
            provider = request.llm.provider.value
            yield StreamError(f"{provider} rejected the API key (HTTP 401)", PROVIDER_AUTH, 401)
            yield Done(None)
            return
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
            raise BackendError(
                "this Trace backend connection is closed", "build a new client: Trace()"
            )
