"""SelectModel: remember a model for a provider, or go back to its default."""

from __future__ import annotations

import attrs

from application.ports import SettingsStore
from domain.errors import InvalidInputError
from domain.model_id import ModelSource, parse_model_id
from domain.provider import Provider


@attrs.frozen
class SelectModelResult:
    """The provider's model after the change, and whether it is the default."""

    provider: Provider
    model: str | None
    source: ModelSource


class SelectModel:
    """Set or reset the model remembered per provider (so switching never mixes them)."""

    def __init__(self, *, settings: SettingsStore) -> None:
        self._settings = settings

    def execute(self, model: str | None, provider_name: str | None = None) -> SelectModelResult:
        """Remember ``model`` (None resets) for ``provider_name``, else the active provider."""
        parsed = parse_model_id(model) if model is not None else None
        provider = (
            Provider.parse(provider_name, byok_only=True)
            if provider_name is not None
            else self._settings.load().provider
        )
        if not provider.is_byok:
            raise InvalidInputError(
                "Trace-hosted models are chosen by Trace; a model applies to a BYOK provider",
                "buildwithtrace byok model MODEL --provider anthropic|openai|gemini",
            )
        self._settings.update(lambda s: s.with_model(provider, parsed))
        if parsed is None:
            return SelectModelResult(provider, provider.spec.default_model, ModelSource.DEFAULT)
        return SelectModelResult(provider, parsed, ModelSource.CONFIG)
