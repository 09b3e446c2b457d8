"""docs/reliability.md is written from the modules the report lists: none may be left out."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.report import MODULES


def test_every_reliability_module_is_in_the_report() -> None:
    here = Path(__file__).resolve().parents[1] / "reliability"
    found = {path.stem for path in here.glob("test_*.py")}

    assert found - set(MODULES) == set()
    assert set(MODULES) - found == set()
