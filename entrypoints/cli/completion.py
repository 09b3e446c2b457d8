"""`buildwithtrace completion SHELL`: print the completion script to source."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print SHELL's completion script, e.g. `eval "$(buildwithtrace completion bash)"`."""
    from entrypoints.cli.app import cli

    completer_class = get_completion_class(shell)
    assert completer_class is not None
    completer = completer_class(cli, {}, "buildwithtrace", "_BUILDWITHTRACE_COMPLETE")
    click.echo(completer.source())
