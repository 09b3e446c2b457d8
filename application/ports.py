"""The ports: what the use-cases need from the outside world.

Each adapter subclasses its protocol explicitly so mypy checks the match. Every
adapter translates its library's failures into the errors named here (from
``domain.errors``); nothing else escapes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

from domain.errors import TraceError
from domain.value import Value

if TYPE_CHECKING:
    # Only the protocols' signatures name these; importing them at run time would make
    # every command build the chat event classes (~10 ms of attrs work) it never uses.
    from domain.chat import ChatEvent, ChatRequest, ClientKind, Profile, Quota, ToolCall, ToolResult
    from domain.credential import StoredSecret
    from domain.device_login import DeviceAuthorization, DevicePoll
    from domain.keys import HelperCommand, HelperReason, KeyRef
    from domain.project import ProjectFile
    from domain.provider import Provider
    from domain.secret import Secret
    from domain.settings import Settings
    from domain.verification import KeyVerification


class StoreKind(enum.Enum):
    """The technology behind a secret store."""

    KEYCHAIN = "keychain"
    FILE = "file"
    MEMORY = "memory"


@attrs.frozen(eq=False, repr=False)
class StoreInfo(Value):
    """What a secret store is, for status output: kind plus a detail (backend name, path)."""

    kind: StoreKind
    detail: str


@attrs.frozen(eq=False, repr=False)
class StoreCheck(Value):
    """The health of one backing store, for ``doctor``."""

    name: str
    ok: bool
    detail: str
    error: TraceError | None = attrs.field(default=None, eq=False)


class SecretStore(Protocol):
    """Secrets (API keys, the Trace token) by account name, for one service."""

    def get(self, account: str) -> StoredSecret | None:
        """The secret for ``account`` and where it was found; None when absent.

        Raises ``StorageError`` (e.g. ``KeychainUnavailableError``, ``CorruptFileError``)
        when the store cannot answer; never returns None for a store it could not read.
        """
        ...

    def get_many(self, accounts: Sequence[str]) -> dict[str, StoredSecret | None]:
        """``get`` for several accounts at once: every account in the answer, None when absent.

        One round instead of one per account where the store can (the keychain searches
        once, the file is read once). Raises like ``get``. This default asks ``get`` for
        each account, for stores that have nothing better.
        """
        return {account: self.get(account) for account in accounts}

    def set(self, account: str, secret: Secret) -> StoredSecret:
        """Store ``secret`` under ``account``, replacing any old value; returns where it went.

        Raises ``StorageError`` and leaves the old value in place on failure.
        """
        ...

    def delete(self, account: str) -> bool:
        """Remove ``account``'s secret; True if one existed. Raises ``StorageError``."""
        ...

    def info(self) -> StoreInfo:
        """Which store this is, for status output. Never raises; does not probe."""
        ...

    def check(self) -> tuple[StoreCheck, ...]:
        """Probe every backing store (bounded in time); one entry each. Never raises."""
        ...


class SettingsStore(Protocol):
    """The non-secret settings (``config.toml``)."""

    def load(self) -> Settings:
        """The current settings; defaults when the file does not exist.

        Raises ``CorruptFileError`` / ``UnreadableFileError`` for a file it cannot use.
        """
        ...

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Apply ``change`` atomically (locked read-modify-write); returns the new settings.

        Unknown keys and comments in the file survive. Raises ``StorageError``; the
        file is unchanged on failure.
        """
        ...

    def location(self) -> str:
        """Where the settings live (a path), for status output."""
        ...


class Environment(Protocol):
    """A read-only view of environment variables."""

    def get(self, name: str) -> str | None:
        """The variable's raw value, or None when unset."""
        ...

    def snapshot(self, names: tuple[str, ...]) -> dict[str, str]:
        """The set variables among ``names``."""
        ...

    def names(self) -> tuple[str, ...]:
        """The names of every set variable (to pass an allow-listed part to a child process)."""
        ...


class TraceBackend(Protocol):
    """The Trace backend (DESIGN section 5)."""

    def stream_chat(self, request: ChatRequest, token: Secret) -> Iterator[ChatEvent]:
        """POST /chat/stream; yields events until ``Done``.

        Raises ``BackendError`` subclasses (401 -> ``AuthenticationRejectedError``,
        402 -> ``QuotaExhaustedError``, 403 -> ``PlanRestrictionError``, exhausted
        retries -> ``BackendUnavailableError``, stream ending without ``done`` ->
        ``ProtocolError``) and ``InsecureTransportError`` before sending a secret
        anywhere but https or loopback.
        """
        ...

    def post_tool_result(self, session_id: str, result: ToolResult, token: Secret) -> None:
        """POST /tools/result for a tool call of the running stream."""
        ...

    def profile(self, token: Secret) -> Profile:
        """GET /user/profile (also checks the token)."""
        ...

    def quota(self, token: Secret) -> Quota:
        """GET /user/quota."""
        ...

    def start_device_login(self, client: ClientKind) -> DeviceAuthorization:
        """POST /auth/device/code (no token): a new device login (RFC 8628).

        The answer is checked before it is returned: ``verification_uri`` is https (or
        http to a loopback host) and the user code letters, digits and dashes, else
        ``ProtocolError``. ``DeviceLoginUnavailableError`` when the backend has no
        device login (404); otherwise raises like the other calls.
        """
        ...

    def poll_device_login(self, device_code: Secret) -> DevicePoll:
        """POST /auth/device/token once: the token when the user approved, else the state.

        Does not wait: the caller paces the polls. An error outside RFC 8628's four
        raises ``LoginFailedError``; an unreadable answer ``ProtocolError``.
        """
        ...

    def close(self) -> None:
        """Release connections; the backend is unusable afterwards."""
        ...


class LoginPrompts(Protocol):
    """What a browser login tells the user while it runs (the CLI prints; a panel shows)."""

    def show_code(self, user_code: str, url: str) -> None:
        """Tell the user to enter ``user_code`` at ``url`` (shown before a browser opens)."""
        ...

    def no_browser(self, url: str) -> None:
        """No browser could be opened: the user must open ``url`` themselves."""
        ...


class BrowserLogin(Protocol):
    """Obtains a Trace token through the user's browser (the device code login)."""

    def obtain(self, prompts: LoginPrompts, *, open_browser: bool = True) -> Secret:
        """The token of the account that approved this login; nothing is stored here.

        Raises ``LoginFailedError`` (denied, expired, timed out, backend lost),
        ``DeviceLoginUnavailableError`` when the backend has no browser login, and
        ``ProtocolError`` for an unsafe answer. Ctrl-C propagates: nothing was obtained.
        """
        ...


class ToolRunner(Protocol):
    """Runs the model's tool calls inside a sandbox root (DESIGN section 6)."""

    def run(self, call: ToolCall) -> ToolResult:
        """Run one call; failures become ``ToolResult(is_error=True)``, never exceptions.

        Safe to call from several threads at once; writes to one file are serialised.
        """
        ...

    def cancel(self) -> None:
        """Stop long-running tools (e.g. an EDA engine) at once; later calls fail fast.

        Called from another thread when the user interrupts a turn. A file edit in
        progress still completes (writes are atomic), so no partial file is left.
        """
        ...


class KeyHelper(Protocol):
    """Runs a key helper command (``byok set PROVIDER --helper CMD``); returns what it printed."""

    def run(self, helper: HelperCommand, ref: KeyRef, reason: HelperReason) -> str:
        """Run ``helper`` for ``ref`` and return its standard output (at most 64 KiB + 1).

        The helper gets the user's environment plus ``TRACE_KEY_HELPER_REASON`` (why it
        runs), ``TRACE_KEY_HELPER_PROVIDER`` and ``TRACE_KEY_HELPER_NAME``; its standard
        input is closed. Raises ``KeyHelperError`` when it cannot start, exits non-zero
        (with its stderr, trimmed, never holding what it printed on stdout) or runs past
        its time (it is stopped). Parsing the output is the caller's (``parse_helper_output``).
        """
        ...


class KeyVerifier(Protocol):
    """Asks a provider's own models endpoint whether a key works (the key goes to it only)."""

    def verify(self, provider: Provider, secret: Secret) -> KeyVerification:
        """Valid (2xx), rejected (401/403, Gemini's API_KEY_INVALID) or unreachable (with why).

        Never raises for what the provider or the network did; raises
        ``InvalidSettingError`` / ``InsecureTransportError`` for a configured base URL
        that is not https (or http to a loopback address), before sending anything.
        """
        ...


class ProjectFiles(Protocol):
    """Finds the project file (``trace.toml``) that applies to a directory."""

    def find(self, start: str) -> ProjectFile | None:
        """The nearest project file at or above ``start``; None when there is none.

        The walk stops at the file system's root or at a directory another user owns.
        Raises ``ProjectFileError`` for a file that is unsafe to read (a link, another
        user's, not a regular file, too large) or holds more than a selection (a key, a
        command, unknown entries), so a hostile file is reported, never silently used.
        """
        ...
