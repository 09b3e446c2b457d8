"""Model identifiers."""

from __future__ import annotations

import enum
from typing import NewType

from domain.errors import InvalidModelError
from domain.secret import looks_like_secret

MAX_MODEL_ID_LENGTH = 200

# A model id that passed parse_model_id: the type says it was checked at the edge.
ModelId = NewType("ModelId", str)


class ModelSource(enum.Enum):
    """Where the model for a request was chosen."""

    DEFAULT = "default"
    CONFIG = "config"
    ENV = "env"
    ARGUMENT = "argument"
    PROJECT = "project"  # the project file (trace.toml) the user allowed


def parse_model_id(raw: str) -> ModelId:
    """Trim and validate a model id; raises :class:`InvalidModelError`."""
    value = raw.strip()
    if not value:
        raise InvalidModelError("it is empty")
    if len(value) > MAX_MODEL_ID_LENGTH:
        raise InvalidModelError(f"it is longer than {MAX_MODEL_ID_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise InvalidModelError("it contains whitespace or control characters")
    if looks_like_secret(value):
        # A key pasted where the model goes would be sent on as a model name, into logs.
        raise InvalidModelError(
            "it looks like an API key, not a model id (keys go in with byok set)"
        )
    return ModelId(value)
