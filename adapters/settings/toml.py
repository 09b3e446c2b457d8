"""The non-secret settings in ``config.toml``, edited in place so the user's file survives.

A dotted setting name is its TOML path: ``llm.provider`` is ``provider`` in ``[llm]``,
``llm.models.openai`` is ``openai`` in ``[llm.models]`` (dotted keys and inline tables
work too). An update rewrites only the settings that changed; comments, formatting
and keys we do not know are kept as they were.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from adapters._fs.atomic_file import atomic_write, locked, read_bytes_checked
from adapters.settings import plain_toml
from adapters.settings.toml_keys import evolve, read_structured, write_structured
from application.ports import SettingsStore
from domain.errors import (
    STORE_KEY_FIX,
    CorruptFileError,
    InvalidModelError,
    InvalidSettingError,
    UnknownProviderError,
)
from domain.settings import (
    SETTING_KEYS,
    SettingKey,
    Settings,
    looks_like_secret,
    settings_from_flat,
    settings_to_flat,
)

# 0600 although nothing here is secret: the file tells which providers and backend a
# user works with, nothing else on the machine needs to read it, and one mode for
# every file we write is one rule to audit.
CONFIG_FILE_MODE = 0o600
_VALUE_ERRORS = (InvalidSettingError, UnknownProviderError, InvalidModelError)
_Node = MutableMapping[str, Any]
_POSITION = r"\(at line (\d+), column (\d+)\)"  # compiled in the error path only


class TomlSettingsStore(SettingsStore):
    """Settings in a TOML file: read with ``tomllib``, edited under a process lock.

    Reading needs only the standard library's parser. An edit of a file in the plain
    layout the CLI writes is done by :mod:`adapters.settings.plain_toml`; any other file
    is edited with tomlkit (which keeps comments and layout, and costs ~10 ms to import).
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> Settings:
        """The settings in the file; defaults when it does not exist.

        Raises ``CorruptFileError`` for invalid TOML or an invalid value of a known setting.
        """
        return self._settings(self._parse(self._read_text()))

    def update(self, change: Callable[[Settings], Settings]) -> Settings:
        """Apply ``change`` under the lock and write back only the settings that changed."""
        with locked(self._path, private=False):
            text = self._read_text()
            data = self._parse(text)
            before_settings = self._settings(data)
            before = settings_to_flat(before_settings)
            changed = change(before_settings)
            after = {
                name: _checked_value(name, value)
                for name, value in settings_to_flat(changed).items()
            }
            wanted = _structured(changed)
            result = evolve(settings_from_flat(after), wanted)
            structured = wanted != _structured(before_settings)
            if after == before and not structured:
                return result
            changes = [
                (key.name, after.get(key.name))
                for key in SETTING_KEYS
                if after.get(key.name) != before.get(key.name)
            ]
            # A file only the CLI wrote is edited directly when only plain settings change
            # (helpers, named keys and allowed projects are tables of tables: tomlkit's
            # job); tomlkit keeps anything else, comments and layout included.
            new_text = None if structured else plain_toml.edit(text, data, changes)
            if new_text is None:
                new_text = self._edited_with_tomlkit(text, changes, before_settings, changed)
            atomic_write(self._path, new_text.encode("utf-8"), CONFIG_FILE_MODE, private=False)
            return result

    def location(self) -> str:
        """The path of the settings file."""
        return str(self._path)

    def _read_text(self) -> str | None:
        data = read_bytes_checked(self._path, private=False)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise self._corrupt("it is not UTF-8 text") from None

    def _parse(self, text: str | None) -> _Node:
        """The file as plain data (``tomllib``); what ``load`` reads and ``update`` checks first."""
        if text is None:
            return {}
        import tomllib

        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            # Position only: parser messages quote the file, which may hold a pasted key.
            found = re.search(_POSITION, str(exc))
            where = f" at line {found[1]}, column {found[2]}" if found else ""
            raise self._corrupt(f"invalid TOML{where}") from None

    def _edited_with_tomlkit(
        self,
        text: str | None,
        changes: list[tuple[str, str | None]],
        before: Settings,
        after: Settings,
    ) -> str:
        """The text after ``changes`` and the structured differences between ``before``
        and ``after``, comments, layout and unknown keys kept by tomlkit."""
        import tomlkit
        import tomlkit.exceptions

        try:
            document = tomlkit.parse(text) if text is not None else tomlkit.document()
        except (tomlkit.exceptions.TOMLKitError, ValueError, RecursionError) as exc:
            # A file tomllib accepts but tomlkit does not (never seen; kept as a guard).
            line, col = getattr(exc, "line", None), getattr(exc, "col", None)
            where = f" at line {line}, column {col}" if line is not None else ""
            raise self._corrupt(f"invalid TOML{where}") from None
        write_structured(document, before, after)
        for name, value in changes:
            if value is None:
                _remove(document, name)
            else:
                _assign(document, name, value)
        return tomlkit.dumps(document)

    def _settings(self, document: _Node) -> Settings:
        """Every setting of a parsed file: the registry's, then the structured parts."""
        flat = settings_from_flat(self._read_flat(document))
        return evolve(flat, read_structured(document, self._corrupt))

    def _read_flat(self, document: _Node) -> dict[str, str]:
        flat: dict[str, str] = {}
        for key in SETTING_KEYS:
            raw = self._find(document, key)
            if raw is not None:
                self._validate(key, raw)
                flat[key.name] = raw
        return flat

    def _find(self, document: _Node, key: SettingKey) -> str | None:
        *tables, leaf = key.name.split(".")
        node = document
        for depth, part in enumerate(tables, start=1):
            if part not in node:
                return None
            node = node[part]
            if not isinstance(node, MutableMapping):
                raise self._corrupt(f"{'.'.join(tables[:depth])} must be a table")
        if leaf not in node:
            return None
        value = node[leaf]
        if isinstance(value, int | float) and not isinstance(value, bool) and key.name in _NUMBERS:
            value = str(value)  # `helper_ttl = 300` reads like the "300" a write leaves
        if not isinstance(value, str):
            raise self._corrupt(f"{key.name} must be a string{_allowed(key)}")
        return str(value)

    def _validate(self, key: SettingKey, raw: str) -> None:
        if looks_like_secret(raw):
            raise self._corrupt(
                f"{key.name} holds what looks like an API key; keys belong in the secret "
                "store (buildwithtrace byok set --help)"
            )
        try:
            key.parse(raw)
        except _VALUE_ERRORS as exc:
            shown = repr(raw) if len(raw) <= 40 and raw.isprintable() else "this value"
            reason = _allowed(key) if key.choices else f": {exc.problem}"
            raise self._corrupt(f"{key.name} = {shown} is not allowed{reason}") from None

    def _corrupt(self, detail: str) -> CorruptFileError:
        return CorruptFileError(str(self._path), detail)


_NUMBERS = frozenset({"keys.helper_ttl", "keys.helper_timeout"})


def _structured(settings: Settings) -> dict[str, Any]:
    return {
        "helpers": settings.helpers,
        "named_keys": settings.named_keys,
        "allowed_projects": settings.allowed_projects,
    }


def _checked_value(name: str, value: str) -> str:
    """The normalised text to write for ``name``; refuses what the file could not hold."""
    key = next(k for k in SETTING_KEYS if k.name == name)
    # Defence in depth: the use-cases already refuse secrets, but this is the last
    # place before the disk, and config.toml must never receive one.
    if looks_like_secret(value):
        raise InvalidSettingError(
            f"refusing to write {name}: the value looks like an API key; "
            "config.toml never holds secrets",
            STORE_KEY_FIX,
        )
    parsed = key.parse(value)  # never write a value the next load() would call corrupt
    if isinstance(parsed, float):
        return f"{parsed:g}"
    return str(parsed.value if isinstance(parsed, enum.Enum) else parsed)


def _allowed(key: SettingKey) -> str:
    return f" (one of: {', '.join(key.choices)})" if key.choices else ""


def _assign(document: _Node, name: str, value: str) -> None:
    import tomlkit

    *tables, leaf = name.split(".")
    node = document
    for part in tables:
        if part not in node:
            node[part] = tomlkit.table()
        node = node[part]
    node[leaf] = value


def _remove(document: _Node, name: str) -> None:
    *tables, leaf = name.split(".")
    chain: list[tuple[_Node, str]] = []
    node = document
    for part in tables:
        chain.append((node, part))
        node = node[part]
    del node[leaf]
    # Drop tables left with nothing in them, innermost first; a comment keeps a table.
    for parent, part in reversed(chain):
        child = parent[part]
        if not _is_empty_table(child):
            break
        del parent[part]


def _is_empty_table(node: object) -> bool:
    from tomlkit.items import Comment, InlineTable, Table

    if isinstance(node, InlineTable):
        return len(node) == 0
    if isinstance(node, Table):
        return len(node) == 0 and not any(isinstance(item, Comment) for _, item in node.value.body)
    return False
