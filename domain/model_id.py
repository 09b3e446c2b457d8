"""Model identifiers."""

from __future__ import annotations

import enum

from domain.errors import InvalidModelError

MAX_MODEL_ID_LENGTH = 200


class ModelSource(enum.Enum):
    """Where the model for a request was chosen."""

    DEFAULT = "default"
    CONFIG = "config"
    ENV = "env"
    ARGUMENT = "argument"


def parse_model_id(raw: str) -> str:
    """Trim and validate a model id; raises :class:`InvalidModelError`."""
    value = raw.strip()
    if not value:
        raise InvalidModelError("it is empty")
    if len(value) > MAX_MODEL_ID_LENGTH:
        raise InvalidModelError(f"it is longer than {MAX_MODEL_ID_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise InvalidModelError("it contains whitespace or control characters")
    return value
