"""SelectModel: remember a model for a provider, or go back to its default."""

from __future__ import annotations

import attrs

from application.ports import SettingsStore
from domain.errors import InvalidInputError
from domain.model_id import ModelId, ModelSource
from domain.provider import Provider
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class SelectModelResult(Value):
    """The provider's model after the change, and whether it is the default."""

    provider: Provider
    model: str | None
    source: ModelSource


class SelectModel:
    """Set or reset the model remembered per provider (so switching never mixes them)."""

    def __init__(self, *, settings: SettingsStore) -> None:
        self._settings = settings

    def execute(self, model: ModelId | None, provider: Provider | None = None) -> SelectModelResult:
        """Remember ``model`` (None resets) for ``provider``, else for the active provider."""
        parsed = model
        if provider is None:
            provider = self._settings.load().provider
        if not provider.is_byok:
            raise InvalidInputError(
                "Trace-hosted models are chosen by Trace; a model applies to a BYOK provider",
                "buildwithtrace byok model MODEL --provider anthropic   (or openai, gemini)",
            )
        self._settings.update(lambda s: s.with_model(provider, parsed))
        if parsed is None:
            return SelectModelResult(provider, provider.spec.default_model, ModelSource.DEFAULT)
        return SelectModelResult(provider, parsed, ModelSource.CONFIG)
