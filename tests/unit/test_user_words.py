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


GLOSSARY = (REPO_ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")


def test_the_glossary_holds_the_words_the_code_uses() -> None:
    """Who pays, the modes, the key-source labels and the store words, as the code says them."""
    from domain.chat import ChatMode
    from domain.credential import KeySource, SourceKind

    for provider in Provider:
        assert provider.payer in GLOSSARY
    for mode in ChatMode:
        assert mode.summary in GLOSSARY
    for kind in SourceKind:
        label = KeySource(kind, "ANTHROPIC_API_KEY" if kind is SourceKind.ENV else None).label
        assert f"`{label}`" in GLOSSARY
    for kind in (SourceKind.KEYCHAIN, SourceKind.FILE):
        assert f'"{KeySource(kind).place}"' in GLOSSARY
    assert "[glossary.md](glossary.md)" in (REPO_ROOT / "docs" / "README.md").read_text("utf-8")


def test_the_modes_read_the_same_in_the_cli_help_and_the_docs() -> None:
    from click.testing import CliRunner

    from domain.chat import ChatMode
    from entrypoints.cli.chat import chat

    shown = " ".join(CliRunner().invoke(chat, ["--help"], terminal_width=1000).output.split())
    for mode in ChatMode:
        assert f"{mode.value}: {mode.summary}" in shown
        for page in ("docs/cli.md", "docs/sdk.md", "docs/node-sdk.md"):
            text = " ".join((REPO_ROOT / page).read_text(encoding="utf-8").split())
            assert mode.summary in text, (page, mode)


def test_the_sdk_re_exports_every_error_its_docs_promise() -> None:
    """docs/sdk.md: the SDK raises only domain.errors, all re-exported by entrypoints.sdk."""
    import inspect

    import entrypoints.sdk as sdk
    from domain import errors

    promised = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.TraceError)
    }
    assert promised <= set(sdk.__all__)
    assert all(getattr(sdk, name) is getattr(errors, name) for name in promised)
