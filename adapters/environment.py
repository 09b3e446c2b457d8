"""Environment variables: the process's, or a dict handed in (tests, SDK users)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from application.ports import Environment


class MappingEnvironment(Environment):
    """Environment variables from any mapping; ``OsEnvironment`` passes ``os.environ``."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = variables

    def get(self, name: str) -> str | None:
        """The variable's raw value, or None when unset."""
        return self._variables.get(name)

    def snapshot(self, names: tuple[str, ...]) -> dict[str, str]:
        """The set variables among ``names``."""
        return {n: v for n in names if (v := self._variables.get(n)) is not None}

    def names(self) -> tuple[str, ...]:
        """The names of every set variable."""
        return tuple(self._variables)


class OsEnvironment(MappingEnvironment):
    """The live process environment (read at call time, never at import)."""

    def __init__(self) -> None:
        super().__init__(os.environ)
