"""The shared key-source table (tests/shared/key-source-cases.json) is current and complete.

The Node SDK runs the same file through its own key-name, helper-command, helper-output
and project-file rules (node/test/key-source-cases.test.ts, to be added with the Node
side of issue 13); here: the committed file is what the Python domain answers today.
"""

from __future__ import annotations

import json

from tests.shared import key_source_cases


def test_committed_key_source_table_is_what_the_generator_writes() -> None:
    """A stale file means a key-source rule changed without regenerating the shared table."""
    current = key_source_cases.OUTPUT.read_text(encoding="utf-8")
    assert current == key_source_cases.render(), (
        "tests/shared/key-source-cases.json is stale: run python -m tests.shared.key_source_cases"
    )


def test_every_section_holds_accepted_and_refused_inputs() -> None:
    """Each rule is pinned from both sides, so a looser or stricter Node rule shows."""
    data = json.loads(key_source_cases.OUTPUT.read_text(encoding="utf-8"))
    for section in ("key_names", "helper_commands", "helper_outputs", "project_files"):
        cases = data[section]
        assert any("value" in c for c in cases), section
        assert any("error" in c for c in cases), section
    errors = {
        c["error"]["name"] for s in data.values() if isinstance(s, list) for c in s if "error" in c
    }
    assert errors == {"InvalidInputError", "KeyHelperError", "ProjectFileError"}
