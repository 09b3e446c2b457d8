"""Getting a secret from the user: hidden prompt, stdin, or (warned) the command line."""

from __future__ import annotations

import sys

import click

from domain.secret import Secret
from entrypoints.cli.output import stdin_is_terminal, warn

# Far above any real key (the domain refuses > 4 KiB) but bounded, so a mistaken
# `< big-file` cannot make us read gigabytes.
_STDIN_LIMIT = 64 * 1024


def read_secret(
    label: str, *, from_stdin: bool, from_argv: str | None, flag: str, provider: str | None = None
) -> Secret:
    """The secret, parsed once here (``InvalidKeyError`` names ``provider`` in its fix)."""
    return Secret.parse(
        _read_raw(label, from_stdin=from_stdin, from_argv=from_argv, flag=flag), provider
    )


def _read_raw(label: str, *, from_stdin: bool, from_argv: str | None, flag: str) -> str:
    """The raw text: ``flag`` (warned), ``flag-stdin``, or the hidden prompt."""
    if from_stdin and from_argv is not None:
        raise click.UsageError(f"give the value either with {flag}-stdin or {flag}, not both")
    if from_argv is not None:
        warn(
            f"{flag} puts the secret in the command line, where other processes and your "
            f"shell history can see it; prefer the prompt or {flag}-stdin"
        )
        return from_argv
    if from_stdin:
        data = sys.stdin.read(_STDIN_LIMIT + 1)
        if len(data) > _STDIN_LIMIT:
            raise click.UsageError(f"{flag}-stdin got more than {_STDIN_LIMIT} bytes")
        return data
    if not stdin_is_terminal():
        raise click.UsageError(
            f"no terminal to prompt on; pipe the value in with {flag}-stdin, e.g. "
            f"`buildwithtrace ... {flag}-stdin < file`"
        )
    value: str = click.prompt(f"{label} (input hidden)", hide_input=True, err=True)
    return value
