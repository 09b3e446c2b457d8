"""The root help page rendered without click is exactly the page click renders."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from entrypoints.cli.app import cli
from entrypoints.cli.commands import fast_help, root_help


def _click_help(columns: int) -> str:
    result = CliRunner().invoke(
        cli, ["--help"], prog_name="buildwithtrace", env={"COLUMNS": str(columns)}
    )
    assert result.exit_code == 0
    return result.output


@pytest.mark.parametrize("columns", [20, 50, 52, 60, 76, 77, 78, 79, 80, 81, 100, 300])
def test_root_help_is_clicks_page_or_defers_only_when_a_line_is_too_long(columns: int) -> None:
    page = root_help(columns)
    if page is not None:
        assert page == _click_help(columns)
        return
    # Deferring is allowed only when the unwrapped page has a line wider than click's
    # text width for this terminal (click would wrap it, so click must render it).
    unwrapped = root_help(300)
    assert unwrapped is not None
    width = max(min(columns, 80) - 2, 50)
    assert any(len(line) > width for line in unwrapped.splitlines())
    assert columns < 80  # from 80 columns on, the fast page always serves


def test_root_help_defers_to_click_when_a_line_would_wrap(monkeypatch: pytest.MonkeyPatch) -> None:
    from entrypoints.cli import commands

    long_help = "Say something that no fifty-column terminal can show on one line at all."
    monkeypatch.setitem(commands.COMMANDS, "zz", ("entrypoints.cli.byok", "byok", long_help))

    assert root_help(50) is None
    assert root_help(200) is None  # click never uses more than 80 columns


def test_a_terminal_of_eighty_columns_or_more_gets_the_fast_page() -> None:
    assert root_help(80) == _click_help(80)
    assert root_help(200) == _click_help(200)


@pytest.mark.parametrize(
    "argv", [[], ["--version"], ["--help", "byok"], ["byok", "--help"], ["-h", "-h"], ["--hel"]]
)
def test_only_a_lone_help_flag_takes_the_fast_path(argv: list[str]) -> None:
    assert fast_help(argv) is None


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_both_help_flags_take_the_fast_path(flag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")

    assert fast_help([flag]) == _click_help(100)


@pytest.mark.parametrize("value", [None, "", "0", "-3", "wide", "100", "40"])
def test_terminal_width_is_read_as_shutil_reads_it(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from entrypoints.cli.commands import _terminal_columns

    if value is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", value)

    assert _terminal_columns() == shutil.get_terminal_size().columns
