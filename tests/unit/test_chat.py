"""The Chat use-case with the scripted backend and real local tools in a temp project."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from adapters.backend.scripted import ScriptedTraceBackend
from adapters.environment import MappingEnvironment
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from adapters.tools.local import LocalToolRunner
from application.chat import Chat, ChatCommand, ChatFinished, ToolFinished, ToolRun
from application.ports import ToolRunner
from application.services.key_resolution import KeyResolution
from application.services.trace_token import TraceToken
from domain.billing import BillingMode
from domain.chat import ChatMode, ClientKind, Done, TextDelta, ToolCall, ToolResult, Usage
from domain.credential import KeySource
from domain.errors import MissingKeyError, NotLoggedInError, ProtocolError
from domain.provider import TRACE_TOKEN_ACCOUNT, Provider
from domain.resolution import LlmChoice
from domain.secret import Secret
from domain.settings import Settings
from tests.support.choices import label_of

TOKEN = Secret("trace-token-0123456789")
KEY = Secret("sk-ant-api03-unit-test-key-WXYZ")


def make_chat(
    backend: ScriptedTraceBackend,
    root: Path,
    *,
    active: Provider | None = Provider.ANTHROPIC,
    key: Secret | None = KEY,
    env: dict[str, str] | None = None,
    logged_in: bool = True,
    runner: ToolRunner | None = None,
) -> Chat:
    secrets = InMemorySecretStore()
    if key is not None:
        secrets.set(Provider.ANTHROPIC.account, key)
    if logged_in:
        secrets.set(TRACE_TOKEN_ACCOUNT, TOKEN)
    settings = InMemorySettingsStore(Settings(active_provider=active))
    environment = MappingEnvironment(env or {})
    ids = (f"session-{n}" for n in itertools.count())

    def runner_for(_project: str | None) -> ToolRunner:
        return runner if runner is not None else LocalToolRunner(root)

    return Chat(
        key_resolution=KeyResolution(secrets=secrets, settings=settings, environment=environment),
        token=TraceToken(secrets=secrets, environment=environment),
        backend=backend,
        tool_runner=runner_for,
        new_session_id=lambda: next(ids),
    )


def test_byok_request_carries_provider_key_and_model(tmp_path: Path) -> None:
    backend = ScriptedTraceBackend([[TextDelta("Hi"), Done("conv-1")]])
    reply = make_chat(backend, tmp_path).execute(ChatCommand("hello"))
    (request,) = backend.requests
    assert request.llm is not None
    assert request.llm.provider is Provider.ANTHROPIC
    assert request.llm.api_key == KEY
    assert request.llm.model_id == "claude-sonnet-4-6"
    assert reply.text == "Hi"
    assert reply.conversation_id == "conv-1"
    assert reply.billing is BillingMode.PROVIDER
    assert label_of(reply.key_source) == "memory"
    assert reply.masked_key == "…WXYZ"


def test_trace_request_has_no_byok_fields(tmp_path: Path) -> None:
    backend = ScriptedTraceBackend([[Done("c")]])
    reply = make_chat(backend, tmp_path, active=None, key=None).execute(ChatCommand("hello"))
    assert backend.requests[0].llm is None
    assert reply.billing is BillingMode.TRACE_PLAN
    assert label_of(reply.key_source) is None


def test_active_provider_without_key_stops_before_any_request(tmp_path: Path) -> None:
    backend = ScriptedTraceBackend([[Done("c")]])
    chat = make_chat(backend, tmp_path, key=None)
    with pytest.raises(MissingKeyError) as caught:
        chat.execute(ChatCommand("hello"))
    assert "byok set anthropic" in str(caught.value)
    assert backend.requests == []


def test_not_logged_in_stops_before_any_request(tmp_path: Path) -> None:
    backend = ScriptedTraceBackend([[Done("c")]])
    with pytest.raises(NotLoggedInError):
        make_chat(backend, tmp_path, logged_in=False).execute(ChatCommand("hello"))
    assert backend.requests == []


def test_env_token_wins_over_stored_token(tmp_path: Path) -> None:
    backend = ScriptedTraceBackend([[Done("c")]], valid_token=Secret("env-token-abcdef123"))
    chat = make_chat(backend, tmp_path, env={"TRACE_API_TOKEN": "env-token-abcdef123"})
    assert chat.execute(ChatCommand("hello")).conversation_id == "c"


def test_per_call_override_uses_that_providers_env_key(tmp_path: Path) -> None:
    backend = ScriptedTraceBackend([[Done("c")]])
    chat = make_chat(backend, tmp_path, env={"OPENAI_API_KEY": "sk-openai-env-key-1234"})
    command = ChatCommand("hi", overrides=LlmChoice.parse(provider="openai", model="gpt-4.1"))
    reply = chat.execute(command)
    llm = backend.requests[0].llm
    assert llm is not None
    assert (llm.provider, llm.model_id, llm.api_key.reveal()) == (
        Provider.OPENAI,
        "gpt-4.1",
        "sk-openai-env-key-1234",
    )
    assert reply.key_source == KeySource.env("OPENAI_API_KEY")


def test_cli_chat_ignores_sdk_environment_but_sdk_honours_it(tmp_path: Path) -> None:
    env = {"TRACE_LLM_PROVIDER": "gemini", "TRACE_LLM_API_KEY": "AIza-sdk-env-key-98765"}
    backend = ScriptedTraceBackend([[Done("a")], [Done("b")]])
    chat = make_chat(backend, tmp_path, env=env)
    chat.execute(ChatCommand("hi", client=ClientKind.CLI))
    chat.execute(ChatCommand("hi", client=ClientKind.SDK))
    providers = [r.llm.provider if r.llm else None for r in backend.requests]
    assert providers == [Provider.ANTHROPIC, Provider.GEMINI]


def test_agent_turn_runs_tools_locally_and_posts_results(tmp_path: Path) -> None:
    schematic = tmp_path / "board.kicad_sch"
    schematic.write_text("(kicad_sch (symbol C1 (value 10nF)))\n")
    calls = [
        ToolCall(
            "t1",
            "search_replace",
            {"file_path": "board.kicad_sch", "old_string": "10nF", "new_string": "100nF"},
        ),
        ToolCall("t2", "read_file", {"target_file": "../outside.txt"}),
    ]
    backend = ScriptedTraceBackend(
        [[TextDelta("Editing. "), *calls, TextDelta("Done."), Usage({"cost": 0.01}), Done("c")]]
    )
    chat = make_chat(backend, tmp_path)
    items = list(chat.stream(ChatCommand("add cap", mode=ChatMode.AGENT)))
    finished = {i.call.tool_call_id: i for i in items if isinstance(i, ToolFinished)}
    assert schematic.read_text() == "(kicad_sch (symbol C1 (value 100nF)))\n"
    assert not finished["t1"].result.is_error
    assert finished["t2"].result.is_error
    posted = {r.tool_call_id: r.is_error for _, r in backend.tool_results}
    assert posted == {"t1": False, "t2": True}
    reply = items[-1]
    assert isinstance(reply, ChatFinished)
    assert reply.reply.text == "Editing. Done."
    assert reply.reply.usage == {"cost": 0.01}
    assert len(reply.reply.tool_runs) == 2


def test_closing_the_stream_early_stops_cleanly(tmp_path: Path) -> None:
    # Characters that are in no secret: a delta that could start one is held back.
    backend = ScriptedTraceBackend([[TextDelta("?"), TextDelta("!"), Done("c")]])
    stream = make_chat(backend, tmp_path).stream(ChatCommand("hi"))
    assert next(stream) == TextDelta("?")
    stream.close()
    assert backend.turns_left == 0


# --- the backend is not trusted (issue 10) ---------------------------------------------------


class RecordingRunner(ToolRunner):
    """A tool runner that answers with what it was asked (and remembers every call)."""

    def __init__(self, answer: str = "") -> None:
        self.calls: list[ToolCall] = []
        self._answer = answer

    def run(self, call: ToolCall) -> ToolResult:
        self.calls.append(call)
        return ToolResult(call.tool_call_id, self._answer or repr(dict(call.tool_args)))

    def cancel(self) -> None:
        """Nothing runs long here."""


class BlockingRunner(ToolRunner):
    """A tool that runs until the turn is cancelled, like a long grep or an EDA check."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def run(self, call: ToolCall) -> ToolResult:
        self.cancelled.wait(10)
        return ToolResult(call.tool_call_id, "stopped", is_error=True)

    def cancel(self) -> None:
        self.cancelled.set()


def test_a_tool_cancelled_by_an_early_close_posts_nothing() -> None:
    """Ctrl-C must not wait on a backend request for a turn that is over."""
    backend = ScriptedTraceBackend([[ToolCall("g", "grep", {"pattern": "x"}), Done("c")]])
    runner = BlockingRunner()
    stream = chat_with(backend, runner).stream(ChatCommand("hi"))

    assert isinstance(next(stream), ToolCall)
    stream.close()

    assert runner.cancelled.is_set()
    assert backend.tool_results == []


def chat_with(backend: ScriptedTraceBackend, runner: ToolRunner) -> Chat:
    chat = make_chat(backend, Path())
    chat._tool_runner = lambda _project: runner  # the one seam: which runner a turn uses
    return chat


@pytest.mark.parametrize("mode", [ChatMode.ASK, ChatMode.PLAN])
def test_ask_and_plan_post_a_refusal_instead_of_running_a_writing_tool(mode: ChatMode) -> None:
    calls = [
        ToolCall("w", "write", {"file_path": "a.kicad_sch", "contents": "x"}),
        ToolCall("u", "shell", {"command": "ls"}),
        ToolCall("r", "read_file", {"target_file": "a.kicad_sch"}),
    ]
    backend = ScriptedTraceBackend([[*calls, Done("c")]])
    runner = RecordingRunner()

    reply = chat_with(backend, runner).execute(ChatCommand("hi", mode=mode))

    assert [c.tool_name for c in runner.calls] == ["read_file"]
    posted = {r.tool_call_id: r for _, r in backend.tool_results}
    assert posted["w"].is_error and posted["u"].is_error and not posted["r"].is_error
    assert f"{mode.value} mode" in posted["w"].result and "--mode agent" in posted["w"].result
    assert [(r.tool_name, r.is_error) for r in reply.tool_runs] == [
        ("write", True),
        ("shell", True),
        ("read_file", False),
    ]


def test_tool_arguments_are_masked_before_the_runner_sees_them() -> None:
    secret = KEY.reveal()
    call = ToolCall("w", "write", {"file_path": "a.kicad_sch", "contents": [f"k={secret}"]})
    backend = ScriptedTraceBackend([[call, Done("c")]])
    runner = RecordingRunner(answer=f"wrote {secret[:20]}")

    items = list(chat_with(backend, runner).stream(ChatCommand("hi", mode=ChatMode.AGENT)))

    assert runner.calls[0].tool_args == {"file_path": "a.kicad_sch", "contents": ["k=***"]}
    [(_, posted)] = backend.tool_results
    assert posted.result == "wrote ***"
    assert secret[:8] not in repr(items)


def test_an_error_raised_while_streaming_is_masked() -> None:
    backend = ScriptedTraceBackend()
    backend.add_turn(
        TextDelta("so far "), error=ProtocolError(f"bad event quoting {TOKEN.reveal()[:12]}")
    )
    stream = make_chat(backend, Path()).stream(ChatCommand("hi"))

    assert next(stream) == TextDelta("so far ")
    with pytest.raises(ProtocolError) as raised:
        next(stream)

    assert raised.value.problem == "bad event quoting ***"
    assert TOKEN.reveal()[:12] not in str(raised.value)


def test_the_reply_keeps_a_summary_of_each_run_not_its_result() -> None:
    call = ToolCall("r", "read_file", {"target_file": "a.sch"})
    backend = ScriptedTraceBackend([[call, Done("c")]])

    reply = chat_with(backend, RecordingRunner(answer="x" * 5000)).execute(ChatCommand("hi"))

    assert reply.tool_runs == (ToolRun("r", "read_file", False, 5000, "a.sch"),)


class _SlowToAcknowledge(ScriptedTraceBackend):
    """Resumes the stream on a tool result but answers the POST only once ``released``.

    A real backend does the same: it streams what follows a result while the HTTP
    answer to ``POST /tools/result`` is still on its way back.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.released = threading.Event()

    def post_tool_result(self, session_id: str, result: ToolResult, token: Secret) -> None:
        super().post_tool_result(session_id, result, token)  # the stream goes on from here
        self.released.wait(5)


def test_a_tool_result_is_yielded_before_what_the_backend_streams_after_it(
    tmp_path: Path,
) -> None:
    """The order a user reads is the order things happened: tool_call, its result, then
    the text the backend sent once it had the result (not the result after the text)."""
    (tmp_path / "a.kicad_sch").write_text("(kicad_sch)\n", encoding="utf-8")
    call = ToolCall("t1", "read_file", {"target_file": "a.kicad_sch"})
    backend = _SlowToAcknowledge([[TextDelta("Reading. "), call, TextDelta("after"), Done("c")]])
    order = []
    for item in make_chat(backend, tmp_path).stream(ChatCommand("hi")):
        if isinstance(item, TextDelta) and item.content == "after":
            backend.released.set()
        order.append(type(item).__name__ if not isinstance(item, TextDelta) else item.content)
    backend.released.set()

    assert order == ["Reading. ", "ToolCall", "ToolFinished", "after", "ChatFinished"]
