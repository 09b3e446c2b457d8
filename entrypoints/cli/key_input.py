"""Getting a secret from the user: hidden prompt, stdin, or (warned) the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable

import attrs
import click

from domain.errors import InvalidKeyError, InvalidTokenError
from domain.secret import Secret
from entrypoints.cli.output import stdin_is_terminal, warn

# Far above any real key (the domain refuses > 4 KiB) but bounded, so a mistaken
# `< big-file` cannot make us read gigabytes.
_STDIN_LIMIT = 64 * 1024
_NOTHING_ENTERED = "nothing was entered at the prompt (the input is hidden: paste, then Enter)"


@attrs.frozen
class SecretInput:
    """The parsed secret and the warnings printed while reading it (for ``--json``)."""

    secret: Secret
    warnings: tuple[str, ...] = ()


def read_secret(
    label: str, *, from_stdin: bool, from_argv: str | None, flag: str, provider: str | None = None
) -> SecretInput:
    """A provider key, parsed once here (``InvalidKeyError`` names ``provider`` in its fix)."""
    return _read(
        label,
        from_stdin=from_stdin,
        from_argv=from_argv,
        flag=flag,
        parse=lambda raw: Secret.parse(raw, provider),
        empty=lambda: InvalidKeyError(_NOTHING_ENTERED, provider),
    )


def read_token(label: str, *, from_stdin: bool, from_argv: str | None, flag: str) -> SecretInput:
    """A Trace token, parsed once here (``InvalidTokenError`` has the login fix)."""
    return _read(
        label,
        from_stdin=from_stdin,
        from_argv=from_argv,
        flag=flag,
        parse=Secret.parse_token,
        empty=lambda: InvalidTokenError(_NOTHING_ENTERED),
    )


def _read(
    label: str,
    *,
    from_stdin: bool,
    from_argv: str | None,
    flag: str,
    parse: Callable[[str], Secret],
    empty: Callable[[], InvalidKeyError],
) -> SecretInput:
    if from_stdin and from_argv is not None:
        raise click.UsageError(f"give the value either with {flag}-stdin or {flag}, not both")
    if from_argv is not None:
        text = (
            f"{flag} puts the secret in the command line, where other processes and your "
            f"shell history can see it; prefer the prompt or {flag}-stdin"
        )
        warn(text)  # at once: the key is in the shell history even if it is refused
        return SecretInput(parse(from_argv), (text,))
    if from_stdin:
        return SecretInput(parse(_read_stdin(flag)))
    if not stdin_is_terminal():
        raise click.UsageError(
            f"no terminal to prompt on; pipe the value in with {flag}-stdin, e.g. "
            f"`{_this_command()} {flag}-stdin < file`"
        )
    # default="": an empty answer comes back instead of click asking again in silence.
    value: str = click.prompt(
        f"{label} (input hidden)", hide_input=True, err=True, default="", show_default=False
    )
    if not value.strip():
        raise empty()
    return SecretInput(parse(value))


def _read_stdin(flag: str) -> str:
    """Standard input as text; bytes that are not UTF-8 stay visible to the key rules.

    Read as bytes and decoded with ``surrogateescape``: the locale's strict decoder would
    crash on a UTF-16 file, and the rules then name its bytes (FF FE) in the error.
    """
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text-only stdin (tests, embedding): already decoded
        text = sys.stdin.read(_STDIN_LIMIT + 1)
        too_long = len(text) > _STDIN_LIMIT
    else:
        data = stream.read(_STDIN_LIMIT + 1)
        too_long = len(data) > _STDIN_LIMIT
        text = data.decode("utf-8", "surrogateescape")
    if too_long:
        raise click.UsageError(f"{flag}-stdin got more than {_STDIN_LIMIT} bytes")
    return text


def _this_command() -> str:
    """The command being run, with its arguments but no options (``buildwithtrace byok set
    openai``): the hint then names a command the user can paste."""
    ctx = click.get_current_context()
    words = [ctx.command_path]
    for param in ctx.command.params:
        if isinstance(param, click.Argument):
            value = ctx.params.get(param.name or "")
            if value is not None:
                words.append(str(getattr(value, "value", value)))
    return " ".join(words)
