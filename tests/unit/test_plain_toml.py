"""``plain_toml``: config.toml edited without tomlkit only when nothing can be lost.

The fast path must give the data tomlkit's edit gives, keep files in a layout it can
edit again, and refuse every file holding anything it does not reproduce exactly.
"""

from __future__ import annotations

import tomllib

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.settings import plain_toml
from adapters.settings.toml import _assign, _remove
from domain.settings import SETTING_KEYS

NAMES = [key.name for key in SETTING_KEYS]
VALUES = st.sampled_from(["anthropic", "trace", "gpt-4o", "claude-sonnet-4-6", 'odd"\\name', "é"])
CHANGES = st.lists(st.tuples(st.sampled_from(NAMES), st.none() | VALUES), max_size=12)


def _with_tomlkit(text: str, changes: list[tuple[str, str | None]]) -> str:
    document = tomlkit.parse(text)
    for name, value in changes:
        if value is None:
            # The store removes only what is there.
            if _present(tomllib.loads(tomlkit.dumps(document)), name):
                _remove(document, name)
        else:
            _assign(document, name, value)
    return tomlkit.dumps(document)


def _present(data: dict[str, object], name: str) -> bool:
    node: object = data
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(CHANGES, max_size=4))
def test_edits_read_back_as_tomlkits_and_stay_editable(
    steps: list[list[tuple[str, str | None]]],
) -> None:
    """Command after command: the same data as tomlkit's edit, and still plain."""
    text = ""
    for changes in steps:
        plain = plain_toml.edit(text, tomllib.loads(text), changes)
        assert plain is not None  # a file the CLI wrote stays on the fast path
        assert tomllib.loads(plain) == tomllib.loads(_with_tomlkit(text, changes))
        assert plain_toml.render(tomllib.loads(plain)) == plain
        text = plain


def test_the_layout_is_tomlkits_for_the_files_it_writes() -> None:
    """A file tomlkit wrote for the CLI is plain too: users' existing files take the fast path."""
    changes: list[tuple[str, str | None]] = [
        ("llm.provider", "anthropic"),
        ("llm.models.anthropic", "x"),
    ]
    written = _with_tomlkit("", changes)
    written = _with_tomlkit(written, [("backend.env", "local"), ("llm.models.openai", "y")])

    assert plain_toml.render(tomllib.loads(written)) == written


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('# my settings\n[llm]\nprovider = "openai"\n', id="comment"),
        pytest.param('[llm]\nprovider = "openai" # mine\n', id="inline-comment"),
        pytest.param('[llm]\nprovider="openai"\n', id="spacing"),
        pytest.param("[llm]\nprovider = 'openai'\n", id="literal-string"),
        pytest.param('[llm]\nprovider = "openai"\nretries = 3\n', id="unknown-number"),
        pytest.param('llm.provider = "openai"\n', id="dotted-key"),
        pytest.param('top = "x"\n[llm]\nprovider = "openai"\n', id="top-level-key"),
        pytest.param('[llm]\nmodels = { openai = "gpt-4o" }\n', id="inline-table"),
        pytest.param('[llm]\nprovider = "openai"\n\n\n[output]\nformat = "json"\n', id="blank"),
    ],
)
def test_anything_it_would_not_keep_goes_to_tomlkit(text: str) -> None:
    assert plain_toml.edit(text, tomllib.loads(text), [("output.format", "text")]) is None


def test_unknown_string_keys_are_kept() -> None:
    text = '[llm]\nprovider = "openai"\nmine = "kept"\n'

    edited = plain_toml.edit(text, tomllib.loads(text), [("llm.provider", "anthropic")])

    assert edited == '[llm]\nprovider = "anthropic"\nmine = "kept"\n'
