"""The shared tool cases (tests/shared/tool-cases.json): build a tree, run calls, compare.

    python -m tests.shared.tool_cases --fill   # record the Python runner's results

The expected ``result`` of each call is the Python runner's output, recorded by
``--fill`` (the reference); the inputs, ``contains`` and ``after`` are written by hand.

The table is data that both runners execute: this module for the Python
``LocalToolRunner`` (tests/unit/test_shared_tool_cases.py) and
node/test/tool-cases.test.ts for the Node one. The runner's package
(``adapters.tools.local``) is imported here and only here, so moving it is a one-line
change for the shared tests.

File format: ``{"trees": {name: [entry...]}, "cases": [case...]}``. An entry is
``{"file": path, "text": str}`` (or ``"bytes_hex"``), ``{"dir": path}``, or
``{"link": path, "to": target}`` (``to`` may start with ``$OUTSIDE/``: a directory
outside the root). A case names its ``tree``, optional runner ``limits``
(``max_result_chars``, ``max_read_bytes``), its ``calls`` (``tool``, ``args``), and per
call one expectation: ``result`` (the exact text), ``contains`` (substrings), and
``is_error``. ``after`` lists files and their expected text once the calls ran;
``absent`` lists paths that must not exist. ``$ROOT`` in args and expectations is the
resolved root, ``$OUTSIDE`` the outside directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from adapters.tools.local import LocalToolRunner, child_env, write_policy
from domain.chat import ChatMode, ToolCall

__all__ = ["CASES_FILE", "LocalToolRunner", "build_tree", "child_env", "load", "write_policy"]

CASES_FILE = Path(__file__).with_name("tool-cases.json")


def load() -> dict[str, Any]:
    """The parsed table."""
    data: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    return data


def build_tree(entries: list[dict[str, str]], root: Path, outside: Path) -> None:
    """Create ``entries`` under ``root`` (links may point into ``outside``)."""
    for entry in entries:
        if "dir" in entry:
            (root / entry["dir"]).mkdir(parents=True, exist_ok=True)
        elif "file" in entry:
            target = (
                (outside / entry["file"][len("$OUTSIDE/") :])
                if entry["file"].startswith("$OUTSIDE/")
                else root / entry["file"]
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            if "bytes_hex" in entry:
                target.write_bytes(bytes.fromhex(entry["bytes_hex"]))
            else:
                target.write_bytes(entry["text"].encode("utf-8"))
        else:
            link = root / entry["link"]
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(entry["to"].replace("$OUTSIDE", str(outside)))


def substitute(value: Any, root: Path, outside: Path) -> Any:
    """``value`` with ``$ROOT`` and ``$OUTSIDE`` replaced in every string."""
    if isinstance(value, str):
        return value.replace("$ROOT", str(root)).replace("$OUTSIDE", str(outside))
    if isinstance(value, list):
        return [substitute(v, root, outside) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, root, outside) for k, v in value.items()}
    return value


def _placeholders(text: str, root: Path, outside: Path) -> str:
    return text.replace(str(root), "$ROOT").replace(str(outside), "$OUTSIDE")


def run_case(
    case: dict[str, Any], trees: dict[str, Any], base: Path, *, fill: bool = False
) -> list[str]:
    """Run one case in a fresh directory under ``base``; the list of mismatches (empty: pass).

    With ``fill``, each call's ``result`` and ``is_error`` are set to what the runner gave.
    """
    root = base / "project"
    outside = base / "outside"
    root.mkdir()
    outside.mkdir()
    build_tree(trees[case["tree"]], root, outside)
    root = Path(os.path.realpath(root))
    outside = Path(os.path.realpath(outside))
    limits = case.get("limits", {})
    runner = LocalToolRunner(root, **limits)
    problems: list[str] = []
    for number, call in enumerate(case["calls"]):
        args = substitute(call["args"], root, outside)
        result = runner.run(ToolCall(f"c{number}", call["tool"], args))
        if fill:
            call["result"] = _placeholders(result.result, root, outside)
            call["is_error"] = result.is_error
        expected = substitute(call, root, outside)
        where = f"{case['name']} call {number} ({call['tool']})"
        if result.is_error != expected.get("is_error", False):
            problems.append(f"{where}: is_error {result.is_error}: {result.result!r}")
        if "result" in expected and result.result != expected["result"]:
            problems.append(f"{where}: got {result.result!r}, want {expected['result']!r}")
        for part in expected.get("contains", []):
            if part not in result.result:
                problems.append(f"{where}: {part!r} not in {result.result!r}")
    for name, text in substitute(case.get("after", {}), root, outside).items():
        path = root / name
        if not path.is_file() or path.read_bytes().decode("utf-8", "replace") != text:
            shown = path.read_bytes() if path.is_file() else "(missing)"
            problems.append(f"{case['name']}: after, {name} is {shown!r}, want {text!r}")
    for name in case.get("absent", []):
        if os.path.lexists(root / name):
            problems.append(f"{case['name']}: {name} should not exist")
    return problems


def modes() -> list[dict[str, Any]]:
    """The mode table with Python's answers filled in (``allowed``, ``refusal``)."""
    filled = []
    for row in load()["modes"]:
        mode = ChatMode(row["mode"])
        allowed = mode.allows(row["tool"])
        refusal = None if allowed else mode.refusal(row["tool"])
        filled.append({**row, "allowed": allowed, "refusal": refusal})
    return filled


def main(argv: list[str] | None = None) -> int:
    """``--fill``: run every case with the Python runner and record its results in the file."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--fill", action="store_true")
    args = parser.parse_args(argv)
    if not args.fill:
        parser.error("nothing to do: pass --fill")
    table = load()
    problems: list[str] = []
    for case in table["cases"]:
        with tempfile.TemporaryDirectory() as base:
            problems += run_case(case, table["trees"], Path(base), fill=True)
    table["modes"] = modes()
    CASES_FILE.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
