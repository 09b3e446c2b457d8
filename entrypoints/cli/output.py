"""Writing results: text for people, JSON for programs, notices on stderr.

Every byte the CLI prints goes through this module, and nothing printed carries a
control sequence but newline and tab: the backend (and the model behind it) chooses
much of what is shown (answers, tool names and paths, error texts, conversation ids,
plan names), and an escape sequence in it could write the clipboard (OSC 52), hide
text (CR, cursor moves), or reorder what the user reads (bidi overrides).
:func:`terminal_text` is the one sanitiser; :func:`json_text` writes JSON that is
valid (RFC 8259: no NaN or Infinity) and as clean, with the same characters escaped.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Sequence

import click

# Invisible characters that change what is shown or how it is ordered: bidi marks (LRM,
# RLM, ALM), embeddings, overrides and isolates; zero-width space, word joiner and
# invisible operators, the BOM, interlinear annotation marks and tag characters (which
# smuggle text no one sees). ZWJ and ZWNJ stay: emoji and several scripts need them.
_INVISIBLE = (
    "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f"
)
# C0 controls but LF and TAB, DEL, C1 controls, the invisibles above, and lone
# surrogates (which no UTF-8 writer can encode: they would crash the output).
_TERMINAL_UNSAFE = f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff]"
# What json.dumps(ensure_ascii=False) leaves raw inside strings (it escapes only < 0x20).
_JSON_UNSAFE = f"[\x7f-\x9f{_INVISIBLE}\u2028\u2029\ud800-\udfff]"
# Line and paragraph separators: shown as the line breaks they mean.
_SEPARATORS = "[\u2028\u2029]"
REPLACEMENT = "\ufffd"


@functools.cache
def _pattern(characters: str) -> re.Pattern[str]:
    # Compiled on first need: each costs ~0.25 ms, and most text never needs one.
    return re.compile(characters)


def terminal_text(text: str) -> str:
    """``text`` with nothing a terminal acts on but newline and tab.

    A carriage return, a line or paragraph separator becomes a newline (so text a CR
    would hide stays visible); every other control and invisible character becomes
    U+FFFD.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Every unsafe character (and each separator) is non-printable (Cc, Cf, Cn, Cs, Zl,
    # Zp); text without one is returned unchanged, without compiling a pattern.
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text
    text = _pattern(_SEPARATORS).sub("\n", text)
    return _pattern(_TERMINAL_UNSAFE).sub(REPLACEMENT, text)


def json_text(data: object, *, indent: int | None = None) -> str:
    """``data`` as RFC 8259 JSON with no raw control, bidi or surrogate character.

    A non-finite number (NaN, Infinity), which JSON cannot carry, becomes null; the
    characters ``json.dumps`` would leave raw are ``\\uXXXX`` escapes, still valid JSON
    that decodes to the same text.
    """
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, indent=indent)
    except ValueError:
        text = json.dumps(_finite(data), ensure_ascii=False, allow_nan=False, indent=indent)
    if text.isascii() and "\x7f" not in text:  # the only unsafe ASCII character
        return text
    return _pattern(_JSON_UNSAFE).sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # JSON spells a character outside the BMP as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def emit_json(data: object) -> None:
    """One JSON document on stdout."""
    click.echo(json_text(data, indent=2))


def emit_result(result: object, as_json: bool) -> bool:
    """With ``as_json``, print ``result``'s one documented JSON shape and return True."""
    if not as_json:
        return False
    from entrypoints.presentation import to_data

    emit_json(to_data(result))
    return True


def emit_json_line(data: object) -> None:
    """One JSON object on one line of stdout (for JSON-lines output)."""
    click.echo(json_text(data))


def say(text: str, *, nl: bool = True) -> None:
    """Text of the command's result on stdout (a line unless ``nl=False``)."""
    click.echo(terminal_text(text), nl=nl)


def tell(text: str, *, nl: bool = True) -> None:
    """A line for the person on stderr (progress, tool lines, summaries, errors)."""
    click.echo(terminal_text(text), err=True, nl=nl)


def warn(text: str) -> None:
    """A warning on stderr (never mixed into JSON on stdout)."""
    tell(f"warning: {text}")


def note(text: str) -> None:
    """A notice on stderr."""
    tell(f"note: {text}")


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain aligned text table."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)


def stdin_is_terminal() -> bool:
    """True when a person can answer a hidden prompt."""
    return sys.stdin is not None and sys.stdin.isatty()
