"""config.toml in the plain layout the CLI writes, edited without tomlkit.

tomlkit keeps comments and layout through an edit, which is why it edits the file, but
it costs more to import than the interpreter takes to start, on every ``byok use`` and
``byok model``. Most config files are only ever written by the CLI and hold nothing
for tomlkit to keep: tables of strings, one key per line, in this layout (tomlkit's
own for the files it writes)::

    [llm]
    provider = "anthropic"

    [llm.models]
    anthropic = "claude-sonnet-4-6"

:func:`edit` rewrites such a file itself, and only when it is provably such a file:
the text must be exactly what :func:`render` makes of its parsed data (so there is no
comment, no other spacing, no other kind of value to lose), and the new text must
parse back to exactly the edited data. Anything else returns None, and the caller
edits with tomlkit as before.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

_BARE_KEY = r"[A-Za-z0-9_-]+"  # re caches it: compiled on the first edit, not at import
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def edit(
    text: str | None, data: Mapping[str, Any], changes: Sequence[tuple[str, str | None]]
) -> str | None:
    """The file's new text after ``changes`` (dotted name, value or None to remove).

    ``data`` is ``text`` as ``tomllib`` parsed it. None when the file is not in the
    plain layout (the caller then edits it with tomlkit).
    """
    if render(data) != (text or ""):
        return None
    edited: dict[str, Any] = copy.deepcopy(dict(data))
    for name, value in changes:
        if not _apply(edited, name, value):
            return None
    new_text = render(edited)
    if new_text is None:
        return None
    import tomllib

    if tomllib.loads(new_text) != edited:  # never write what would not read back the same
        return None
    return new_text


def render(data: Mapping[str, Any]) -> str | None:
    """``data`` in the plain layout; None when it holds more than tables of strings."""
    blocks: list[str] = []
    for name, table in data.items():
        if not isinstance(table, dict) or not _table(table, [name], blocks):
            return None
    return "\n".join(blocks)


def _table(table: dict[str, Any], path: list[str], blocks: list[str]) -> bool:
    if not all(re.fullmatch(_BARE_KEY, part) for part in path):
        return False
    lines = [f"[{'.'.join(path)}]\n"]
    subtables: list[tuple[str, dict[str, Any]]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            subtables.append((key, value))
        elif isinstance(value, str) and re.fullmatch(_BARE_KEY, key):
            lines.append(f"{key} = {_quoted(value)}\n")
        else:
            return False
    if len(lines) > 1 or not subtables:  # a table of tables alone needs no header
        blocks.append("".join(lines))
    return all(_table(sub, [*path, key], blocks) for key, sub in subtables)


def _quoted(value: str) -> str:
    """A TOML basic string."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _apply(data: dict[str, Any], name: str, value: str | None) -> bool:
    """Set or remove the dotted ``name``; False when the data cannot take it plainly."""
    *tables, leaf = name.split(".")
    chain: list[tuple[MutableMapping[str, Any], str]] = []
    node: MutableMapping[str, Any] = data
    for part in tables:
        child = node.get(part)
        if child is None:
            if value is None:
                return True  # nothing to remove
            child = node[part] = {}
        if not isinstance(child, dict):
            return False
        chain.append((node, part))
        node = child
    if value is not None:
        node[leaf] = value
        return True
    node.pop(leaf, None)
    for parent, part in reversed(chain):  # drop tables left empty, innermost first
        if parent[part]:
            break
        del parent[part]
    return True
