"""What a caller typed for provider, key and model, parsed only when a test resolves it.

The SDK and the CLI parse these at the edge (``LlmChoice.parse``); tests that expect a
parse error as the *outcome* of a resolution keep the raw text until then.
"""

from __future__ import annotations

import attrs

from domain.credential import KeySource
from domain.provider import Provider
from domain.resolution import LlmChoice
from domain.secret import Secret


def _key_repr(key: str | Secret | None) -> str:
    return "'…'" if isinstance(key, str) else repr(key)


@attrs.frozen
class Given:
    """Provider, key and model as given (call arguments or client defaults)."""

    provider: str | Provider | None = None
    api_key: str | Secret | None = attrs.field(default=None, repr=_key_repr)
    model: str | None = None

    def parse(self) -> LlmChoice | None:
        """Parsed as the SDK parses them (blank means not given)."""
        return LlmChoice.parse(self.provider, self.api_key, self.model)


def parsed(given: Given | None) -> LlmChoice | None:
    """``given`` parsed, or None."""
    return given.parse() if given is not None else None


def label_of(source: KeySource | None) -> str | None:
    """A key source's label (``env:NAME``, ``file``...), or None: what tests compare."""
    return source.label if source is not None else None
