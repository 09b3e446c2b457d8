"""`buildwithtrace project ...`: allow, check or forget a project file (trace.toml).

A project file may choose which of your keys and models a project uses; it applies
only once you allowed it with its current content (a cloned repository is not trusted).
"""

from __future__ import annotations

from pathlib import Path

import click

from application.allow_project import ProjectResult
from domain.project import ProjectState
from entrypoints.cli.app import json_option, state
from entrypoints.cli.output import emit_json, emit_result, say

_DIRECTORY = click.argument(
    "directory",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
)


@click.group()
def project() -> None:
    """Allow a project's trace.toml to choose among your keys and models."""


def _describe(result: ProjectResult) -> str:
    chosen = result.selection
    parts = [
        f"{name} {value}"
        for name, value in (
            ("provider", chosen.provider.value if chosen.provider else None),
            ("key", chosen.key_name),
            ("model", chosen.model),
        )
        if value
    ]
    return ", ".join(parts) or "nothing"


@project.command("allow")
@_DIRECTORY
@json_option
def allow(directory: Path, as_json: bool) -> None:
    """Allow the trace.toml found from DIRECTORY (default: here), with its current content."""
    result = state().runtime.use_cases.allow_project().execute(str(directory.resolve()))
    if emit_result(result, as_json):
        return
    say(f"Allowed {result.path}: it selects {_describe(result)}.")
    say("A change to the file needs allowing again.")


@project.command("forget")
@_DIRECTORY
@json_option
def forget(directory: Path, as_json: bool) -> None:
    """Withdraw the allowance of the trace.toml found from DIRECTORY (default: here)."""
    result = state().runtime.use_cases.forget_project().execute(str(directory.resolve()))
    if emit_result(result, as_json):
        return
    done = "No longer allowed" if result.changed else "Was not allowed"
    say(f"{done}: {result.path} (it is ignored).")


@project.command("status")
@_DIRECTORY
@json_option
def status(directory: Path, as_json: bool) -> None:
    """Show the trace.toml found from DIRECTORY (default: here) and whether it applies."""
    result = state().runtime.use_cases.show_project().execute(str(directory.resolve()))
    if result is None:
        if as_json:
            emit_json({"project": None})
        else:
            say("No trace.toml here or in the directories above (up to one another user owns).")
        return
    if emit_result(result, as_json):
        return
    if result.state is ProjectState.ALLOWED:
        say(f"{result.path} (allowed): selects {_describe(result)}.")
        return
    reason = (
        "changed since you allowed it"
        if result.state is ProjectState.CHANGED
        else ("not allowed yet")
    )
    say(f"{result.path} is ignored ({reason}); it would select {_describe(result)}.")
    directory_of = result.path.rpartition("/")[0] or "/"
    say(f"To let it apply: buildwithtrace project allow {directory_of}")
