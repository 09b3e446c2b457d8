"""Shared click parameter types (with shell completion)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from domain.keys import parse_key_name
from domain.model_id import ModelId, parse_model_id
from domain.provider import NAMES, Provider

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


class ProviderName(click.ParamType):  # type: ignore[type-arg]  # generic only in newer stubs
    """A provider name with completion, parsed into a ``Provider`` by the domain.

    The domain's ``UnknownProviderError`` propagates as is (exit 2, with the fix listing
    the names), so the CLI, the SDK and the panel refuse a name in the same words.
    """

    name = "provider"

    def __init__(self, byok_only: bool = False) -> None:
        self._byok_only = byok_only
        self._names = tuple(p.value for p in Provider.byok()) if byok_only else NAMES

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Provider:
        """The provider ``value`` names."""
        if isinstance(value, Provider):
            return value
        return Provider.parse(str(value), byok_only=self._byok_only)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """Provider names starting with what was typed."""
        from click.shell_completion import CompletionItem  # only when completing

        return [CompletionItem(n) for n in self._names if n.startswith(incomplete.lower())]

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """Show the choices in usage lines."""
        return "{" + "|".join(self._names) + "}"


BYOK_PROVIDER = ProviderName(byok_only=True)
ANY_PROVIDER = ProviderName()


class ModelIdParam(click.ParamType):  # type: ignore[type-arg]  # generic only in newer stubs
    """A model id, parsed by the domain (``InvalidModelError``: exit 2, never echoes a key)."""

    name = "model"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> ModelId:
        """The checked model id."""
        return parse_model_id(str(value))


MODEL_ID = ModelIdParam()


class KeyNameParam(click.ParamType):  # type: ignore[type-arg]  # generic only in newer stubs
    """A key name (``--name work``), parsed by the domain (``InvalidInputError``: exit 2)."""

    name = "name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The checked key name."""
        return parse_key_name(str(value))


KEY_NAME = KeyNameParam()
