"""Chat requests, the events a backend streams, and tool calls (DESIGN sections 5 and 6).

``ClientKind``, ``Profile`` and ``Quota`` live in :mod:`domain.account` and are re-exported.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

# Re-exported: they travel with chat requests too, and callers know them from here.
from domain.account import ClientKind as ClientKind
from domain.account import Profile as Profile
from domain.account import Quota as Quota
from domain.provider import Provider
from domain.secret import Secret
from domain.tools import READ_ONLY_TOOLS, is_read_only, shown_tool_name
from domain.value import Value


class ChatMode(enum.Enum):
    """What the model may do, enforced by the client whatever the backend asks (DESIGN §8).

    ``ask`` and ``plan`` run read-only tools only; ``agent`` may also edit design files.
    """

    ASK = "ask"
    AGENT = "agent"
    PLAN = "plan"

    @property
    def summary(self) -> str:
        """What the mode lets the model do, in the one wording (CLI help, docs, glossary)."""
        return _MODE_SUMMARIES[self]

    def allows(self, tool_name: str) -> bool:
        """Whether a call of ``tool_name`` may run in this mode (unknown tools: agent only)."""
        return self is ChatMode.AGENT or is_read_only(tool_name)

    def refusal(self, tool_name: str) -> str:
        """The error result posted back for a tool this mode does not run."""
        return (
            f"tool {shown_tool_name(tool_name)} was not run: {self.value} mode runs read-only "
            f"tools only ({', '.join(sorted(READ_ONLY_TOOLS))}); to let the model edit design "
            'files, run again with --mode agent (SDK: mode="agent")'
        )


_MODE_SUMMARIES = {
    ChatMode.ASK: "answers questions; its tools only read files",
    ChatMode.PLAN: "plans changes without making them; its tools only read files",
    ChatMode.AGENT: "may also edit design files in the project",
}


class AppType(enum.Enum):
    """Which KiCad editor the conversation is about."""

    EESCHEMA = "eeschema"
    PCBNEW = "pcbnew"


@attrs.frozen(eq=False, repr=False)
class LlmSelection(Value):
    """The BYOK fields of a request; absent entirely for Trace-hosted requests."""

    provider: Provider
    api_key: Secret
    model_id: str | None


@attrs.frozen(eq=False, repr=False)
class ChatRequest(Value):
    """One user message to the backend (the body of ``POST /chat/stream``)."""

    message: str
    session_id: str
    mode: ChatMode = ChatMode.ASK
    app_type: AppType = AppType.EESCHEMA
    client: ClientKind = ClientKind.CLI
    conversation_id: str | None = None
    project_dir: str | None = None
    file_path: str | None = None
    schematic_content: str | None = None
    pcb_content: str | None = None
    llm: LlmSelection | None = None


@attrs.frozen(eq=False, repr=False)
class TextDelta(Value):
    """A piece of the answer's text."""

    content: str


@attrs.frozen(eq=False, repr=False)
class Thinking(Value):
    """Reasoning text the model chose to show."""

    content: str


@attrs.frozen(eq=False, repr=False)
class StatusUpdate(Value):
    """A progress note from the backend."""

    content: str


@attrs.frozen(eq=False, repr=False)
class ToolCall(Value):
    """The model asks the client to run a tool locally."""

    tool_call_id: str
    tool_name: str
    tool_args: Mapping[str, object]


@attrs.frozen(eq=False, repr=False)
class FileEdit(Value):
    """The backend reports a file edit (informational)."""

    data: Mapping[str, object]


@attrs.frozen(eq=False, repr=False)
class Usage(Value):
    """Token and cost figures the backend reports in a ``metrics`` event."""

    data: Mapping[str, object]


# An ``error`` event's ``code`` when the model provider rejected the BYOK key (its HTTP
# status in ``provider_status``, 401/403): the client may fetch the key again (a key
# helper's) and retry the request once. Additive: older clients show it as any error.
PROVIDER_AUTH = "provider_auth"


@attrs.frozen(eq=False, repr=False)
class StreamError(Value):
    """The backend reports an error inside the stream (``code``: a machine-readable kind)."""

    content: str
    code: str | None = None
    provider_status: int | None = None

    @property
    def provider_rejected_key(self) -> bool:
        """True when the provider rejected the request's key (``code`` ``provider_auth``)."""
        return self.code == PROVIDER_AUTH


@attrs.frozen(eq=False, repr=False)
class Done(Value):
    """The turn is over."""

    conversation_id: str | None


ChatEvent = TextDelta | Thinking | StatusUpdate | ToolCall | FileEdit | Usage | StreamError | Done


@attrs.frozen(eq=False, repr=False)
class ToolResult(Value):
    """What a local tool answered (posted to ``/tools/result``)."""

    tool_call_id: str
    result: str
    is_error: bool = False
