"""A real HTTP server on 127.0.0.1 that speaks the Trace backend protocol (DESIGN section 5).

Scriptable per chat turn, it serves the HTTP adapter tests, the chat use-case tests
and the CLI end-to-end tests (run as ``python -m tests.support.protocol_server --port 0
--script script.json``; the first stdout line is its URL).

A *script* is a JSON object; every key is optional::

    {
      "token": "test-trace-token-0123456789",   # the valid bearer token; null accepts any
      "api_version": null,                      # pin /api/<version>; null accepts any
      "tool_timeout": 10,                       # default wait for a tool result, seconds
      "keep_results": true,                     # false: record tool results as "<N chars>"
      "profile": {"email": "dev@example.com", "plan": "pro"},
      "accounts": {"<token>": {"email": ..., "plan": ...}},   # more valid tokens, own profiles
      "quota": {"plan": "pro", "monthly_cost_used": 1.25, ...},
      "respond": {"tool_result": [<response>...], "profile": [...], "quota": [...]},
      "reject_keys": ["<provider key>"...],     # the model provider rejects these (below)
      "turns": [<turn>...]
    }

A chat request whose ``llm_api_key`` is one of ``reject_keys`` is answered, without
using a turn, the way a backend reports that the model provider rejected the user's
key (docs/architecture.md, "The chat stream on the wire")::

    data: {"type": "error", "code": "provider_auth", "provider_status": 401,
           "content": "<provider> rejected the API key (HTTP 401)"}
    data: {"type": "done", "conversation_id": null}

Each ``POST /chat/stream`` is served by the first remaining *turn*::

    {"respond": [<response>...], "steps": [<step>...]}

A turn's ``respond`` entries answer the first requests (one per request, in order);
once they are used up the next request streams ``steps`` and the turn is consumed.
A *response* is ``{"status": 429, "retry_after": 2, "body": {...} | "text",
"headers": {...}, "times": 3}`` or ``{"drop": true, "times": 1}`` (close the
connection without answering). A *step* is one of (``op`` names the kind)::

    {"op": "text", "content": "Hi"}                     text_delta event
    {"op": "event", "data": <any JSON>}                 one event, data as given
    {"op": "tool_call", "tool_call_id": "t1", "tool_name": "read_file",
     "tool_args": {...}, "wait": true, "timeout": 10, "echo": "{result}"}
        emit tool_call; with wait, block until POST /tools/result arrives for this
        session_id and tool_call_id; with echo, then emit that template as text
        (fields: result, is_error, tool_call_id). On timeout: an ``error`` event
        and the stream ends WITHOUT done, so the client fails loudly.
    {"op": "await_results", "tool_call_ids": ["t1", "t2"], "timeout": 10}
    {"op": "echo_result", "tool_call_id": "t1", "template": "{result}"}
    {"op": "metrics", "data": {"input_tokens": 10}}     metrics event (data merged in)
    {"op": "done", "conversation_id": "conv-1"}         done event
    {"op": "raw", "data": "data: not json\\n\\n"}        raw bytes on the stream
    {"op": "sleep", "seconds": 2}                       stall without sending
    {"op": "drop"}                                      cut the connection mid-stream

Steps that run out without ``done`` end the stream cleanly, without ``done``. The
builders below (``text``, ``tool_call``, ``turn``, ``respond``...) produce these dicts.
Every request is recorded (``requests``); ``GET /_control/state`` returns the
recording as JSON and ``POST /_control/script`` replaces the script, for tests that
run the server in another process (``/_control/`` requests are not recorded).

Device login (RFC 8628), as a real backend does it; neither endpoint takes a token::

    POST /api/<v>/auth/device/code   {"client": "cli"|"sdk"}
      200 {"device_code": <random secret>, "user_code": "BCDF-GHJK",
           "verification_uri": <script's, else <url>/login/device>,
           "expires_in": 900, "interval": 1}
    POST /api/<v>/auth/device/token  {"device_code": ...}
      200 {"token": <the approving account's token>}   (once; the code is then used up)
      400 {"error": "authorization_pending" | "slow_down" | "access_denied"
                    | "expired_token" | "invalid_grant"}   (invalid_grant: unknown/used)

User codes are 8 random letters of ``BCDFGHJKLMNPQRSTVWXZ`` (no vowels, nothing that
reads as a digit), compared without case or dashes. Approval stands for "the user
logged in on the verification page as the account of ``token`` and typed this user
code"; like a real backend, ANY known account may approve ANY pending code it names::

    POST /_control/device/approve {"user_code": "BCDF-GHJK", "token": <account token>}
      200 approved; 401 unknown account; 404 unknown code (counted against the account);
      410 expired; 409 already approved/denied/used; 429 after too many wrong codes
    POST /_control/device/deny {"user_code": ...}      the user pressed "Deny"

(also in-process: ``approve_device``, ``deny_device``, ``device_logins``). The script's
``"device"`` object tunes it: ``verification_uri``, ``expires_in`` (seconds),
``interval``, ``enforce_interval`` (default true: a poll sooner than ``interval``
after the previous one is answered ``slow_down`` and adds 5 s to it, per RFC 8628
section 3.5), ``max_wrong_codes`` (default 5 per approving account). Canned answers
go in ``respond`` under ``device_code`` and ``device_token`` (e.g. a hostile
``verification_uri``, or ``{"status": 400, "body": {"error": "slow_down"}}``).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest

TOKEN = "test-trace-token-0123456789"
DEFAULT_PROFILE: dict[str, Any] = {"email": "dev@example.com", "plan": "pro"}
DEFAULT_QUOTA: dict[str, Any] = {
    "plan": "pro",
    "monthly_cost_used": 1.25,
    "monthly_cost_cap": 20.0,
    "credits_remaining": 5.0,
}
_API_PATH = re.compile(
    r"/api/([^/]+)/(chat/stream|tools/result|user/profile|user/quota|auth/device/(?:code|token))"
)
_ENDPOINTS = {
    "chat/stream": "chat",
    "tools/result": "tool_result",
    "user/profile": "profile",
    "user/quota": "quota",
    "auth/device/code": "device_code",
    "auth/device/token": "device_token",
}
_QUEUES = ("tool_result", "profile", "quota", "device_code", "device_token")
_NO_TOKEN = ("device_code", "device_token")  # the device login's endpoints take none
USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 section 6.1
_OPS = frozenset(
    {"text", "event", "tool_call", "await_results", "echo_result", "metrics", "done", "raw"}
    | {"sleep", "drop"}
)
_CHAT_FIELDS = ("message", "session_id", "mode", "app_type", "client")

Step = dict[str, Any]
Response = dict[str, Any]
Turn = dict[str, Any]


# --- script builders -----------------------------------------------------------


def text(content: str) -> Step:
    """A ``text_delta`` event."""
    return {"op": "text", "content": content}


def event(data: Any) -> Step:
    """One event whose data line is ``data`` as JSON (any type: unknown events, bad shapes)."""
    return {"op": "event", "data": data}


def thinking(content: str) -> Step:
    """A ``thinking`` event."""
    return event({"type": "thinking", "content": content})


def status(content: str) -> Step:
    """A ``status`` event."""
    return event({"type": "status", "content": content})


def error(content: str) -> Step:
    """An ``error`` event inside the stream."""
    return event({"type": "error", "content": content})


def provider_auth_error(provider: str, status: int = 401) -> Step:
    """The ``error`` event of a backend whose model provider rejected the request's key."""
    return event(
        {
            "type": "error",
            "code": "provider_auth",
            "provider_status": status,
            "content": f"{provider} rejected the API key (HTTP {status})",
        }
    )


def file_edit(**data: Any) -> Step:
    """A ``file_edit`` event with ``data`` merged in."""
    return event({"type": "file_edit", **data})


def tool_call(
    tool_call_id: str,
    tool_name: str,
    tool_args: Mapping[str, Any] | None = None,
    *,
    wait: bool = True,
    timeout: float | None = None,
    echo: str | None = None,
) -> Step:
    """A ``tool_call`` event; by default the stream then waits for its result."""
    step: Step = {
        "op": "tool_call",
        "tool_call_id": tool_call_id,
        "tool_name": tool_name,
        "tool_args": dict(tool_args or {}),
        "wait": wait,
    }
    if timeout is not None:
        step["timeout"] = timeout
    if echo is not None:
        step["echo"] = echo
    return step


def await_results(*tool_call_ids: str, timeout: float | None = None) -> Step:
    """Block until results for all ``tool_call_ids`` arrived (for concurrent tool calls)."""
    step: Step = {"op": "await_results", "tool_call_ids": list(tool_call_ids)}
    if timeout is not None:
        step["timeout"] = timeout
    return step


def echo_result(tool_call_id: str, template: str = "{result}") -> Step:
    """A ``text_delta`` from a received tool result (fields: result, is_error, tool_call_id)."""
    return {"op": "echo_result", "tool_call_id": tool_call_id, "template": template}


def metrics(**data: Any) -> Step:
    """A ``metrics`` event with ``data`` merged in."""
    return {"op": "metrics", "data": data}


def done(conversation_id: str | None = "conv-test") -> Step:
    """The ``done`` event."""
    return {"op": "done", "conversation_id": conversation_id}


def raw(data: str) -> Step:
    """Bytes written to the stream exactly as given (framing included)."""
    return {"op": "raw", "data": data}


def garbage(line: str = "this is not json {") -> Step:
    """A complete SSE event whose data is not JSON."""
    return raw(f"data: {line}\n\n")


def sleep(seconds: float) -> Step:
    """Stall: send nothing for ``seconds``."""
    return {"op": "sleep", "seconds": seconds}


def drop() -> Step:
    """Cut the connection mid-stream (no end of the chunked body)."""
    return {"op": "drop"}


def respond(
    status: int,
    body: Any = None,
    *,
    retry_after: float | str | None = None,
    headers: Mapping[str, str] | None = None,
    times: int = 1,
) -> Response:
    """An answer given instead of the normal one, ``times`` times in a row."""
    response: Response = {"status": status, "times": times}
    if body is not None:
        response["body"] = body
    if retry_after is not None:
        response["retry_after"] = retry_after
    if headers:
        response["headers"] = dict(headers)
    return response


def disconnect(times: int = 1) -> Response:
    """Close the connection without answering, ``times`` times in a row."""
    return {"drop": True, "times": times}


def turn(*steps: Step, respond: Sequence[Response] = ()) -> Turn:
    """One chat turn: first the ``respond`` answers (one per request), then the stream."""
    return {"respond": list(respond), "steps": list(steps)}


def simple_turn(*chunks: str, conversation_id: str = "conv-test") -> Turn:
    """A turn that streams ``chunks`` as text then ``done``."""
    return turn(*(text(c) for c in chunks), done(conversation_id))


# --- device login ----------------------------------------------------------------


@attrs.define
class DeviceLogin:
    """One device login the server handed out, and where it stands."""

    device_code: str
    user_code: str
    expires_at: float  # time.monotonic()
    interval: float
    state: str = "pending"  # pending | approved | denied | used
    token: str | None = None  # the approving account's token
    last_poll: float | None = None
    polls: int = 0
    slow_downs: int = 0  # polls that came sooner than the interval

    def to_json(self) -> dict[str, Any]:
        """What a test may see (not the device code: tests must not need it)."""
        return {
            "user_code": self.user_code,
            "state": self.state,
            "approved_with": self.token,
            "polls": self.polls,
            "slow_downs": self.slow_downs,
        }


def _new_user_code() -> str:
    letters = "".join(secrets.choice(USER_CODE_LETTERS) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def _normal_code(code: object) -> str | None:
    if not isinstance(code, str):
        return None
    return code.upper().replace("-", "").replace(" ", "")


# --- recording -----------------------------------------------------------------


@attrs.frozen
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any]  # the JSON object body; {} when there was none or it was not one
    text: str  # the raw body

    @property
    def authorization(self) -> str | None:
        """The Authorization header, if any."""
        return self.headers.get("authorization")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``/_control/state`` and the record file)."""
        return attrs.asdict(self)


def _expand(responses: Sequence[Response]) -> collections.deque[Response]:
    out: collections.deque[Response] = collections.deque()
    for response in responses:
        if not isinstance(response, dict) or (
            "status" not in response and not response.get("drop")
        ):
            raise ValueError(f"a response needs 'status' or 'drop': {response!r}")
        for _ in range(int(response.get("times", 1))):
            out.append(response)
    return out


def _check_turn(value: Turn) -> Turn:
    if not isinstance(value, dict) or not isinstance(value.get("steps", []), list):
        raise ValueError(f"a turn is an object with 'steps': {value!r}")
    for step in value.get("steps", []):
        if not isinstance(step, dict) or step.get("op") not in _OPS:
            raise ValueError(f"unknown step {step!r}; ops are {sorted(_OPS)}")
    return {"respond": _expand(value.get("respond", [])), "steps": list(value.get("steps", []))}


# --- the server ----------------------------------------------------------------


class ProtocolServer:
    """The scriptable Trace protocol server; start(), use ``url`` and ``token``, stop()."""

    def __init__(
        self,
        script: Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record_path: Path | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._record_path = record_path
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._problems: list[str] = []
        self._tool_results: dict[tuple[str, str], dict[str, Any]] = {}
        self._tool_posts: list[dict[str, Any]] = []
        self._emitted: set[tuple[str, str]] = set()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._device_logins: dict[str, DeviceLogin] = {}  # by device code
        self._wrong_codes: collections.Counter[str] = collections.Counter()
        self.load(script or {})

    # configuration

    def load(self, script: Mapping[str, Any]) -> None:
        """Replace the whole script (turns, token, profile, quota, respond queues)."""
        turns = [_check_turn(t) for t in script.get("turns", [])]
        queues = {name: _expand(r) for name, r in dict(script.get("respond", {})).items()}
        unknown = set(queues) - set(_QUEUES)
        if unknown:
            raise ValueError(f"'respond' keys are {', '.join(_QUEUES)}; not {unknown}")
        device = dict(script.get("device", {}))
        with self._cond:
            self.token: str | None = script.get("token", TOKEN)
            self.api_version: str | None = script.get("api_version")
            self.tool_timeout = float(script.get("tool_timeout", 10.0))
            # Off for memory tests: thousands of large results would fill this process.
            self.keep_results = bool(script.get("keep_results", True))
            self.profile: dict[str, Any] = dict(script.get("profile", DEFAULT_PROFILE))
            self.accounts: dict[str, dict[str, Any]] = {
                str(token): dict(profile) for token, profile in script.get("accounts", {}).items()
            }
            self.quota: dict[str, Any] = dict(script.get("quota", DEFAULT_QUOTA))
            self.verification_uri: str | None = device.get("verification_uri")
            self.device_expires_in = float(device.get("expires_in", 900))
            self.device_interval = float(device.get("interval", 1))
            self.enforce_interval = bool(device.get("enforce_interval", True))
            self.max_wrong_codes = int(device.get("max_wrong_codes", 5))
            self.reject_keys: set[str] = {str(k) for k in script.get("reject_keys", [])}
            self._turns: collections.deque[Turn] = collections.deque(turns)
            self._queues = queues

    def add_turn(self, *steps: Step, respond: Sequence[Response] = ()) -> None:
        """Append one turn (see :func:`turn`)."""
        checked = _check_turn(turn(*steps, respond=respond))
        with self._cond:
            self._turns.append(checked)

    def respond_to(self, endpoint: str, *responses: Response) -> None:
        """Queue answers for ``tool_result``, ``profile``, ``quota``, ``device_*`` requests."""
        if endpoint not in _QUEUES:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        with self._cond:
            self._queues.setdefault(endpoint, collections.deque()).extend(_expand(responses))

    # observation

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (paths go under ``/api/<version>``)."""
        if self._httpd is None:
            raise RuntimeError("the protocol server is not started")
        return f"http://{self._host}:{self._httpd.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order."""
        with self._cond:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """The requests whose path ends with ``endpoint`` (e.g. ``"chat/stream"``)."""
        return [r for r in self.requests if r.path.endswith(endpoint)]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The ``POST /chat/stream`` requests."""
        return self.requests_to("/chat/stream")

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """Bodies of accepted tool results, duplicates included, in arrival order."""
        with self._cond:
            return list(self._tool_posts)

    @property
    def problems(self) -> list[str]:
        """Protocol violations the server noticed (bad bodies, missing turns, tool timeouts)."""
        with self._cond:
            return list(self._problems)

    @property
    def turns_left(self) -> int:
        """How many scripted turns have not been streamed yet."""
        with self._cond:
            return len(self._turns)

    @property
    def open_connections(self) -> int:
        """Client connections currently open (a closed client's drop once the server sees EOF)."""
        with self._cond:
            return len(self._connections)

    def state(self) -> dict[str, Any]:
        """Everything recorded, JSON-ready."""
        with self._cond:
            return {
                "requests": [r.to_json() for r in self._requests],
                "tool_results": list(self._tool_posts),
                "problems": list(self._problems),
                "turns_left": len(self._turns),
                "device_logins": [d.to_json() for d in self._device_logins.values()],
            }

    # the device login

    @property
    def device_logins(self) -> list[dict[str, Any]]:
        """Every device login handed out, oldest first (user code, state, approving token)."""
        with self._cond:
            return [d.to_json() for d in self._device_logins.values()]

    def approve_device(self, user_code: object, token: object) -> tuple[int, dict[str, Any]]:
        """The user, logged in as the account of ``token``, typed ``user_code``; (status, body)."""
        if not isinstance(token, str) or not (
            self.token is None or token == self.token or token in self.accounts
        ):
            return 401, {"detail": "not logged in"}
        now = time.monotonic()
        with self._cond:
            if self._wrong_codes[token] >= self.max_wrong_codes:
                return 429, {"detail": "too many wrong codes"}
            login = self._by_user_code(user_code)
            if login is None:
                self._wrong_codes[token] += 1
                return 404, {"detail": "unknown code"}
            if now >= login.expires_at:
                return 410, {"detail": "this code expired"}
            if login.state != "pending":
                return 409, {"detail": f"this code is already {login.state}"}
            login.state, login.token = "approved", token
        return 200, {"ok": True}

    def deny_device(self, user_code: object) -> tuple[int, dict[str, Any]]:
        """The user pressed "Deny" for ``user_code``; (status, body)."""
        with self._cond:
            login = self._by_user_code(user_code)
            if login is None or login.state != "pending":
                return 404, {"detail": "no pending login with this code"}
            login.state = "denied"
        return 200, {"ok": True}

    def _by_user_code(self, user_code: object) -> DeviceLogin | None:
        wanted = _normal_code(user_code)
        for login in self._device_logins.values():
            if wanted and _normal_code(login.user_code) == wanted:
                return login
        return None

    def _start_device_login(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("client") not in ("cli", "sdk"):
            self._problem("device login without a valid client")
            return 422, {"detail": "client must be cli or sdk"}
        with self._cond:
            login = DeviceLogin(
                secrets.token_urlsafe(32),
                _new_user_code(),
                time.monotonic() + self.device_expires_in,
                self.device_interval,
            )
            while self._by_user_code(login.user_code) is not None:
                login.user_code = _new_user_code()
            self._device_logins[login.device_code] = login
            uri = self.verification_uri or f"{self.url}/login/device"
        return 200, {
            "device_code": login.device_code,
            "user_code": login.user_code,
            "verification_uri": uri,
            "expires_in": self.device_expires_in,
            "interval": self.device_interval,
        }

    def _poll_device_login(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        code = body.get("device_code")
        now = time.monotonic()
        with self._cond:
            login = self._device_logins.get(code) if isinstance(code, str) else None
            if login is None or login.state == "used":
                return 400, {"error": "invalid_grant"}
            login.polls += 1
            too_soon = (
                self.enforce_interval
                and login.last_poll is not None
                and now - login.last_poll < login.interval - 0.05
            )
            login.last_poll = now
            if now >= login.expires_at:
                login.state = "used"
                return 400, {"error": "expired_token"}
            if too_soon:
                login.slow_downs += 1
                login.interval += 5
                return 400, {"error": "slow_down"}
            if login.state == "approved":
                login.state = "used"
                return 200, {"token": login.token}
            if login.state == "denied":
                login.state = "used"
                return 400, {"error": "access_denied"}
        return 400, {"error": "authorization_pending"}

    # lifecycle

    def start(self) -> ProtocolServer:
        """Bind (port 0: a free one) and serve in a background thread."""
        self._httpd = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release stalled or waiting streams, close every connection."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ProtocolServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            if self._record_path is not None:
                with self._record_path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(request.to_json()) + "\n")

    def _problem(self, text: str) -> None:
        with self._cond:
            self._problems.append(text)

    def _next_chat(self) -> Response | Turn | None:
        """The next canned answer of the current turn, else the turn itself (consumed)."""
        with self._cond:
            if not self._turns:
                return None
            current = self._turns[0]
            if current["respond"]:
                answer: Response = current["respond"].popleft()
                return answer
            return self._turns.popleft()

    def _next_answer(self, endpoint: str) -> Response | None:
        with self._cond:
            queue = self._queues.get(endpoint)
            return queue.popleft() if queue else None

    def _expect_tool(self, session_id: str, tool_call_id: str) -> None:
        with self._cond:
            self._emitted.add((session_id, tool_call_id))

    def _accept_tool_result(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = (body["session_id"], body["tool_call_id"])
        with self._cond:
            if key not in self._emitted:
                self._problems.append(f"tool result for unknown call {key[1]!r}")
                return 404, {"detail": "unknown tool call"}
            self._tool_posts.append(body)
            duplicate = key in self._tool_results
            if not duplicate:
                self._tool_results[key] = body
            self._cond.notify_all()
        return 200, {"ok": True, "duplicate": duplicate}

    def _wait_results(
        self, session_id: str, ids: Sequence[str], timeout: float
    ) -> dict[str, Any] | str:
        """The last awaited result, or the id that did not arrive in time."""
        keys = [(session_id, call_id) for call_id in ids]

        def ready() -> bool:
            return self._stopping.is_set() or all(k in self._tool_results for k in keys)

        with self._cond:
            self._cond.wait_for(ready, timeout)
            for key in keys:
                if key not in self._tool_results:
                    self._problems.append(f"timed out waiting for tool result {key[1]!r}")
                    return key[1]
            return self._tool_results[keys[-1]] if keys else {}

    def _result(self, session_id: str, call_id: str) -> dict[str, Any] | None:
        with self._cond:
            return self._tool_results.get((session_id, call_id))

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


class _Server(ThreadingHTTPServer):
    """Carries the owning ProtocolServer; counts handler errors as problems, not noise."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        owner: ProtocolServer,
    ) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        kind = sys.exc_info()[0]
        if kind is not None and not issubclass(kind, OSError):
            self.owner._problem(f"server error: {kind.__name__}")


class _Dropped(Exception):
    """The script cut the connection; stop writing."""


class _Handler(BaseHTTPRequestHandler):
    """One connection; speaks HTTP/1.1 so the client can keep it alive."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection does not hold a thread forever
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK stall every small answer by up to 40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the recording instead."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    # request plumbing

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        payload = body if isinstance(body, str) else json.dumps(body)
        data = payload.encode("utf-8")
        self.send_response(status)
        kind = "text/plain; charset=utf-8" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, response: Response) -> None:
        if response.get("drop"):
            self._cut()
            return
        code = int(response["status"])
        headers = dict(response.get("headers", {}))
        if "retry_after" in response:
            headers["Retry-After"] = str(response["retry_after"])
        body = response.get("body", {"detail": f"scripted {code}"})
        self._send_json(code, body, headers)

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        owner = self.server.owner
        raw_body = self._read_body()
        text_body = raw_body.decode("utf-8", "replace")
        try:
            parsed = json.loads(text_body) if text_body else None
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else {}
        if not owner.keep_results and isinstance(body.get("result"), str):
            body["result"] = f"<{len(body['result'])} chars>"
            text_body = ""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        path = self.path.split("?", 1)[0]
        if not path.startswith("/_control/"):
            owner._record(RecordedRequest(self.command, path, headers, body, text_body))

        if path == "/_control/state" and self.command == "GET":
            self._send_json(200, owner.state())
            return
        if path == "/_control/script" and self.command == "POST":
            try:
                owner.load(body)
            except ValueError as exc:
                self._send_json(400, {"detail": str(exc)})
                return
            self._send_json(200, {"ok": True})
            return
        if path == "/_control/device/approve" and self.command == "POST":
            self._send_json(*owner.approve_device(body.get("user_code"), body.get("token")))
            return
        if path == "/_control/device/deny" and self.command == "POST":
            self._send_json(*owner.deny_device(body.get("user_code")))
            return

        match = _API_PATH.fullmatch(path)
        if match is None:
            self._send_json(404, {"detail": "not found"})
            return
        version, endpoint = match.group(1), _ENDPOINTS[match.group(2)]
        if owner.api_version is not None and version != owner.api_version:
            self._send_json(404, {"detail": f"unknown API version {version}"})
            return
        wanted_method = "GET" if endpoint in ("profile", "quota") else "POST"
        if self.command != wanted_method:
            self._send_json(405, {"detail": "method not allowed"})
            return
        if endpoint in _NO_TOKEN:
            canned = owner._next_answer(endpoint)
            if canned is not None:
                self._answer(canned)
            elif endpoint == "device_code":
                self._send_json(*owner._start_device_login(body))
            else:
                self._send_json(*owner._poll_device_login(body))
            return
        auth = headers.get("authorization", "")
        bearer = auth[7:] if auth.startswith("Bearer ") else None
        known = owner.token is None or bearer == owner.token or bearer in owner.accounts
        if not bearer or not known:
            self._send_json(401, {"detail": "invalid or missing token"})
            return
        if endpoint == "chat":
            self._chat(body)
            return
        answer = owner._next_answer(endpoint)
        if answer is not None:
            self._answer(answer)
        elif endpoint == "profile":
            self._send_json(200, owner.accounts.get(bearer, owner.profile))
        elif endpoint == "quota":
            self._send_json(200, owner.quota)
        else:
            self._tool_result(body)

    def _tool_result(self, body: dict[str, Any]) -> None:
        owner = self.server.owner
        valid = (
            isinstance(body.get("session_id"), str)
            and isinstance(body.get("tool_call_id"), str)
            and isinstance(body.get("result"), str)
            and isinstance(body.get("is_error", False), bool)
        )
        if not valid:
            owner._problem("malformed tool result body")
            self._send_json(422, {"detail": "session_id, tool_call_id, result required"})
            return
        code, answer = owner._accept_tool_result(body)
        self._send_json(code, answer)

    # the chat stream

    def _chat(self, body: dict[str, Any]) -> None:
        owner = self.server.owner
        missing = [f for f in _CHAT_FIELDS if not isinstance(body.get(f), str)]
        byok = [f for f in ("llm_provider", "llm_api_key") if f in body]
        if len(byok) == 1 or ("llm_model_id" in body and not byok):
            missing.append("llm_provider and llm_api_key together")
        if missing:
            owner._problem(f"malformed chat request: {', '.join(missing)}")
            self._send_json(422, {"detail": f"invalid fields: {', '.join(missing)}"})
            return
        answer: dict[str, Any] | None
        if body.get("llm_api_key") in owner.reject_keys:
            provider = str(body.get("llm_provider"))
            answer = {"steps": [provider_auth_error(provider), done(None)]}
        else:
            answer = owner._next_chat()
        if answer is None:
            owner._problem("chat request with no scripted turn left")
            self._send_json(500, {"detail": "no scripted turn left"})
            return
        if "steps" not in answer:
            self._answer(answer)
            return
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for step in answer["steps"]:
                if owner._stopping.is_set():
                    return
                if not self._step(step, body["session_id"]):
                    break
            self.wfile.write(b"0\r\n\r\n")
        except (_Dropped, OSError):
            pass

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _event(self, data: Any) -> None:
        self._chunk(f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode())

    def _step(self, step: Step, session_id: str) -> bool:
        """Run one step; False ends the stream early (a tool result that never came)."""
        owner = self.server.owner
        op = step["op"]
        if op == "text":
            self._event({"type": "text_delta", "content": step["content"]})
        elif op == "event":
            self._event(step["data"])
        elif op == "metrics":
            self._event({"type": "metrics", **step.get("data", {})})
        elif op == "done":
            self._event({"type": "done", "conversation_id": step.get("conversation_id")})
        elif op == "raw":
            self._chunk(str(step["data"]).encode())
        elif op == "sleep":
            owner._stopping.wait(float(step["seconds"]))
        elif op == "drop":
            self._cut()
            raise _Dropped
        elif op == "tool_call":
            call_id = step["tool_call_id"]
            owner._expect_tool(session_id, call_id)
            self._event(
                {
                    "type": "tool_call",
                    "tool_call_id": call_id,
                    "tool_name": step["tool_name"],
                    "tool_args": step.get("tool_args", {}),
                }
            )
            if step.get("wait", True) or step.get("echo") is not None:
                if not self._await(session_id, [call_id], step):
                    return False
                if step.get("echo") is not None:
                    self._echo(session_id, call_id, step["echo"])
        elif op == "await_results":
            return self._await(session_id, list(step["tool_call_ids"]), step)
        elif op == "echo_result":
            self._echo(session_id, step["tool_call_id"], step.get("template", "{result}"))
        return True

    def _await(self, session_id: str, ids: list[str], step: Step) -> bool:
        owner = self.server.owner
        timeout = float(step.get("timeout", owner.tool_timeout))
        outcome = owner._wait_results(session_id, ids, timeout)
        if isinstance(outcome, str):
            self._event(
                {"type": "error", "content": f"timed out waiting for tool result {outcome}"}
            )
            return False
        return True

    def _echo(self, session_id: str, call_id: str, template: str) -> None:
        result = self.server.owner._result(session_id, call_id)
        if result is None:
            self.server.owner._problem(f"echo of tool result {call_id!r} that never arrived")
            content = f"(no result for {call_id})"
        else:
            content = template.format(
                result=result["result"],
                is_error=bool(result.get("is_error", False)),
                tool_call_id=call_id,
            )
        self._event({"type": "text_delta", "content": content})


# --- pytest fixture ------------------------------------------------------------


@pytest.fixture
def protocol_server() -> Iterator[ProtocolServer]:
    """A started ProtocolServer with an empty script (token ``TOKEN``); stopped after the test."""
    server = ProtocolServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sdk_env(protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch) -> ProtocolServer:
    """The SDK pointed at the protocol server, logged in, keys in the 0600 file."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return protocol_server


# --- a separate process ----------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; print the base URL as the first stdout line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="a JSON script file (see the module doc)")
    parser.add_argument("--record", type=Path, help="append each request as a JSON line here")
    args = parser.parse_args(argv)
    script = json.loads(args.script.read_text(encoding="utf-8")) if args.script else {}
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    server = ProtocolServer(script, host=args.host, port=args.port, record_path=args.record)
    server.start()
    print(server.url, flush=True)
    try:
        while not stopped.wait(0.2):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
