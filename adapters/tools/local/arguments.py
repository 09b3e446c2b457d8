"""Reading a tool call's arguments: aliases, types and ranges, with messages for the model.

The model produces the arguments, so every problem is reported back to it as a
``ToolError`` whose text says which argument was wrong and what was expected. JSON
``null`` counts as absent. Numbers may arrive as integral floats or digit strings
and booleans as ``"true"``/``"false"`` (models do send these); anything else of the
wrong type is refused. Unknown extra arguments are ignored so a newer backend
schema does not break older clients.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_MAX_SHOWN = 80
_INTEGER = re.compile(r"-?[0-9]{1,18}")


class ToolError(Exception):
    """A tool call failed; ``message`` is the text sent back to the model."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def show(value: str) -> str:
    """``value`` quoted for an error message: escaped when unprintable, shortened when long."""
    shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"
    return repr(shown)


class Arguments:
    """Typed access to one call's ``tool_args``."""

    def __init__(self, tool: str, raw: Mapping[str, object]) -> None:
        self._tool = tool
        self._raw = raw

    def _lookup(self, names: tuple[str, ...]) -> tuple[str, object] | None:
        """The first alias present (not null), refusing aliases that disagree."""
        found = [(n, self._raw[n]) for n in names if self._raw.get(n) is not None]
        if not found:
            return None
        first_name, first_value = found[0]
        for name, value in found[1:]:
            if value != first_value:
                raise ToolError(
                    f"{self._tool}: arguments {first_name!r} and {name!r} disagree; pass only one"
                )
        return first_name, first_value

    def _describe(self, names: tuple[str, ...]) -> str:
        return " or ".join(repr(n) for n in names)

    def text(self, *names: str, allow_empty: bool = False) -> str:
        """A required string under any of ``names`` (aliases, first wins)."""
        value = self.optional_text(*names, allow_empty=allow_empty)
        if value is None:
            raise ToolError(f"{self._tool}: missing required argument {self._describe(names)}")
        return value

    def optional_text(self, *names: str, allow_empty: bool = False) -> str | None:
        """A string under any of ``names``, or None when absent."""
        found = self._lookup(names)
        if found is None:
            return None
        name, value = found
        if not isinstance(value, str):
            raise ToolError(
                f"{self._tool}: argument {name!r} must be a string, not {type(value).__name__}"
            )
        if not value and not allow_empty:
            raise ToolError(f"{self._tool}: argument {name!r} must not be empty")
        return value

    def optional_int(self, *names: str, minimum: int) -> int | None:
        """A whole number ``>= minimum`` under any of ``names``, or None when absent."""
        found = self._lookup(names)
        if found is None:
            return None
        name, value = found
        number = _as_int(value)
        if number is None:
            raise ToolError(
                f"{self._tool}: argument {name!r} must be a whole number, got {show(str(value))}"
            )
        if number < minimum:
            raise ToolError(
                f"{self._tool}: argument {name!r} must be at least {minimum}, got {number}"
            )
        return number

    def flag(self, *names: str) -> bool:
        """A boolean under any of ``names``; False when absent."""
        found = self._lookup(names)
        if found is None:
            return False
        name, value = found
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ToolError(
            f"{self._tool}: argument {name!r} must be true or false, got {show(str(value))}"
        )

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        """One of ``allowed`` under ``name``; the first one when absent."""
        value = self.optional_text(name)
        if value is None:
            return allowed[0]
        if value not in allowed:
            raise ToolError(
                f"{self._tool}: argument {name!r} must be one of {', '.join(allowed)}; "
                f"got {show(value)}"
            )
        return value


def _as_int(value: object) -> int | None:
    """``value`` as an int when it unambiguously is one (bool is not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None
