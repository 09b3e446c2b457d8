"""The structured parts of config.toml: key helpers, named keys, allowed project files.

These are not dotted settings of the registry (their names are the user's: a key name,
a project path), so they are read and written here, by :class:`TomlSettingsStore`::

    [keys.anthropic]                 # the provider's default key
    helper = "op read op://Private/Anthropic/credential"
    shell = false                    # true: run through /bin/sh -c (only when set so)

    [keys.anthropic.work]            # a named key; its secret is in the secret store
    [keys.openai.client-a]           # ... or a helper prints it:
    helper = "vault kv get -field=key secret/client-a/openai"

    [projects.allowed]               # project files the user allowed, and their content
    "/home/me/client-a/trace.toml" = "sha256:9f86d0..."

A value we cannot use makes the file corrupt (reported with its place, never quoting a
command or a value); other entries are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import attrs

from domain.errors import CorruptFileError, InvalidInputError
from domain.keys import RESERVED_KEY_NAMES, HelperCommand, KeyRef, parse_key_name
from domain.provider import Provider
from domain.settings import Settings

_Node = MutableMapping[str, Any]
KEYS_TABLE = "keys"
PROJECTS_TABLE = "projects"
ALLOWED_TABLE = "allowed"
DIGEST = r"sha256:[0-9a-f]{64}"  # compiled (and cached by re) where an allow list is read
Corrupt = Callable[[str], CorruptFileError]


def read_structured(document: Mapping[str, Any], corrupt: Corrupt) -> dict[str, Any]:
    """``helpers``, ``named_keys`` and ``allowed_projects`` of a parsed file."""
    helpers: dict[KeyRef, HelperCommand] = {}
    named: list[KeyRef] = []
    keys = document.get(KEYS_TABLE, {})
    if not isinstance(keys, Mapping):
        raise corrupt(f"{KEYS_TABLE} must be a table")
    for provider in Provider.byok():
        table = keys.get(provider.value)
        if table is None:
            continue
        where = f"{KEYS_TABLE}.{provider.value}"
        if not isinstance(table, Mapping):
            raise corrupt(f"{where} must be a table")
        helper = _helper(table, where, corrupt)
        if helper is not None:
            helpers[KeyRef(provider)] = helper
        for name, entry in table.items():
            if not isinstance(entry, Mapping):
                continue  # a leaf (helper, shell) or an unknown value: kept as it is
            try:
                ref = KeyRef(provider, parse_key_name(str(name)))
            except InvalidInputError:
                raise corrupt(f"{where} has a table that is not a key name") from None
            if ref.name != name:
                raise corrupt(f"{where} has a table that is not a key name")
            named.append(ref)
            helper = _helper(entry, f"{where}.{name}", corrupt)
            if helper is not None:
                helpers[ref] = helper
    return {
        "helpers": helpers,
        "named_keys": tuple(named),
        "allowed_projects": _allowed(document, corrupt),
    }


def _helper(table: Mapping[str, Any], where: str, corrupt: Corrupt) -> HelperCommand | None:
    command = table.get("helper")
    shell = table.get("shell", False)
    if command is None:
        return None
    if not isinstance(command, str):
        raise corrupt(f"{where}.helper must be a string")
    if not isinstance(shell, bool):
        raise corrupt(f"{where}.shell must be true or false")
    try:
        return HelperCommand.parse(command, shell=shell)
    except InvalidInputError as exc:
        raise corrupt(f"{where}.helper is not usable: {exc.problem}") from None


def _allowed(document: Mapping[str, Any], corrupt: Corrupt) -> dict[str, str]:
    projects = document.get(PROJECTS_TABLE, {})
    if not isinstance(projects, Mapping):
        raise corrupt(f"{PROJECTS_TABLE} must be a table")
    allowed = projects.get(ALLOWED_TABLE, {})
    if not isinstance(allowed, Mapping):
        raise corrupt(f"{PROJECTS_TABLE}.{ALLOWED_TABLE} must be a table")
    found: dict[str, str] = {}
    for path, digest in allowed.items():
        if not isinstance(digest, str) or not re.fullmatch(DIGEST, digest):
            raise corrupt(f"{PROJECTS_TABLE}.{ALLOWED_TABLE} holds a value that is not sha256:HEX")
        found[str(path)] = digest
    return found


def write_structured(document: _Node, before: Settings, after: Settings) -> bool:
    """Apply the structured differences between ``before`` and ``after``; True if any."""
    changed = False
    refs = {*before.helpers, *after.helpers, *before.named_keys, *after.named_keys}
    for ref in sorted(refs, key=lambda ref: ref.sort_key):
        if _entry(before, ref) == _entry(after, ref):
            continue
        changed = True
        _write_key(document, ref, after)
    if before.allowed_projects != after.allowed_projects:
        changed = True
        _write_allowed(document, after.allowed_projects)
    return changed


def _entry(settings: Settings, ref: KeyRef) -> tuple[bool, HelperCommand | None]:
    known = ref.name is None or ref in settings.named_keys
    return known, settings.helper_for(ref)


def _write_key(document: _Node, ref: KeyRef, after: Settings) -> None:
    import tomlkit

    path = [KEYS_TABLE, ref.provider.value, *((ref.name,) if ref.name else ())]
    known, helper = _entry(after, ref)
    if not known:
        _remove(document, path)
        return
    node = document
    for part in path:
        if part not in node or not isinstance(node[part], MutableMapping):
            node[part] = tomlkit.table()
        node = node[part]
    if helper is None:
        for leaf in RESERVED_KEY_NAMES:
            node.pop(leaf, None)
        if ref.name is None:
            _prune(document, path)
        return
    checked = HelperCommand.parse(helper.command, shell=helper.shell)  # the last check
    node["helper"] = checked.command
    if checked.shell:
        node["shell"] = True
    else:
        node.pop("shell", None)


def _write_allowed(document: _Node, allowed: Mapping[str, str]) -> None:
    import tomlkit

    if not allowed:
        _remove(document, [PROJECTS_TABLE, ALLOWED_TABLE])
        return
    projects = document.get(PROJECTS_TABLE)
    if not isinstance(projects, MutableMapping):
        projects = document[PROJECTS_TABLE] = tomlkit.table()
    table = projects.get(ALLOWED_TABLE)
    if not isinstance(table, MutableMapping):
        table = projects[ALLOWED_TABLE] = tomlkit.table()
    for path in [p for p in table if p not in allowed]:
        del table[path]
    for path, digest in allowed.items():
        if table.get(path) != digest:
            table[path] = digest


def _remove(document: _Node, path: list[str]) -> None:
    node = document
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, MutableMapping):
            return
        node = child
    node.pop(path[-1], None)
    _prune(document, path[:-1])


def _prune(document: _Node, path: list[str]) -> None:
    """Drop the tables of ``path`` left with nothing in them, innermost first."""
    for depth in range(len(path), 0, -1):
        parent: Any = document
        for part in path[: depth - 1]:
            parent = parent.get(part)
            if not isinstance(parent, MutableMapping):
                return
        child = parent.get(path[depth - 1])
        if not isinstance(child, MutableMapping) or len(child) > 0 or _has_comment(child):
            return
        del parent[path[depth - 1]]


def _has_comment(node: object) -> bool:
    from tomlkit.items import Comment, Table

    return isinstance(node, Table) and any(isinstance(item, Comment) for _, item in node.value.body)


def evolve(settings: Settings, structured: Mapping[str, Any]) -> Settings:
    """``settings`` with the structured parts read by :func:`read_structured`."""
    return attrs.evolve(settings, **structured)
