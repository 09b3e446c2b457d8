"""Shared click parameter types (with shell completion)."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

from domain.provider import NAMES, Provider


class ProviderName(click.ParamType):  # type: ignore[type-arg]  # generic only in newer stubs
    """A provider name with completion; validated by the domain (same errors everywhere)."""

    name = "provider"

    def __init__(self, byok_only: bool = False) -> None:
        self._names = tuple(p.value for p in Provider.byok()) if byok_only else NAMES

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Pass the raw text through; the use-case parses it."""
        return str(value)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """Provider names starting with what was typed."""
        return [CompletionItem(n) for n in self._names if n.startswith(incomplete.lower())]

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """Show the choices in usage lines."""
        return "{" + "|".join(self._names) + "}"


BYOK_PROVIDER = ProviderName(byok_only=True)
ANY_PROVIDER = ProviderName()
