"""`buildwithtrace chat MESSAGE`: stream an answer; the model's tools run in your project."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from application.chat import ChatCommand, ChatFinished, ChatOutput, ChatReply, ToolFinished
from domain.chat import (
    AppType,
    ChatMode,
    StreamError,
    TextDelta,
    ToolCall,
)
from domain.errors import BackendError
from domain.model_id import ModelId
from domain.notices import Notice
from domain.provider import Provider
from domain.resolution import LlmChoice
from domain.tools import call_target
from entrypoints.cli.app import json_option, state
from entrypoints.cli.output import emit_json_line, note, say, tell
from entrypoints.cli.params import BYOK_PROVIDER, MODEL_ID
from entrypoints.presentation import to_data


class _Waiting:
    """A spinner on stderr until the first event (only when stderr is a terminal)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not sys.stderr.isatty():
            return
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        frames = "|/-\\"
        index = 0
        while not self._stop.wait(0.1):
            sys.stderr.write(f"\r{frames[index % 4]} waiting for the model…")
            sys.stderr.flush()
            index += 1

    def stop(self) -> None:
        if self._thread is None or self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def _target(call: ToolCall) -> str:
    return _one_line(call_target(call.tool_args) or "", 80)


def _one_line(text: str, limit: int = 2000) -> str:
    """``text`` as one line of at most ``limit`` characters (the writers remove controls)."""
    line = " ".join(text[: limit + 1].splitlines())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _render_text(item: ChatOutput) -> None:
    if isinstance(item, TextDelta):
        say(item.content, nl=False)
    elif isinstance(item, ToolFinished):
        mark = "failed" if item.result.is_error else "ok"
        label = f"{_one_line(item.call.tool_name, 80)} {_target(item.call)}".strip()
        line = f"  [{label}] {mark}"
        if item.result.is_error:
            first = item.result.result[:1000].splitlines()
            line += f": {first[0][:160] if first else ''}"
        tell(_one_line(line))
    elif isinstance(item, StreamError):
        tell(_one_line(f"error from the backend: {item.content}"))
    elif isinstance(item, Notice):
        note(_one_line(item.message))


def _summary(reply: ChatReply) -> str:
    payer = reply.provider.payer
    model = f" ({reply.model})" if reply.model else ""
    source = reply.key_source.label if reply.key_source else None
    key = f", key {reply.masked_key} from {source}" if source else ""
    conversation = (
        f"conversation {_one_line(reply.conversation_id, 200)}"
        if reply.conversation_id
        else "no conversation id from the backend"  # so --conversation cannot continue it
    )
    chosen = f" (chosen by {reply.project_file})" if reply.project_file else ""
    return f"{conversation} · {reply.provider.value}{model}{key}{chosen} · billed to {payer}"


@click.command()
@click.argument("message")
@click.option(
    "--project",
    "project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The project: the directory the model's tools work in (their sandbox root).",
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in ChatMode]),
    default="ask",
    show_default=True,
    help=". ".join(f"{m.value}: {m.summary}" for m in (ChatMode.ASK, ChatMode.PLAN, ChatMode.AGENT))
    + ". Enforced here, whatever the backend asks.",
)
@click.option(
    "--app",
    "app_type",
    type=click.Choice([a.value for a in AppType]),
    default="eeschema",
    show_default=True,
    help="Which KiCad editor this is about.",
)
@click.option("--file", "file_path", help="The design file the question is about.")
@click.option("--conversation", "conversation_id", help="Continue this conversation id.")
@click.option("--provider", type=BYOK_PROVIDER, help="Use this provider for this call only.")
@click.option("--model", type=MODEL_ID, help="Use this model for this call only.")
@json_option
def chat(
    message: str,
    project: Path,
    mode: str,
    app_type: str,
    file_path: str | None,
    conversation_id: str | None,
    provider: Provider | None,
    model: ModelId | None,
    as_json: bool,
) -> None:
    """Ask Trace about your design (MESSAGE `-` reads it from stdin)."""
    state().json_lines = as_json
    if message == "-":
        message = sys.stdin.read()
    if not project.is_dir():
        raise click.BadParameter(f"{project} is not a directory", param_hint="--project")
    overrides = LlmChoice(provider, None, model) if provider or model else None
    command = ChatCommand(
        message=message,
        mode=ChatMode(mode),
        app_type=AppType(app_type),
        project_dir=str(project.resolve()),
        file_path=file_path,
        conversation_id=conversation_id,
        overrides=overrides,
    )
    use_case = state().runtime.use_cases.chat()
    # Resolve first: a missing key fails fast, before any spinner, and only once.
    resolution = use_case.resolve(command)
    stream = use_case.stream(command, resolution)
    waiting = _Waiting()
    waiting.start()
    reply: ChatReply | None = None
    open_line = False  # streamed text not yet ended by a newline
    # On one terminal a stderr line written after unfinished answer text would continue
    # the answer's line; end that line first (a file or pipe gets the text unchanged).
    one_screen = sys.stdout.isatty() and sys.stderr.isatty()
    try:
        for item in stream:
            waiting.stop()
            if as_json:
                emit_json_line(to_data(item))
            else:
                if open_line and one_screen and isinstance(item, ToolFinished | StreamError):
                    say("")
                    open_line = False
                _render_text(item)
                if isinstance(item, TextDelta) and item.content:
                    open_line = not item.content.endswith("\n")
            if isinstance(item, Notice):
                # Notices come before the request (or before its retry): still waiting.
                waiting = _Waiting()
                waiting.start()
            if isinstance(item, ChatFinished):
                reply = item.reply
    finally:
        waiting.stop()
        stream.close()  # on Ctrl-C: closes the HTTP stream, lets running tools finish
        if open_line:
            say("")  # an error or Ctrl-C mid-answer must not leave the prompt on its line
    if reply is None:
        return
    if not as_json:
        tell(_summary(reply))
    if reply.failed:
        again = f" --conversation {reply.conversation_id}" if reply.conversation_id else ""
        raise BackendError(
            f"the backend reported: {_one_line(reply.errors[-1])}",
            f"run it again: buildwithtrace chat MESSAGE{again}   (if it repeats, report the "
            "message above)",
        )
