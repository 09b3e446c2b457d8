"""Chat: one conversation turn through the Trace backend, tools run locally.

``Chat`` resolves the provider, key and model and the Trace token, then runs the turn:
the stream, the tool calls on a small pool, the masking of everything the untrusted
backend sends, and the reply (:mod:`application.chat_turn` says how). This module is
what the composition root names, so every command imports it; the turn's machinery
and the types it yields (the chat events, ``ChatCommand``, ``ChatReply``...) load when
they are first used, since only chats need them. They are importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

from application.ports import ToolRunner, TraceBackend
from application.services.key_resolution import KeyResolution
from application.services.trace_token import TraceToken

if TYPE_CHECKING:
    from application.chat_turn import ChatCommand as ChatCommand
    from application.chat_turn import ChatFinished as ChatFinished
    from application.chat_turn import ChatOutput as ChatOutput
    from application.chat_turn import ChatReply as ChatReply
    from application.chat_turn import ToolFinished as ToolFinished
    from application.chat_turn import ToolRun as ToolRun
    from domain.resolution import Resolution

__all__ = [
    "MAX_PARALLEL_TOOLS",
    "Chat",
    "ChatCommand",
    "ChatFinished",
    "ChatOutput",
    "ChatReply",
    "ToolFinished",
    "ToolRun",
]

MAX_PARALLEL_TOOLS = 4
_TURN_TYPES = ("ChatCommand", "ChatFinished", "ChatOutput", "ChatReply", "ToolFinished", "ToolRun")


class Chat:
    """Run a chat turn: resolve key and token, stream, dispatch tools, collect the reply."""

    def __init__(
        self,
        *,
        key_resolution: KeyResolution,
        token: TraceToken,
        backend: TraceBackend,
        tool_runner: Callable[[str | None], ToolRunner],
        new_session_id: Callable[[], str],
        max_parallel_tools: int = MAX_PARALLEL_TOOLS,
    ) -> None:
        self._key_resolution = key_resolution
        self._token = token
        self._backend = backend
        self._tool_runner = tool_runner
        self._new_session_id = new_session_id
        self._max_parallel_tools = max_parallel_tools

    def resolve(self, command: ChatCommand) -> Resolution:
        """The provider, key and model this command would use (no request is sent)."""
        from domain.account import ClientKind

        return self._key_resolution.for_request(
            command.overrides,
            command.client_defaults,
            use_sdk_environment=command.client is ClientKind.SDK,
            project_dir=command.search_from or command.project_dir,
            reason=command.reason,
        )

    def execute(self, command: ChatCommand, resolution: Resolution | None = None) -> ChatReply:
        """Run the turn to the end and return the reply."""
        from application.chat_turn import ChatFinished

        for item in self.stream(command, resolution):
            if isinstance(item, ChatFinished):
                return item.reply
        raise AssertionError("stream() always ends with ChatFinished")  # pragma: no cover

    def stream(
        self, command: ChatCommand, resolution: Resolution | None = None
    ) -> Generator[ChatOutput, None, None]:
        """Yield notices, events as they arrive, tool outcomes as tools finish, then
        ``ChatFinished``.

        ``resolution``: what :meth:`resolve` already answered for ``command`` (the CLI
        resolves before its spinner starts), so it is not resolved twice. Stops before
        any request with ``MissingKeyError`` / ``NotLoggedInError``; closing the
        iterator early stops the stream and lets running tools finish. The notices
        (an env var's key displacing the user's own, an ignored project file) come first,
        before anything is sent. When the provider rejects a key that a helper printed,
        before any text or tool call, the helper runs again and the request is retried
        once (a ``key_refreshed`` notice says so).
        """
        from application.chat_turn import TurnStream

        if resolution is None:
            resolution = self.resolve(command)
        token = self._token.require().secret
        turn = TurnStream(
            key_resolution=self._key_resolution,
            backend=self._backend,
            tool_runner=self._tool_runner,
            new_session_id=self._new_session_id,
            max_parallel_tools=self._max_parallel_tools,
        )
        yield from turn.stream(command, resolution, token)


def __getattr__(name: str) -> object:
    """The turn's types (and the chat events they carry) load when first asked for."""
    if name in _TURN_TYPES:
        from application import chat_turn

        return getattr(chat_turn, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
