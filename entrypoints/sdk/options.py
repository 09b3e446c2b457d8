"""The SDK's options, one type each, shared by ``Trace`` and ``AsyncTrace``, parsed once.

``ChatOptions`` are the keyword options of ``chat``, ``stream`` and ``resolve``;
``TraceOptions`` those of the constructors. They are parsed here into the domain's
types (``LlmChoice``, ``ChatMode``, ``AppType``...), with the domain's errors and
fixes; everything past this module carries parsed values.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict, TypeVar

from application.chat import ChatCommand
from application.ports import (
    KeyHelper,
    KeyVerifier,
    ProjectFiles,
    SecretStore,
    SettingsStore,
    ToolRunner,
    TraceBackend,
)
from domain.chat import AppType, ChatMode, ClientKind
from domain.errors import InvalidInputError
from domain.notices import Notice
from domain.resolution import LlmChoice


class ChatOptions(TypedDict, total=False):
    """The keyword options of ``chat``, ``stream`` and ``resolve`` (sync and async alike).

    ``mode``: ``"ask"`` (default; answers questions, its tools only read files),
    ``"plan"`` (plans changes without making them; its tools only read files) or
    ``"agent"`` (may also edit design files in the project); the client enforces it,
    whatever the backend asks. ``project_dir``: the project, the root the model's tools
    are confined to.
    """

    mode: str | ChatMode
    project_dir: str | os.PathLike[str] | None
    app_type: str | AppType
    file_path: str | None
    conversation_id: str | None
    llm_provider: str | None
    llm_api_key: str | None
    llm_model_id: str | None


class TraceOptions(TypedDict, total=False):
    """The keyword options of ``Trace(...)`` and ``AsyncTrace(...)``."""

    token: str | None
    llm_provider: str | None
    llm_api_key: str | None
    llm_model_id: str | None
    project_dir: str | os.PathLike[str] | None
    base_url: str | None
    env: Mapping[str, str] | None
    secrets: SecretStore | None
    settings: SettingsStore | None
    backend: TraceBackend | None
    tool_runner: ToolRunner | None
    cache_reads: bool
    on_notice: Callable[[Notice], None] | None
    key_helper: KeyHelper | None
    verifier: KeyVerifier | None
    project_files: ProjectFiles | None


def chat_command(
    message: str,
    options: ChatOptions,
    *,
    client_defaults: LlmChoice | None,
    project_dir: str | None,
) -> ChatCommand:
    """``message`` and ``options`` as the ``Chat`` use-case's command (parsed, validated)."""
    given_dir = options.get("project_dir")
    chosen_dir = parse_project_dir(given_dir) if given_dir is not None else project_dir
    return ChatCommand(
        message=message,
        mode=_choice(ChatMode, options.get("mode", ChatMode.ASK), "mode"),
        app_type=_choice(AppType, options.get("app_type", AppType.EESCHEMA), "app_type"),
        client=ClientKind.SDK,
        project_dir=chosen_dir,
        # A project file is looked for from the project directory, else from where the
        # program runs (as the CLI does from its working directory).
        search_from=chosen_dir or os.getcwd(),  # noqa: PTH109 - a str per request, no Path
        file_path=options.get("file_path"),
        conversation_id=options.get("conversation_id"),
        overrides=LlmChoice.parse(
            options.get("llm_provider"), options.get("llm_api_key"), options.get("llm_model_id")
        ),
        client_defaults=client_defaults,
    )


_E = TypeVar("_E", ChatMode, AppType)


def _choice(kind: type[_E], value: str | _E, name: str) -> _E:
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind)
        raise InvalidInputError(
            f"{name}={str(value)[:40]!r} is not one of {allowed}", f"pass {name}= one of {allowed}"
        ) from None


def parse_project_dir(path: str | os.PathLike[str]) -> str:
    """The resolved directory; ``InvalidInputError`` unless it is one."""
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_dir():
        raise InvalidInputError(
            f"project_dir {os.fspath(path)!r} is not a directory",
            "pass project_dir= the directory that holds your KiCad project",
        )
    return str(resolved)
