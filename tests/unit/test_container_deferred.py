"""The container names some classes by path (``deferred``): each path must import."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from entrypoints.container import deferred

CONTAINER = Path(__file__).resolve().parents[2] / "entrypoints" / "container.py"
PATHS = re.findall(r'deferred\("([\w.]+:\w+)"\)', CONTAINER.read_text(encoding="utf-8"))


def test_the_container_defers_what_hot_commands_do_not_build() -> None:
    """A guard against a scan that finds nothing (the paths below are checked one by one)."""
    assert len(PATHS) > 15
    assert "application.doctor:Doctor" in PATHS


@pytest.mark.parametrize("path", sorted(set(PATHS)))
def test_every_deferred_path_names_something_to_build(path: str) -> None:
    """A typo in a path fails here, not in a user's command."""
    module, _, name = path.partition(":")
    assert callable(getattr(importlib.import_module(module), name))


def test_a_deferred_class_is_built_with_the_arguments_given() -> None:
    build = deferred("fractions:Fraction")

    assert build(3, 4) == importlib.import_module("fractions").Fraction(3, 4)
