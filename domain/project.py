"""Project files (``trace.toml``): a project's choice among the user's own keys and models.

A cloned repository is hostile until the user says otherwise. So a project file may
only *select* (a provider, the name of one of the user's keys, a model), never hold a
key or a command, and it applies only once the user allowed that file with that
content (``buildwithtrace project allow``, recorded as path + SHA-256 in config.toml);
a changed file must be allowed again. Finding the file (walking up from the project
directory, ownership checks) is the adapters' job; the rules over its parsed content
are here, pure, so the Node SDK can match them case by case
(tests/shared/key-source-cases.json).

    [llm]
    provider = "anthropic"     # anthropic | openai | gemini | trace
    key_name = "client-a"      # optional: byok set anthropic --name client-a
    model = "claude-opus-4-1"  # optional
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping

import attrs

from domain.errors import (
    InvalidInputError,
    InvalidModelError,
    ProjectFileError,
    UnknownProviderError,
)
from domain.keys import parse_key_name
from domain.model_id import parse_model_id
from domain.provider import NAMES, Provider
from domain.secret import looks_like_secret
from domain.value import Value

PROJECT_FILE_NAME = "trace.toml"
MAX_PROJECT_FILE_BYTES = 64 * 1024
PROJECT_TABLE = "llm"
PROJECT_FIELDS = ("provider", "key_name", "model")
# Compiled (and cached by re) where a project file is checked, not at import.
_COMMANDISH = r"(?i)(helper|command|cmd|shell|exec|run|script|program)"
_SECRETISH = r"(?i)(key|secret|token|password|credential|auth)"


class ProjectState(enum.Enum):
    """Whether a found project file applies."""

    ALLOWED = "allowed"  # the user allowed this path with this content
    NOT_ALLOWED = "not_allowed"  # never allowed: ignored
    CHANGED = "changed"  # allowed once, changed since: ignored until allowed again


@attrs.frozen(eq=False, repr=False)
class ProjectSelection(Value):
    """What a project file selects; each part optional (a model or key needs a provider)."""

    provider: Provider | None = None
    key_name: str | None = None
    model: str | None = None


@attrs.frozen(eq=False, repr=False)
class ProjectFile(Value):
    """A project file as found: its real path, the SHA-256 of its bytes, what it selects."""

    path: str
    digest: str
    selection: ProjectSelection

    def state(self, allowed: Mapping[str, str]) -> ProjectState:
        """Allowed with this content, never allowed, or changed since it was allowed."""
        recorded = allowed.get(self.path)
        if recorded is None:
            return ProjectState.NOT_ALLOWED
        return ProjectState.ALLOWED if recorded == self.digest else ProjectState.CHANGED

    def use(self, allowed: Mapping[str, str]) -> ProjectUse:
        """The file with its state for ``allowed`` (the user's allowed files)."""
        return ProjectUse(self.path, self.state(allowed), self.selection)


@attrs.frozen(eq=False, repr=False)
class ProjectUse(Value):
    """A project file found for a request, and whether it applies."""

    path: str
    state: ProjectState
    selection: ProjectSelection

    @property
    def applies(self) -> bool:
        """True when the user allowed this content."""
        return self.state is ProjectState.ALLOWED

    @property
    def directory(self) -> str:
        """The directory holding the file (what ``project allow`` takes)."""
        head, _, _ = self.path.rpartition("/")
        return head or "/"

    def ignored_reason(self) -> str:
        """Why the file is ignored, in a few words."""
        if self.state is ProjectState.CHANGED:
            return "changed since you allowed it"
        return "not allowed yet"


def parse_project_document(document: Mapping[str, object], path: str) -> ProjectSelection:
    """The selection of a parsed ``trace.toml``; raises ``ProjectFileError`` for anything more.

    Refused, each with its own words: a key or a command anywhere (by name, or a value
    shaped like a key), an entry outside ``[llm]`` provider / key_name / model, a value
    that is not a string, an unknown provider, a bad key name or model, a key name or
    model without a provider, a key name for Trace-hosted models.
    """
    for where, name, value in _entries(document, ()):
        if isinstance(value, str) and looks_like_secret(value):
            raise ProjectFileError(
                path,
                f"{where} holds what looks like an API key; a project file never holds keys "
                "(it may only name one of yours)",
            )
        if name in PROJECT_FIELDS and where == f"{PROJECT_TABLE}.{name}":
            continue
        if where == PROJECT_TABLE:
            if isinstance(value, Mapping):
                continue
            raise ProjectFileError(path, f"{PROJECT_TABLE} must be a table: [{PROJECT_TABLE}]")
        if re.search(_COMMANDISH, name):
            raise ProjectFileError(
                path,
                f"{where} looks like a command; a project file never holds commands "
                "(a cloned repository must not run code on your machine)",
            )
        if re.search(_SECRETISH, name):
            raise ProjectFileError(
                path,
                f"{where} looks like a key; a project file never holds keys "
                "(it may only name one of yours with key_name)",
            )
        raise ProjectFileError(path, f"unknown entry {where}")
    table = document.get(PROJECT_TABLE, {})
    assert isinstance(table, Mapping)
    values: dict[str, str] = {}
    for name in PROJECT_FIELDS:
        value = table.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ProjectFileError(path, f"{PROJECT_TABLE}.{name} must be a string")
        values[name] = value
    return _selection(values, path)


def _selection(values: Mapping[str, str], path: str) -> ProjectSelection:
    provider: Provider | None = None
    if "provider" in values:
        try:
            provider = Provider.parse(values["provider"])
        except UnknownProviderError:
            raise ProjectFileError(
                path, f"{PROJECT_TABLE}.provider must be one of: {', '.join(NAMES)}"
            ) from None
    key_name = model = None
    if "key_name" in values:
        try:
            key_name = parse_key_name(values["key_name"])
        except InvalidInputError as exc:
            raise ProjectFileError(path, f"{PROJECT_TABLE}.key_name: {exc.problem}") from None
    if "model" in values:
        try:
            model = parse_model_id(values["model"])
        except InvalidModelError as exc:
            raise ProjectFileError(path, f"{PROJECT_TABLE}.model: {exc.problem}") from None
    if provider is None and (key_name is not None or model is not None):
        raise ProjectFileError(
            path,
            f"{PROJECT_TABLE}.key_name and {PROJECT_TABLE}.model need {PROJECT_TABLE}.provider",
        )
    if provider is Provider.TRACE and key_name is not None:
        raise ProjectFileError(path, "Trace-hosted models take no key_name")
    if provider is Provider.TRACE and model is not None:
        raise ProjectFileError(path, "Trace-hosted models take no model (Trace chooses it)")
    return ProjectSelection(provider, key_name, model)


def _entries(
    node: Mapping[str, object], parents: tuple[str, ...]
) -> Iterator[tuple[str, str, object]]:
    """(dotted path, name, value) of every entry, tables first, then what is inside them."""
    for name, value in node.items():
        where = ".".join((*parents, name))
        yield where, name, value
        if isinstance(value, Mapping):
            yield from _entries(value, (*parents, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from _entries(item, (*parents, f"{name}[{index}]"))
                else:
                    yield f"{where}[{index}]", name, item
