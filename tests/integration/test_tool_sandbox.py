"""The sandbox holds: no tool call reads, writes or deletes anything outside the project root.

Every refusal is checked three ways: the result is an error, the project tree and a
sibling directory are byte-for-byte unchanged, and the outside secret never appears
in the text returned to the model.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.tools.local import LocalToolRunner
from adapters.tools.local.arguments import ToolError
from adapters.tools.local.atomic import atomic_write
from adapters.tools.local.sandbox import Sandbox, platform_has_dir_fd
from domain.chat import ToolCall, ToolResult

SECRET = "OUTSIDE-SECRET-7f3a"

Snapshot = dict[str, tuple[str, bytes | str, int]]


def snapshot(top: Path) -> Snapshot:
    """Every entry under ``top``: kind, content (or link target) and mode; links not followed."""
    found: Snapshot = {}
    for directory, dirs, files in os.walk(top, followlinks=False):
        for name in dirs + files:
            path = Path(directory, name)
            key = path.relative_to(top).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", str(path.readlink()), 0)
            elif stat.S_ISDIR(info.st_mode):
                found[key] = ("dir", b"", stat.S_IMODE(info.st_mode))
            else:
                found[key] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


@attrs.frozen
class World:
    """A project root next to an outside directory holding a secret, with links between."""

    top: Path
    root: Path
    outside: Path
    runner: LocalToolRunner

    def run(self, tool: str, **args: object) -> ToolResult:
        """Run one tool call."""
        return self.runner.run(ToolCall("call-1", tool, args))


def _fake_kicad_cli(directory: Path) -> Path:
    """An executable stand-in for kicad-cli that writes an empty JSON report."""
    script = directory / "kicad-cli"
    script.write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ]; do case "$1" in --output) out="$2"; shift 2;; *) shift;; esac; done\n'
        'printf \'{"violations": []}\' > "$out"\n'
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def world(tmp_path: Path) -> World:
    """The project, the outside world, and every kind of link leading out."""
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    tools = tmp_path / "tools"
    for directory in (root / "sch", outside / "deep", tools):
        directory.mkdir(parents=True)
    (root / "board.kicad_pcb").write_text("(kicad_pcb)\n")
    (root / "sch" / "main.kicad_sch").write_text("(kicad_sch)\n")
    (root / "notes.md").write_text("# notes\n")
    for name in ("secret.json", "x.trace_sch", "x.kicad_sch", "deep/secret.md"):
        (outside / name).write_text(f"{SECRET}\n")
    (root / "link_out.json").symlink_to(outside / "secret.json")
    (root / "rel_link_out.json").symlink_to(Path("..", "outside", "secret.json"))
    (root / "scratch.trace_sch").symlink_to(outside / "x.trace_sch")
    (root / "erc_out.kicad_sch").symlink_to(outside / "x.kicad_sch")
    (root / "dir_out").symlink_to(outside)
    (root / "sch" / "up").symlink_to(Path("..", ".."))
    (root / "dangling.json").symlink_to(outside / "not-yet.json")
    runner = LocalToolRunner(root, kicad_cli=str(_fake_kicad_cli(tools)))
    return World(tmp_path, root, outside, runner)


def _attacks(root: Path, outside: Path) -> list[tuple[str, Mapping[str, object]]]:
    """(tool, arguments) pairs that each try to leave the root."""
    out_abs = str(outside / "secret.json")
    long_name = "a" * 300 + ".json"
    long_path = "a/" * 2100 + "x.json"
    paths = [
        "../outside/secret.json",
        out_abs,
        "link_out.json",
        "rel_link_out.json",
        "dir_out/secret.json",
        "dir_out/deep/secret.md",
        "sch/up/outside/secret.json",
        "sch/../../outside/secret.json",
        "./../outside/secret.json",
        "notes.md\x00.json",
        long_name,
        long_path,
    ]
    writes = [
        f"{root}-sibling/new.json",  # shares the root's string prefix, not its directory
        "../project-sibling/new.json",
        "../outside/new.json",
        str(outside / "new.json"),
        "link_out.json",
        "dangling.json",
        "dir_out/new.json",
        "dir_out/newdir/new.json",
        "sch/up/outside/new.json",
        "new\x00.json",
        "new\ud800.json",
        long_name,
        long_path,
    ]
    attacks: list[tuple[str, Mapping[str, object]]] = []
    attacks += [("read_file", {"target_file": p}) for p in paths]
    attacks += [("write", {"file_path": p, "contents": "pwned"}) for p in writes]
    attacks += [
        ("search_replace", {"file_path": p, "old_string": SECRET, "new_string": "pwned"})
        for p in paths
    ]
    attacks += [
        ("delete_trace_file", {"filename": p})
        for p in (
            "../outside/x.trace_sch",
            str(outside / "x.trace_sch"),
            "scratch.trace_sch",
            "dir_out/x.trace_sch",
            "x\x00.trace_sch",
        )
    ]
    attacks += [
        ("list_dir", {"path": p}) for p in ("..", str(outside), "dir_out", "sch/up", "a\x00")
    ]
    attacks += [
        ("grep", {"pattern": SECRET, "path": p})
        for p in ("..", str(outside), "dir_out", "link_out.json", "sch/up")
    ]
    attacks += [
        ("get_erc_violations", {"file_path": p})
        for p in ("../outside/x.kicad_sch", "erc_out.kicad_sch", str(outside / "x.kicad_sch"))
    ]
    return attacks


_REFUSALS = (
    "is outside the project directory",
    "contains a NUL character",
    "is not valid Unicode",
    "has a name longer than",
    "is too long",
)
_ATTACK_IDS = [f"{tool}-{i}" for i, (tool, _) in enumerate(_attacks(Path("/p"), Path("/o")))]


@pytest.mark.parametrize("index", range(len(_ATTACK_IDS)), ids=_ATTACK_IDS)
def test_escape_attempt_is_refused_and_changes_nothing(world: World, index: int) -> None:
    """Each attack is an error result; the project and the outside are untouched."""
    tool, args = _attacks(world.root, world.outside)[index]
    before = snapshot(world.top)

    result = world.run(tool, **args)

    assert result.is_error, result.result
    # Refused by the sandbox, not an error of any kind (a crash is an error result too).
    assert result.result.startswith("path "), result.result
    assert any(reason in result.result for reason in _REFUSALS), result.result
    assert SECRET not in result.result
    assert snapshot(world.top) == before


def test_grep_over_the_root_does_not_follow_links_out(world: World) -> None:
    """Searching the whole project never reads through the links that lead outside."""
    result = world.run("grep", pattern=SECRET)

    assert not result.is_error
    assert result.result == "no matches"


def test_list_dir_marks_links_that_lead_outside(world: World) -> None:
    """Links out are shown with ``@``: visible, but no tool will follow them."""
    result = world.run("list_dir")

    lines = result.result.splitlines()
    assert "dir_out@" in lines
    assert "link_out.json@" in lines
    assert "sch/" in lines
    assert SECRET not in result.result


def test_links_inside_the_root_are_followed(world: World) -> None:
    """A symlink whose target stays inside the root is an ordinary path."""
    (world.root / "alias.kicad_sch").symlink_to(Path("sch", "main.kicad_sch"))
    (world.root / "sch_alias").symlink_to("sch")

    read = world.run("read_file", target_file="alias.kicad_sch")
    written = world.run("write", file_path="sch_alias/main.kicad_sch", contents="(new)\n")

    assert read.result == "     1|(kicad_sch)"
    assert not written.is_error
    assert (world.root / "sch" / "main.kicad_sch").read_text() == "(new)\n"
    assert (world.root / "sch_alias").is_symlink()


def test_dotdot_that_stays_inside_is_allowed(world: World) -> None:
    """``..`` is refused only when it escapes."""
    result = world.run("read_file", target_file="sch/../notes.md")

    assert result.result == "     1|# notes"


def test_absolute_path_inside_the_root_is_allowed(world: World) -> None:
    """Absolute paths are fine when they name something under the root."""
    result = world.run("read_file", target_file=str(world.root / "notes.md"))

    assert result.result == "     1|# notes"


def test_symlinked_root_is_resolved(tmp_path: Path) -> None:
    """A root given through a symlink still accepts absolute paths through either name."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.md").write_text("hi\n")
    alias = tmp_path / "alias"
    alias.symlink_to(real)
    runner = LocalToolRunner(alias)

    via_alias = runner.run(ToolCall("1", "read_file", {"target_file": str(alias / "a.md")}))
    via_real = runner.run(ToolCall("2", "read_file", {"target_file": str(real / "a.md")}))

    assert runner.root == real
    assert via_alias.result == via_real.result == "     1|hi"


_DIR_FD_MODES = [
    pytest.param(
        True,
        id="dir_fd",
        marks=pytest.mark.skipif(not platform_has_dir_fd(), reason="no dir_fd here"),
    ),
    pytest.param(False, id="by_path"),
]


@pytest.mark.parametrize("use_dir_fd", _DIR_FD_MODES)
def test_parent_swapped_for_a_link_after_resolution_is_not_followed(
    tmp_path: Path, use_dir_fd: bool
) -> None:
    """The race: a checked directory replaced by a link out before the write lands."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sch").mkdir(parents=True)
    outside.mkdir()
    sandbox = Sandbox(root, use_dir_fd=use_dir_fd)
    target = sandbox.resolve("sch/new.kicad_sch")
    (root / "sch").rename(root / "sch.moved")
    (root / "sch").symlink_to(outside)

    with pytest.raises(ToolError):
        atomic_write(sandbox, target, b"pwned")

    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("use_dir_fd", _DIR_FD_MODES)
def test_file_swapped_for_a_link_after_resolution_is_not_read(
    tmp_path: Path, use_dir_fd: bool
) -> None:
    """The race on the final name: a checked file replaced by a link out before reading."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "a.md").write_text("mine\n")
    (outside / "secret.md").write_text(SECRET)
    sandbox = Sandbox(root, use_dir_fd=use_dir_fd)
    target = sandbox.resolve("a.md")
    (root / "a.md").unlink()
    (root / "a.md").symlink_to(outside / "secret.md")

    with pytest.raises(ToolError), sandbox.open_regular(target) as file:
        file.read()


@pytest.mark.parametrize("use_dir_fd", _DIR_FD_MODES)
def test_write_to_a_name_swapped_for_a_link_is_refused(tmp_path: Path, use_dir_fd: bool) -> None:
    """A link appearing at the checked name is refused, never written through."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.json").write_text(SECRET)
    sandbox = Sandbox(root, use_dir_fd=use_dir_fd)
    target = sandbox.resolve("a.json")
    (root / "a.json").symlink_to(outside / "secret.json")

    with pytest.raises(ToolError):
        atomic_write(sandbox, target, b"pwned")

    assert (outside / "secret.json").read_text() == SECRET


def test_hard_link_to_an_outside_file_is_replaced_not_written_through(world: World) -> None:
    """Atomic replacement breaks a hard link instead of modifying the file it shares."""
    os.link(world.outside / "secret.json", world.root / "shared.json")

    result = world.run("write", file_path="shared.json", contents="new")

    assert not result.is_error
    assert (world.outside / "secret.json").read_text() == f"{SECRET}\n"
    assert (world.root / "shared.json").read_text() == "new"


_SEGMENTS = st.sampled_from(
    [
        "..",
        ".",
        "",
        "sch",
        "a.json",
        "x.kicad_sch",
        "dir_out",
        "link_out.json",
        "sch/up",
        "\x00",
        "é",
        "ü.md",
        "~",
        "a" * 256,
        "/",
        "\\",
        "new.trace_sch",
    ]
)
_RAW_PATHS = st.one_of(
    st.lists(_SEGMENTS, max_size=6).map("/".join),
    st.lists(_SEGMENTS, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.text(max_size=40),
    st.text(st.characters(codec=None, categories=["Cs", "Lu", "Po"]), max_size=10),
    st.text(min_size=4000, max_size=5000, alphabet="ab/."),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=_RAW_PATHS, absolute_prefix=st.booleans())
def test_random_paths_never_raise_and_never_touch_the_outside(
    world: World, raw: str, absolute_prefix: bool
) -> None:
    """Whatever the path string, read_file and write return a result and stay inside."""
    if absolute_prefix:
        raw = f"{world.root}/{raw}"
    outside_before = snapshot(world.outside)
    top_before = sorted(p.name for p in world.top.iterdir())

    read = world.run("read_file", target_file=raw)
    written = world.run("write", file_path=raw, contents="x")

    assert isinstance(read, ToolResult) and isinstance(written, ToolResult)
    # The runner turns any exception into an error result: "never raise" means no crash there.
    assert "failed unexpectedly" not in read.result, read.result
    assert "failed unexpectedly" not in written.result, written.result
    assert SECRET not in read.result
    assert snapshot(world.outside) == outside_before
    assert sorted(p.name for p in world.top.iterdir()) == top_before
    if not written.is_error:
        target = Path(os.path.realpath(world.root / raw))
        assert target.is_relative_to(world.root)
        assert target.read_text() == "x"
