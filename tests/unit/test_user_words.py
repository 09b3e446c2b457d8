"""The words users read are the same everywhere: who pays, named by one function."""

from __future__ import annotations

import re

import pytest

from domain.provider import Provider
from tests.support.files import REPO_ROOT

# The pages whose provider tables have a "billed to" column (its last cell).
_BILLED_TO_TABLES = ("README.md", "docs/configuration.md")


def _billed_to(page: str) -> dict[str, str]:
    """The last cell of each provider row of ``page``'s provider tables."""
    found = {}
    for line in (REPO_ROOT / page).read_text(encoding="utf-8").splitlines():
        row = re.fullmatch(r"\| `(anthropic|openai|gemini|trace)` \|(.*)\|", line)
        if row is not None:
            found[row.group(1)] = row.group(2).split("|")[-1].strip()
    return found


@pytest.mark.parametrize("page", _BILLED_TO_TABLES)
def test_the_docs_say_who_pays_in_the_domains_words(page: str) -> None:
    """Each provider table's "billed to" cell is ``Provider.payer`` (BillingMode.describe)."""
    assert _billed_to(page) == {p.value: p.payer for p in Provider}


def test_a_gemini_key_bills_the_google_account_behind_it() -> None:
    """There is no "Gemini account": a Gemini key is billed to a Google account."""
    assert Provider.GEMINI.payer == "your own Google account (Google AI Studio / Google Cloud)"
    assert Provider.TRACE.payer == "your Trace plan (monthly budget / credits)"


def test_the_desktop_extra_is_installed_with_one_command_everywhere() -> None:
    """The README and the docs name the command `settings` prints (INSTALL_COMMAND)."""
    from entrypoints.desktop.command import INSTALL_COMMAND

    assert INSTALL_COMMAND == "pip install 'buildwithtrace[desktop]'"
    for page in ("README.md", "docs/cli.md", "docs/desktop.md"):
        text = (REPO_ROOT / page).read_text(encoding="utf-8")
        assert INSTALL_COMMAND in text, page
        assert "'.[desktop]'" not in text, page
