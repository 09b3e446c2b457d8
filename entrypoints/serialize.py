"""The one cattrs converter: domain and use-case results to JSON-ready data.

The shapes produced here are interfaces (``byok status --json`` feeds the SDK and
the desktop panel); docs/cli.md documents them and the e2e tests pin them.
"""

from __future__ import annotations

import enum
import functools
from typing import Any

import cattrs

from domain.secret import Secret


@functools.cache
def converter() -> cattrs.Converter:
    """The converter, built once: enums by value, secrets masked, tuples as lists."""
    conv = cattrs.Converter()
    conv.register_unstructure_hook(enum.Enum, lambda member: member.value)
    # A secret never reaches output in plain text, even by accident.
    conv.register_unstructure_hook(Secret, lambda secret: secret.masked())
    return conv


def to_data(value: object) -> Any:
    """JSON-ready data for an attrs instance (or a tuple/list of them)."""
    return converter().unstructure(value)
