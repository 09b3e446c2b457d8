"""Other local users: a config directory they own or can change, and links they plant there.

The attacker is a second, unprivileged account on the same machine (uid 65534 here;
the tests run as root, which plays the victim). It cannot read the victim's files, but
it can own a directory the victim points ``TRACE_CONFIG_DIR`` at, or one of that
directory's parents, or write into a directory the victim left open. From there it
could plant ``config.toml`` as a link into the victim's home (the victim's next
``config set`` would then write into ``~/.bash_login``), or settings that point the
backend at a server it runs. Every command that reads or writes the config directory
must refuse such a directory (exit 5, naming the directory and the fix) and write
nothing anywhere; and no write ever follows a link, even one the victim made.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_runner import snapshot
from tests.reliability.inprocess import cli
from tests.reliability.plugin import Figures

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root to hand a directory to a second user",
    ),
]

ATTACKER = 65534
# Commands that read settings, write them, or take the config directory's lock.
COMMANDS: list[tuple[tuple[str, ...], str]] = [
    (("config", "set", "backend.env", "local"), ""),
    (("config", "list", "--json"), ""),
    (("byok", "status"), ""),
    (("byok", "use", "trace"), ""),
    (("byok", "model", "gpt-4.1", "--provider", "openai"), ""),
    (("byok", "set", "openai", "--key-stdin"), "sk-proj-" + "q" * 40),
]


@pytest.fixture
def victim_home(tmp_path: Path) -> Iterator[Path]:
    """A stand-in for the victim's home directory, with one dotfile worth protecting."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / ".bashrc").write_text("# the victim's own shell set-up\n")
    yield home


def _run_all(
    monkeypatch: pytest.MonkeyPatch,
    config_dir: Path,
    watched: list[Path],
    figures: Figures,
    wanted: str,
) -> list[str]:
    """Run every command against ``config_dir``; each must exit 5 naming ``wanted``."""
    monkeypatch.setenv("TRACE_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    before = [snapshot(path) for path in watched]
    problems = []
    for args, stdin in COMMANDS:
        result = cli(*args, stdin=stdin)
        figures.add("commands")
        if result.code != 5 or wanted not in result.output:
            problems.append(f"wanted exit 5 naming {wanted!r}:\n{result}")
        after = [snapshot(path) for path in watched]
        if after != before:
            problems.append(f"files changed by:\n{result}")
            before = after
    return problems


def _attacker_directory(parent: Path, name: str) -> Path:
    directory = parent / name
    directory.mkdir(mode=0o755)
    os.chown(directory, ATTACKER, ATTACKER)
    return directory


def _planted_link(directory: Path, target: Path) -> None:
    """As the attacker would: a ``config.toml`` link the attacker owns, into the victim's home."""
    link = directory / "config.toml"
    link.symlink_to(target)
    os.chown(link, ATTACKER, ATTACKER, follow_symlinks=False)


def test_a_config_directory_owned_by_another_user_is_refused(
    tmp_path: Path, victim_home: Path, figures: Figures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRACE_CONFIG_DIR names a directory another user owns, holding a ``config.toml`` link
    into the victim's home: every command exits 5 naming the directory; the victim's
    ``~/.bash_login`` is never created and ``~/.bashrc`` never changes."""
    shared = _attacker_directory(tmp_path, "shared")
    _planted_link(shared, victim_home / ".bash_login")

    problems = _run_all(monkeypatch, shared, [victim_home, shared], figures, str(shared))

    assert not (victim_home / ".bash_login").exists()
    figures.add("violations", len(problems))
    assert problems == []


def test_a_link_to_an_existing_dotfile_is_never_written_through(
    tmp_path: Path, victim_home: Path, figures: Figures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted link points at a dotfile that exists and happens to parse as TOML (an
    empty one): still refused before anything is read or written."""
    (victim_home / ".profile").write_text("")
    shared = _attacker_directory(tmp_path, "shared")
    link = shared / "config.toml"
    link.symlink_to(victim_home / ".profile")
    os.chown(link, ATTACKER, ATTACKER, follow_symlinks=False)

    problems = _run_all(monkeypatch, shared, [victim_home, shared], figures, str(shared))

    assert (victim_home / ".profile").read_text() == ""
    figures.add("violations", len(problems))
    assert problems == []


def test_a_parent_directory_owned_by_another_user_is_refused(
    tmp_path: Path, victim_home: Path, figures: Figures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config directory is the victim's, but its parent belongs to another user, who
    could rename it away and put their own in its place: refused, naming the parent."""
    parent = _attacker_directory(tmp_path, "someone-elses")
    config_dir = parent / "trace"
    config_dir.mkdir(mode=0o700)

    problems = _run_all(monkeypatch, config_dir, [victim_home, parent], figures, str(parent))

    figures.add("violations", len(problems))
    assert problems == []


def test_a_config_directory_others_can_write_is_refused_with_the_fix(
    tmp_path: Path, figures: Figures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The victim's own config directory opened to group or others for writing (anyone could
    plant a link or a config.toml in it): refused with the exact chmod fix."""
    config_dir = tmp_path / "open"
    config_dir.mkdir()
    config_dir.chmod(0o777)

    problems = _run_all(monkeypatch, config_dir, [config_dir], figures, f"chmod 700 {config_dir}")

    figures.add("violations", len(problems))
    assert problems == []


@pytest.mark.parametrize("name", ["config.toml", "credentials.json"])
def test_writes_never_follow_a_link_even_the_users_own(
    tmp_path: Path, figures: Figures, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A ``config.toml`` or ``credentials.json`` that is a link (even one the user made) is
    never written through: the write stops with exit 5 naming the link, and its target is
    unchanged."""
    monkeypatch.setenv("TRACE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    config_dir = tmp_path / "config"
    config_dir.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    target = elsewhere / name
    content = b"" if name == "config.toml" else b'{"version": 1, "secrets": {}}'
    target.write_bytes(content)
    target.chmod(0o600)
    (config_dir / name).symlink_to(target)
    writes: dict[str, Callable[[], tuple[tuple[str, ...], str]]] = {
        "config.toml": lambda: (("config", "set", "backend.env", "local"), ""),
        "credentials.json": lambda: (("byok", "set", "openai", "--key-stdin"), "sk-" + "z" * 40),
    }
    args, stdin = writes[name]()

    result = cli(*args, stdin=stdin)

    figures.add("commands")
    assert result.code == 5, result
    assert str(config_dir / name) in result.output, result
    assert "link" in result.output, result
    assert target.read_bytes() == content
    assert (config_dir / name).is_symlink()
