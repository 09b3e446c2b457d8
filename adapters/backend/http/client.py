"""``HttpTraceBackend``: the Trace backend over HTTP/1.1 with httpx (DESIGN section 5).

Every httpx failure is translated into our errors in :meth:`HttpTraceBackend._send`
and :meth:`HttpTraceBackend._events`, and raised outside the ``except`` block so no
httpx exception (whose request holds the token and key) is chained to ours.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import attrs
import httpx

from adapters.backend.http.retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after
from adapters.backend.http.sse import iter_events
from adapters.backend.http.urls import pin_localhost
from adapters.backend.http.wire import (
    chat_body,
    device_code_body,
    device_token_body,
    parse_device_authorization,
    parse_device_refusal,
    parse_device_token,
    parse_profile,
    parse_quota,
    status_error,
    tool_result_body,
)
from application.ports import TraceBackend
from domain.backend_url import (
    check_api_version,
    check_transport,
    is_loopback_host,
    normalize_base_url,
)
from domain.chat import (
    ChatEvent,
    ChatRequest,
    ClientKind,
    Done,
    Profile,
    Quota,
    ToolResult,
)
from domain.device_login import DeviceAuthorization, DevicePoll
from domain.errors import (
    BackendError,
    BackendUnavailableError,
    DeviceLoginUnavailableError,
    ProtocolError,
    TraceError,
)
from domain.provider import Provider
from domain.secret import Secret
from domain.value import Value

_ERROR_BODY_BYTES = 16384
# Every answer but the event stream is a few hundred bytes (a profile, a quota, a device
# login, the acknowledgement of a tool result): read at most this much of any of them,
# so a hostile backend cannot fill memory with one.
_ANSWER_BYTES = 64 * 1024
_DEVICE_LOGIN = "device login"
_NO_DEVICE_LOGIN = frozenset({404, 405})
_SESSIONS_KEPT = 64


@attrs.frozen(eq=False, repr=False)
class _Context(Value):
    """What the status mapping needs to know about the request (402/403 wording)."""

    what: str
    mode: str | None = None
    provider: Provider | None = None  # the provider in effect (TRACE without a key)
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)


def _transport_failure(exc: httpx.TransportError) -> str:
    """A short, secret-free description of a network failure (httpx messages carry no headers)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connecting timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({str(exc)[:120] or 'connection failed'})"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the backend"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection closed before a complete answer"
    return f"network error ({type(exc).__name__})"


class HttpTraceBackend(TraceBackend):
    """The Trace backend over HTTP: SSE chat stream, tool results, profile and quota.

    One ``httpx.Client`` serves the stream and the tool results posted while it is
    open (so its pool holds several connections). Requests before a stream starts
    are retried on 429/502/503 and network failures; a stream that breaks after its
    200 answer is never retried, because the backend may already be running tools
    whose writes a second request would repeat.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_version: str = "latest",
        client: httpx.Client | None = None,
        connect_timeout: float = 10,
        read_timeout: float = 120,
        max_retries: int = 4,
        max_retry_wait: float = 30,
        sleep: Callable[[float], None] = time.sleep,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._base, self._host_header = pin_localhost(normalize_base_url(base_url))
        check_transport(self._base)
        self._prefix = f"{self._base}/api/{check_api_version(api_version)}"
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self._owns_client = client is None
        self._client = client if client is not None else self._new_client()
        self._retry = RetryPolicy(max_retries=max_retries, max_wait=max_retry_wait)
        # Profile and quota are status look-ups a person waits on (`auth status`,
        # `billing status`): one quick retry, not the chat's patient budget.
        self._lookup_retry = RetryPolicy(
            max_retries=min(max_retries, 1), max_wait=min(max_retry_wait, 2.0)
        )
        self._sleep = sleep
        self._on_warning = on_warning
        self._sessions: dict[str, _Context] = {}
        self._sessions_lock = threading.Lock()
        self._closed = False

    def _new_client(self) -> httpx.Client:
        host = httpx.URL(self._base).host
        return httpx.Client(
            timeout=self._timeout,
            # No cap on connections: a stream holds its connection until the backend has
            # the results of its tool calls, so a cap at or below the number of
            # concurrent streams (SDK users run dozens) would leave the tool-result
            # posts waiting for a connection that never frees up. Each caller thread
            # uses one connection at a time, so the callers' thread pools bound this.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
            follow_redirects=False,
            # A proxy from the environment would see a loopback request (and its key) in
            # clear text; only https traffic may go through one.
            trust_env=not is_loopback_host(host),
        )

    # --- the port -------------------------------------------------------------

    def stream_chat(self, request: ChatRequest, token: Secret) -> Iterator[ChatEvent]:
        """POST /chat/stream and yield its events until ``Done``; nothing is sent before iteration.

        The transport check runs here, eagerly; connecting, retries and status
        mapping happen on the first ``next()``.
        """
        url = f"{self._prefix}/chat/stream"
        check_transport(url)
        context = _Context(
            "chat",
            mode=request.mode.value,
            provider=request.llm.provider if request.llm is not None else Provider.TRACE,
            secrets=self._secrets(token, request),
        )
        self._remember(request.session_id, context)
        return self._events(url, chat_body(request), token, context)

    def post_tool_result(self, session_id: str, result: ToolResult, token: Secret) -> None:
        """POST /tools/result; retried like the rest: the backend dedupes by tool_call_id."""
        with self._sessions_lock:
            known = self._sessions.get(session_id, _Context("tool result"))
        context = attrs.evolve(known, what="tool result", secrets=(token.reveal(),))
        url = f"{self._prefix}/tools/result"
        response = self._send(
            "POST", url, token, tool_result_body(session_id, result), context, raw=True
        )
        self._capped_body(response, "tool result")  # read (bounded) so the connection is reused

    def profile(self, token: Secret) -> Profile:
        """GET /user/profile; 401 raises AuthenticationRejectedError (so this checks the token)."""
        return parse_profile(self._get_json("/user/profile", token, "profile"))

    def quota(self, token: Secret) -> Quota:
        """GET /user/quota."""
        return parse_quota(self._get_json("/user/quota", token, "quota"))

    def start_device_login(self, client: ClientKind) -> DeviceAuthorization:
        """POST /auth/device/code, without a token; the answer is checked (see the port)."""
        url = f"{self._prefix}/auth/device/code"
        response = self._send(
            "POST",
            url,
            None,
            device_code_body(client),
            _Context(_DEVICE_LOGIN),
            raw=True,
            passthrough=_NO_DEVICE_LOGIN,
            retry=self._lookup_retry,
        )
        if response.status_code in _NO_DEVICE_LOGIN:
            response.close()
            raise DeviceLoginUnavailableError()
        return parse_device_authorization(self._capped_json(response, _DEVICE_LOGIN))

    def poll_device_login(self, device_code: Secret) -> DevicePoll:
        """POST /auth/device/token once; a 400 carries the state (RFC 8628 section 3.5)."""
        url = f"{self._prefix}/auth/device/token"
        response = self._send(
            "POST",
            url,
            None,
            device_token_body(device_code),
            _Context(_DEVICE_LOGIN, secrets=(device_code.reveal(),)),
            raw=True,
            passthrough=frozenset({400}),
            retry=self._lookup_retry,
        )
        if response.status_code == 400:
            return parse_device_refusal(self._error_body(response))
        return parse_device_token(self._capped_json(response, _DEVICE_LOGIN))

    def close(self) -> None:
        """Close the connection pool (only a client this backend created)."""
        self._closed = True
        if self._owns_client:
            self._client.close()

    # --- internals ------------------------------------------------------------

    @staticmethod
    def _secrets(token: Secret, request: ChatRequest) -> tuple[str, ...]:
        if request.llm is None:
            return (token.reveal(),)
        return (token.reveal(), request.llm.api_key.reveal())

    def _remember(self, session_id: str, context: _Context) -> None:
        # Only the 402/403 wording is kept (no secrets), and only for recent sessions, so a
        # long-lived SDK process does not grow this forever.
        with self._sessions_lock:
            self._sessions.pop(session_id, None)
            self._sessions[session_id] = attrs.evolve(context, secrets=())
            while len(self._sessions) > _SESSIONS_KEPT:
                del self._sessions[next(iter(self._sessions))]

    def _get_json(self, path: str, token: Secret, what: str) -> object:
        url = f"{self._prefix}{path}"
        context = _Context(what, secrets=(token.reveal(),))
        response = self._send("GET", url, token, None, context, retry=self._lookup_retry, raw=True)
        return self._capped_json(response, what)

    def _events(
        self, url: str, body: dict[str, object], token: Secret, context: _Context
    ) -> Iterator[ChatEvent]:
        response = self._send("POST", url, token, body, context, stream=True)
        malformed = [0]

        def count_malformed() -> None:
            malformed[0] += 1

        def warn_once() -> None:
            if malformed[0] and self._on_warning is not None:
                self._on_warning(
                    f"skipped {malformed[0]} malformed event(s) in the Trace backend's stream"
                )
            malformed[0] = 0

        failure: TraceError | None = None
        try:
            # The events are passed on as sent: the Chat use-case masks the secrets in
            # every one of them (a provider error may quote the key), for every adapter.
            for event in iter_events(response.iter_bytes(), count_malformed):
                if isinstance(event, Done):
                    warn_once()
                    yield event
                    return
                yield event
        except httpx.TransportError as exc:
            failure = BackendUnavailableError(
                f"the Trace backend's stream broke off: {_transport_failure(exc)}; "
                "not retried, because tools may already have run"
            )
        except (httpx.HTTPError, httpx.StreamError):
            failure = ProtocolError("the Trace backend's stream could not be decoded")
        finally:
            response.close()
            warn_once()
        if failure is None:
            failure = ProtocolError("the Trace backend ended the stream without a 'done' event")
        raise failure

    def _send(
        self,
        method: str,
        url: str,
        token: Secret | None,
        body: dict[str, object] | None,
        context: _Context,
        *,
        stream: bool = False,
        retry: RetryPolicy | None = None,
        raw: bool = False,
        passthrough: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send with retries; a 2xx response (still open when ``stream``) or our error.

        ``raw``: return the response unread (the caller reads and closes it), also for
        the statuses in ``passthrough``, which are then not turned into errors.
        """
        policy = retry or self._retry
        check_transport(url)
        if self._closed or self._client.is_closed:
            raise BackendError(
                "this Trace backend connection is closed", "build a new client: Trace()"
            )
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if self._host_header is not None:
            headers["Host"] = self._host_header  # connected to the pinned loopback address
        if token is not None:
            if not token.reveal().isascii():
                # httpx would raise a UnicodeEncodeError that carries the whole header value.
                raise BackendError(
                    "the Trace token contains non-ASCII characters and cannot be sent",
                    "buildwithtrace auth login",
                )
            headers["Authorization"] = f"Bearer {token.reveal()}"
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            retry_after: str | None = None
            try:
                request = self._client.build_request(
                    method, url, json=body, headers=headers, timeout=self._timeout
                )
                response = self._client.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                reason = _transport_failure(exc)
            else:
                status = response.status_code
                if raw and (200 <= status < 300 or status in passthrough):
                    return response
                if 200 <= status < 300:
                    if stream:
                        self._check_event_stream(response)
                    else:
                        self._capped_body(response, context.what)
                    return response
                excerpt = self._error_body(response)
                if status not in RETRYABLE_STATUS:
                    raise status_error(
                        status,
                        excerpt,
                        context.secrets,
                        mode=context.mode,
                        provider=context.provider,
                    )
                reason = f"HTTP {status}"
                retry_after = response.headers.get("retry-after")
            wait = policy.wait_before(attempt, retry_after, waited)
            if wait is None:
                asked = parse_retry_after(retry_after, time.time())
                if asked is not None and attempt <= policy.max_retries:
                    reason += f", which asked us to wait {asked:.0f} s, beyond our limit"
                raise BackendUnavailableError(
                    f"the Trace backend's {context.what} request failed after {attempt} "
                    f"attempt{'s' if attempt != 1 else ''} (last: {reason})"
                )
            self._sleep(wait)
            waited += wait

    @staticmethod
    def _check_event_stream(response: httpx.Response) -> None:
        kind = response.headers.get("content-type", "")
        if kind.split(";", 1)[0].strip().lower() != "text/event-stream":
            response.close()
            shown = kind.split(";", 1)[0].strip()[:60] or "no content type"
            raise ProtocolError(f"the Trace backend answered {shown} instead of an event stream")

    @classmethod
    def _capped_json(cls, response: httpx.Response, what: str) -> object:
        """The JSON of an open answer read up to ``_ANSWER_BYTES`` (a larger one is refused)."""
        data = cls._capped_body(response, what)
        try:
            return json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: nesting too deep
            failure = ProtocolError(f"the Trace backend's {what} answer is not JSON")
        raise failure

    @staticmethod
    def _capped_body(response: httpx.Response, what: str) -> bytes:
        """An open answer's body, read up to ``_ANSWER_BYTES`` and closed; more is refused."""
        chunks: list[bytes] = []
        size = 0
        failure: TraceError | None = None
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > _ANSWER_BYTES:
                    failure = ProtocolError(
                        f"the Trace backend's {what} answer is larger than "
                        f"{_ANSWER_BYTES // 1024} KiB"
                    )
                    break
                chunks.append(chunk)
        except httpx.TransportError as exc:
            failure = BackendUnavailableError(
                f"the Trace backend's answer broke off: {_transport_failure(exc)}"
            )
        except httpx.HTTPError:
            failure = ProtocolError(f"the Trace backend's {what} answer could not be decoded")
        finally:
            response.close()
        if failure is not None:
            raise failure
        return b"".join(chunks)

    @staticmethod
    def _error_body(response: httpx.Response) -> bytes:
        """Up to 16 KiB of an error answer; a broken error body is just empty."""
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= _ERROR_BODY_BYTES:
                    break
        except httpx.HTTPError:
            pass
        finally:
            response.close()
        return b"".join(chunks)[:_ERROR_BODY_BYTES]
