"""Each local tool on real files: what it returns, what it changes, and how it fails."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.tools.local import LocalToolRunner
from domain.chat import ToolCall, ToolResult


def snapshot(top: Path) -> dict[str, bytes | str]:
    """Every file's bytes and every directory (and link target) under ``top``."""
    found: dict[str, bytes | str] = {}
    for directory, dirs, files in os.walk(top, followlinks=False):
        for name in dirs + files:
            path = Path(directory, name)
            key = path.relative_to(top).as_posix()
            if path.is_symlink():
                found[key] = f"link:{path.readlink()}"
            elif path.is_dir():
                found[key] = "dir"
            else:
                found[key] = path.read_bytes()
    return found


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project directory."""
    project = tmp_path / "project"
    project.mkdir()
    return project


@pytest.fixture
def runner(root: Path) -> LocalToolRunner:
    """A runner confined to ``root`` with no EDA engine."""
    return LocalToolRunner(root)


Run = Callable[..., ToolResult]


@pytest.fixture
def run(runner: LocalToolRunner) -> Run:
    """Run one tool call by name with keyword arguments."""

    def call(tool: str, **args: object) -> ToolResult:
        return runner.run(ToolCall("call-1", tool, args))

    return call


def ok(result: ToolResult) -> str:
    """The text of a successful result (fails the test on an error result)."""
    assert not result.is_error, result.result
    return result.result


def error(result: ToolResult) -> str:
    """The text of an error result (fails the test on success)."""
    assert result.is_error, result.result
    return result.result


# --- read_file ------------------------------------------------------------------------


def test_read_file_numbers_every_line(root: Path, run: Run) -> None:
    """Lines come back as ``{number:>6}|{text}``, endings stripped (LF and CRLF)."""
    (root / "a.kicad_sch").write_bytes(b"(kicad_sch\r\n  (version 1)\n)\n")

    result = ok(run("read_file", target_file="a.kicad_sch"))

    assert result == "     1|(kicad_sch\n     2|  (version 1)\n     3|)"


def test_read_file_accepts_file_path_and_the_call_id_is_echoed(root: Path) -> None:
    """``file_path`` is an alias of ``target_file``; the result answers the same call."""
    (root / "a.md").write_text("x\n")

    result = LocalToolRunner(root).run(ToolCall("id-42", "read_file", {"file_path": "a.md"}))

    assert result == ToolResult("id-42", "     1|x", False)


def test_read_file_offset_and_limit_select_lines(root: Path, run: Run) -> None:
    """``offset`` is 1-based; ``limit`` counts lines; a note says where to continue."""
    (root / "a.md").write_text("".join(f"line {n}\n" for n in range(1, 11)))

    result = ok(run("read_file", target_file="a.md", offset=4, limit=3))

    assert result.splitlines() == [
        "     4|line 4",
        "     5|line 5",
        "     6|line 6",
        "[more lines follow: continue with offset=7]",
    ]


def test_read_file_last_lines_have_no_continuation_note(root: Path, run: Run) -> None:
    """A range that reaches the end of the file says nothing more."""
    (root / "a.md").write_text("a\nb\nc")

    result = ok(run("read_file", target_file="a.md", offset=2, limit=5))

    assert result == "     2|b\n     3|c"


def test_read_file_offset_past_the_end_is_an_error(root: Path, run: Run) -> None:
    """The model learns how long the file is."""
    (root / "a.md").write_text("a\nb\n")

    (root / "b.md").write_text("a\nb")  # the last line has no newline
    (root / "c.md").write_text("a\n")

    for name in ("a.md", "b.md"):
        message = error(run("read_file", target_file=name, offset=5))
        assert message == f"offset 5 is past the end of {name!r} (2 lines)"
    assert error(run("read_file", target_file="c.md", offset=2)).endswith("(1 line)")
    assert ok(run("read_file", target_file="b.md", offset=2)) == "     2|b"


_LINES = st.lists(
    st.text(st.characters(exclude_characters="\n\r\x00", codec="utf-8"), max_size=12), max_size=30
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=_LINES,
    crlf=st.booleans(),
    final_newline=st.booleans(),
    offset=st.integers(1, 35),
    limit=st.none() | st.integers(1, 35),
)
def test_read_file_matches_a_reference_slice(
    root: Path,
    run: Run,
    lines: list[str],
    crlf: bool,
    final_newline: bool,
    offset: int,
    limit: int | None,
) -> None:
    """Any file, any range: exactly the lines a plain slice gives, numbered."""
    ending = "\r\n" if crlf else "\n"
    content = ending.join(lines) + (ending if final_newline and lines else "")
    (root / "a.md").write_bytes(content.encode())
    lines = content.split(ending)
    if lines[-1] == "":  # a final line ending ends the last line; it does not start one
        lines.pop()

    result = run("read_file", target_file="a.md", offset=offset, limit=limit)

    stop = len(lines) if limit is None else offset - 1 + limit
    expected = [f"{n:>6}|{lines[n - 1]}" for n in range(offset, min(stop, len(lines)) + 1)]
    if not lines:
        assert result.result == "[empty file]" if offset == 1 else result.is_error
    elif offset > len(lines):
        assert result.is_error and f"({len(lines)} line" in result.result
    else:
        more = (
            [f"[more lines follow: continue with offset={stop + 1}]"] if stop < len(lines) else []
        )
        assert ok(result).split("\n") == expected + more


def test_read_file_of_an_empty_file(root: Path, run: Run) -> None:
    """An empty file is not an error."""
    (root / "empty.md").write_bytes(b"")

    assert ok(run("read_file", target_file="empty.md")) == "[empty file]"


def test_read_file_refuses_binary_files(root: Path, run: Run) -> None:
    """A NUL byte in the first 8 KiB marks a binary file."""
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))

    message = error(run("read_file", target_file="logo.png"))

    assert "binary" in message


def test_read_file_refuses_hidden_files_even_through_a_link(root: Path, run: Run) -> None:
    """``.env`` and ``.git/config`` often hold credentials; a visible alias does not help."""
    (root / ".env").write_text("ANTHROPIC_API_KEY=sk-ant-canary\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("url = https://token@example.com\n")
    (root / "env.md").symlink_to(".env")

    for name in (".env", ".git/config", "env.md", "sub/../.env"):
        message = error(run("read_file", target_file=name))
        assert "hidden files and directories are off limits" in message
        assert "canary" not in message


def test_read_file_of_a_directory_or_missing_file_is_an_error(root: Path, run: Run) -> None:
    """I/O problems become messages naming the path relative to the root."""
    (root / "sub").mkdir()

    assert "is a directory" in error(run("read_file", target_file="sub"))
    assert "is a directory" in error(run("read_file", target_file="."))
    assert "'missing.md' does not exist" in error(run("read_file", target_file="missing.md"))


def test_read_file_does_not_hang_on_a_fifo(root: Path, run: Run) -> None:
    """Opening a named pipe would block forever; it is refused as not a regular file."""
    os.mkfifo(root / "pipe.md")

    message = error(run("read_file", target_file="pipe.md"))

    assert "not a regular file" in message


def _big_schematic(path: Path, size: int = 5 * 1024 * 1024) -> list[str]:
    """Write a schematic of about ``size`` bytes; return its lines."""
    lines: list[str] = []
    total = 0
    while total < size:
        line = f"    (wire (pts (xy {len(lines)} 25.4) (xy 101.6 25.4)) (stroke (width 0)))"
        lines.append(line)
        total += len(line) + 1
    path.write_text("\n".join(lines) + "\n")
    return lines


def test_read_file_range_deep_in_a_5mb_schematic_is_fast(root: Path, run: Run) -> None:
    """Lines are skipped by scanning for newlines, not decoded one by one."""
    lines = _big_schematic(root / "big.kicad_sch")
    middle = len(lines) // 2

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        result = ok(run("read_file", target_file="big.kicad_sch", offset=middle, limit=3))
        best = min(best, time.perf_counter() - started)

    assert result.splitlines()[:3] == [f"{n:>6}|{lines[n - 1]}" for n in range(middle, middle + 3)]
    assert best < 0.25  # the target is 50 ms; generous for a shared, busy CI machine


def test_read_file_output_is_capped_with_an_exact_note(root: Path) -> None:
    """Past ``max_result_chars`` the rest is counted (in characters, not bytes), not returned."""
    lines = [f'(property "Value" "{n} µΩ")' if n % 3 else f"(wire {n})" for n in range(6000)]
    (root / "big.kicad_sch").write_bytes("\r\n".join(lines).encode() + b"\n")
    runner = LocalToolRunner(root, max_result_chars=10_000)

    result = ok(runner.run(ToolCall("1", "read_file", {"target_file": "big.kicad_sch"})))

    full = "\n".join(f"{n:>6}|{line}" for n, line in enumerate(lines, start=1))
    body, note = result.rsplit("\n", 1)
    assert body == full[:10_000]
    assert note == f"[output truncated: {len(full) - 10_000} more characters]"


def test_read_file_stops_at_max_read_bytes(root: Path) -> None:
    """No more than ``max_read_bytes`` of a file are read, and the model is told."""
    (root / "a.md").write_text("".join(f"{n:04}\n" for n in range(1000)))  # 5 bytes a line
    runner = LocalToolRunner(root, max_read_bytes=52)

    head = ok(runner.run(ToolCall("1", "read_file", {"target_file": "a.md"})))
    beyond = runner.run(ToolCall("2", "read_file", {"target_file": "a.md", "offset": 500}))

    assert head.splitlines()[-2:] == [
        "    10|0009",
        "[stopped at the read limit of 52 bytes: later lines not shown]",
    ]
    assert "beyond the first 52 bytes" in error(beyond)


# --- write ---------------------------------------------------------------------------


def test_write_creates_a_file_and_its_directories(root: Path, run: Run) -> None:
    """Missing parent directories inside the root are created."""
    result = ok(run("write", file_path="lib/parts/r.kicad_sym", contents="(kicad_symbol_lib)\n"))

    assert result == "created lib/parts/r.kicad_sym (19 bytes)"
    assert (root / "lib" / "parts" / "r.kicad_sym").read_text() == "(kicad_symbol_lib)\n"


def test_write_replaces_and_keeps_the_mode(root: Path, run: Run) -> None:
    """An existing file's permission bits survive the atomic replacement."""
    target = root / "a.kicad_pcb"
    target.write_text("old")
    target.chmod(0o640)

    result = ok(run("write", file_path="a.kicad_pcb", contents="new"))

    assert result == "replaced a.kicad_pcb (3 bytes)"
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.fixture
def umask_027() -> Iterator[None]:
    """Run the test with umask 027, then restore the previous one."""
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_027")
def test_new_file_gets_0644_minus_the_umask(root: Path, run: Run) -> None:
    """New files start from 0644 and honour the umask."""
    ok(run("write", file_path="a.json", contents="{}"))

    assert stat.S_IMODE((root / "a.json").stat().st_mode) == 0o640


def test_write_leaves_no_temp_files(root: Path, run: Run) -> None:
    """Neither a successful nor a failed write leaves its temp file behind."""
    (root / "notes.md").write_text("x")
    (root / "dir.json").mkdir()

    ok(run("write", file_path="a.json", contents="{}"))
    error(run("write", file_path="dir.json", contents="{}"))
    error(run("write", file_path="notes.md/inner.json", contents="{}"))

    assert sorted(snapshot(root)) == ["a.json", "dir.json", "notes.md"]


def test_write_accepts_every_design_file_kind(root: Path, run: Run) -> None:
    """The listed extensions (any case) and the KiCad library tables are writable."""
    names = [
        "a.kicad_sch", "a.kicad_pcb", "a.kicad_sym", "a.kicad_mod", "a.trace_sch",
        "a.trace_pcb", "a.net", "a.csv", "a.json", "a.md", "B.JSON",
        "sym-lib-table", "fp-lib-table", "lib/fp-lib-table",
    ]  # fmt: skip
    for name in names:
        ok(run("write", file_path=name, contents="x"))

    assert all((root / name).read_text() == "x" for name in names)


@pytest.mark.parametrize(
    "name",
    [
        "run.py", "x.sh", "Makefile", "a.kicad_pro", "a.json.sh", "fp-lib-table.py",
        ".bashrc", ".hidden.json", ".git/config.json", ".vscode/settings.json",
        "package.json", "sub/composer.json", ".", "sub/",
    ],
)  # fmt: skip
def test_write_refuses_other_files(root: Path, run: Run, name: str) -> None:
    """Scripts, extensionless files, hidden paths and project settings are off limits."""
    (root / "sub").mkdir()
    (root / "run.py").write_text("print('mine')\n")
    before = snapshot(root)

    message = error(run("write", file_path=name, contents="pwned"))

    assert "refusing" in message
    assert snapshot(root) == before


def test_write_refuses_a_design_name_that_links_to_a_script(root: Path, run: Run) -> None:
    """The resolved target's name must qualify too."""
    (root / "tool.sh").write_text("echo mine\n")
    (root / "tool.json").symlink_to("tool.sh")
    before = snapshot(root)

    error(run("write", file_path="tool.json", contents="rm -rf ~"))

    assert snapshot(root) == before


def test_write_argument_errors(root: Path, run: Run) -> None:
    """Missing or ill-typed arguments are explained, nothing is written."""
    assert "missing required argument 'contents'" in error(run("write", file_path="a.json"))
    assert "must be a string, not int" in error(run("write", file_path="a.json", contents=3))
    assert "missing required argument 'file_path'" in error(run("write", contents="x"))
    assert snapshot(root) == {}


def test_write_accepts_empty_contents(root: Path, run: Run) -> None:
    """Emptying a file is a legitimate write."""
    ok(run("write", file_path="a.csv", contents=""))

    assert (root / "a.csv").read_bytes() == b""


# --- search_replace ------------------------------------------------------------------


def test_search_replace_one_match(root: Path, run: Run) -> None:
    """A unique ``old_string`` is replaced once."""
    (root / "a.kicad_sch").write_text('(property "Value" "10k")\n(property "Ref" "R1")\n')

    result = ok(
        run("search_replace", file_path="a.kicad_sch", old_string='"10k"', new_string='"4k7"')
    )

    assert result == "replaced 1 occurrence in a.kicad_sch"
    assert (root / "a.kicad_sch").read_text() == '(property "Value" "4k7")\n(property "Ref" "R1")\n'


def test_search_replace_no_match_is_an_error(root: Path, run: Run) -> None:
    """Zero matches change nothing."""
    (root / "a.md").write_text("alpha\n")

    message = error(run("search_replace", file_path="a.md", old_string="beta", new_string="x"))

    assert "not found" in message
    assert (root / "a.md").read_text() == "alpha\n"


def test_search_replace_several_matches_needs_replace_all(root: Path, run: Run) -> None:
    """Ambiguity is refused, saying how many matches there are."""
    (root / "a.md").write_text("R1 R1 R1\n")

    message = error(run("search_replace", file_path="a.md", old_string="R1", new_string="R2"))

    assert "3 times" in message
    assert (root / "a.md").read_text() == "R1 R1 R1\n"


def test_search_replace_replace_all(root: Path, run: Run) -> None:
    """``replace_all`` replaces every occurrence (a JSON-ish string "true" works too)."""
    (root / "a.md").write_text("R1 R1 R1\n")

    result = ok(
        run(
            "search_replace", file_path="a.md", old_string="R1", new_string="R2", replace_all="true"
        )
    )

    assert result == "replaced 3 occurrences in a.md"
    assert (root / "a.md").read_text() == "R2 R2 R2\n"


def test_search_replace_matches_lf_text_in_a_crlf_file(root: Path, run: Run) -> None:
    """Models send ``\\n``; files saved on Windows keep their ``\\r\\n``."""
    (root / "a.md").write_bytes(b"one\r\ntwo\r\nthree\r\n")

    ok(run("search_replace", file_path="a.md", old_string="one\ntwo", new_string="1\n2"))

    assert (root / "a.md").read_bytes() == b"1\r\n2\r\nthree\r\n"


def test_search_replace_keeps_bytes_that_are_not_utf8(root: Path, run: Run) -> None:
    """A Latin-1 byte elsewhere in the file survives the edit unchanged."""
    (root / "a.csv").write_bytes(b"name;value\nR\xb5;10\nC1;1u\n")

    ok(run("search_replace", file_path="a.csv", old_string="C1;1u", new_string="C1;2u2"))

    assert (root / "a.csv").read_bytes() == b"name;value\nR\xb5;10\nC1;2u2\n"


def test_search_replace_refusals(root: Path, run: Run) -> None:
    """Identical strings, empty old_string, missing files, scripts and binaries are refused."""
    (root / "a.md").write_text("x\n")
    (root / "run.py").write_text("x\n")
    (root / "bin.csv").write_bytes(b"x\x00y")
    before = snapshot(root)

    assert "identical" in error(
        run("search_replace", file_path="a.md", old_string="x", new_string="x")
    )
    assert "must not be empty" in error(
        run("search_replace", file_path="a.md", old_string="", new_string="y")
    )
    assert "does not exist" in error(
        run("search_replace", file_path="no.md", old_string="x", new_string="y")
    )
    assert "refusing" in error(
        run("search_replace", file_path="run.py", old_string="x", new_string="y")
    )
    assert "binary" in error(
        run("search_replace", file_path="bin.csv", old_string="x", new_string="z")
    )
    assert "true or false" in error(
        run("search_replace", file_path="a.md", old_string="x", new_string="y", replace_all="yes")
    )
    assert snapshot(root) == before


# --- list_dir -------------------------------------------------------------------------


def test_list_dir_sorts_and_marks_directories(root: Path, run: Run) -> None:
    """Entries are sorted by name; directories end in ``/``; hidden ones are only counted."""
    for name in ("b.kicad_sch", "a.kicad_pro", ".git/HEAD", "lib/x.kicad_sym"):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text("x")

    assert ok(run("list_dir")).splitlines() == [
        "a.kicad_pro",
        "b.kicad_sch",
        "lib/",
        "[1 hidden entry not shown]",
    ]
    assert ok(run("list_dir", path="lib")) == "x.kicad_sym"


def test_list_dir_of_an_empty_directory_or_a_file(root: Path, run: Run) -> None:
    """An empty directory is said to be empty; a file is the wrong argument."""
    (root / "empty").mkdir()
    (root / "a.md").write_text("x")

    assert ok(run("list_dir", path="empty")) == "[empty directory]"
    assert "is a file" in error(run("list_dir", path="a.md"))
    assert "does not exist" in error(run("list_dir", path="nope"))


def test_list_dir_caps_the_number_of_entries(root: Path, run: Run) -> None:
    """A huge directory is listed up to the cap, with the rest counted."""
    for n in range(1005):
        (root / f"f{n:04}.csv").touch()

    lines = ok(run("list_dir")).splitlines()

    assert len(lines) == 1001
    assert lines[-1] == "[5 more entries not shown]"


# --- grep -----------------------------------------------------------------------------


@pytest.fixture
def tree(root: Path) -> Path:
    """A small project with text, binary and hidden files."""
    (root / "sch").mkdir()
    (root / ".git").mkdir()
    (root / "a.kicad_sch").write_text("(symbol R1)\n(value 10k)\n(symbol R2)\n(value 1k)\n")
    (root / "sch" / "b.kicad_sch").write_text("nothing\n(SYMBOL U1)\n")
    (root / ".git" / "c.kicad_sch").write_text("(symbol hidden)\n")
    (root / ".hidden.md").write_text("(symbol hidden)\n")
    (root / "logo.png").write_bytes(b"(symbol\x00binary)")
    return root


def test_grep_content_mode(tree: Path, run: Run) -> None:
    """``path:line:text`` per match, files in name order, hidden and binary skipped."""
    result = ok(run("grep", pattern=r"symbol R\d"))

    assert result.splitlines() == ["a.kicad_sch:1:(symbol R1)", "a.kicad_sch:3:(symbol R2)"]


def test_grep_ignore_case(tree: Path, run: Run) -> None:
    """``i`` makes the pattern case-insensitive."""
    result = ok(run("grep", pattern="symbol u1", i=True))

    assert result == "sch/b.kicad_sch:2:(SYMBOL U1)"


def test_grep_files_with_matches_and_count(tree: Path, run: Run) -> None:
    """The other output modes: one path a line, or ``path:N``."""
    files = ok(run("grep", pattern="(?i)symbol", output_mode="files_with_matches"))
    counts = ok(run("grep", pattern="(?i)symbol", output_mode="count"))

    assert files.splitlines() == ["a.kicad_sch", "sch/b.kicad_sch"]
    assert counts.splitlines() == ["a.kicad_sch:2", "sch/b.kicad_sch:1"]


def test_grep_context_lines(root: Path, run: Run) -> None:
    """Context lines use ``-``; non-adjacent groups are separated by ``--``."""
    (root / "a.md").write_text("".join(f"l{n}\n" for n in range(1, 11)))

    result = ok(run("grep", pattern="^l(2|8)$", path="a.md", C=1))
    after = ok(run("grep", pattern="^l2$", path="a.md", A=2))

    assert result.splitlines() == [
        "a.md-1-l1", "a.md:2:l2", "a.md-3-l3", "--", "a.md-7-l7", "a.md:8:l8", "a.md-9-l9",
    ]  # fmt: skip
    assert after.splitlines() == ["a.md:2:l2", "a.md-3-l3", "a.md-4-l4"]


def test_grep_head_limit(root: Path, run: Run) -> None:
    """``head_limit`` keeps the first N lines and says there may be more."""
    (root / "a.md").write_text("x\n" * 10)

    result = ok(run("grep", pattern="x", head_limit=2))

    assert result.splitlines() == [
        "a.md:1:x",
        "a.md:2:x",
        "[head_limit 2 reached: more results may exist]",
    ]


def test_grep_no_match_and_bad_pattern(tree: Path, run: Run) -> None:
    """No match is a normal answer; an invalid regex is an error."""
    assert ok(run("grep", pattern="zzz")) == "no matches"
    assert "invalid regular expression" in error(run("grep", pattern="(unclosed"))
    assert "must be one of" in error(run("grep", pattern="x", output_mode="lines"))


def test_grep_refuses_an_explicit_hidden_path(tree: Path, run: Run) -> None:
    """Hidden directories are skipped while walking and refused when named."""
    assert "refusing to search '.git'" in error(run("grep", pattern="hidden", path=".git"))
    assert "refusing" in error(run("grep", pattern="hidden", path=".hidden.md"))


def test_grep_counts_skipped_large_files(root: Path) -> None:
    """Files over ``max_read_bytes`` are skipped with a note."""
    (root / "small.md").write_text("needle\n")
    (root / "large.md").write_text("needle\n" * 100)
    runner = LocalToolRunner(root, max_read_bytes=100)

    result = ok(runner.run(ToolCall("1", "grep", {"pattern": "needle"})))

    assert result.splitlines() == ["small.md:1:needle", "[skipped 1 files larger than 100 bytes]"]


# --- delete_trace_file ------------------------------------------------------------------


def test_delete_trace_file(root: Path, run: Run) -> None:
    """Trace scratch files can be deleted, by either argument name."""
    (root / "a.trace_sch").write_text("x")
    (root / "sub").mkdir()
    (root / "sub" / "b.trace_pcb").write_text("x")

    assert ok(run("delete_trace_file", filename="a.trace_sch")) == "deleted a.trace_sch"
    assert ok(run("delete_trace_file", file_name="sub/b.trace_pcb")) == "deleted sub/b.trace_pcb"
    assert snapshot(root) == {"sub": "dir"}


def test_delete_trace_file_refuses_the_users_files(root: Path, run: Run) -> None:
    """Design files, directories and links to design files are never deleted."""
    (root / "main.kicad_sch").write_text("x")
    (root / "dir.trace_sch").mkdir()
    (root / "link.trace_sch").symlink_to("main.kicad_sch")
    before = snapshot(root)

    assert "refusing" in error(run("delete_trace_file", filename="main.kicad_sch"))
    assert "refusing" in error(run("delete_trace_file", filename="link.trace_sch"))
    assert "directory" in error(run("delete_trace_file", filename="dir.trace_sch"))
    assert "does not exist" in error(run("delete_trace_file", filename="gone.trace_sch"))
    assert snapshot(root) == before


# --- ERC / DRC ----------------------------------------------------------------------------


def test_erc_without_an_engine_names_the_fix(root: Path, run: Run) -> None:
    """No kicad-cli: an error telling the user to install KiCad."""
    (root / "a.kicad_sch").write_text("(kicad_sch)")

    for tool in ("get_erc_violations", "get_drc_violations"):
        message = error(run(tool, file_path="a.kicad_sch"))
        assert message == "no EDA engine installed: install KiCad 8+ (kicad-cli) to run ERC/DRC"


def _script(directory: Path, body: str) -> str:
    """An executable shell script named kicad-cli in ``directory``."""
    directory.mkdir(exist_ok=True)
    script = directory / "kicad-cli"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return str(script)


_REPORTING_CLI = """
echo "$@" > "$(dirname "$0")/args"
while [ $# -gt 0 ]; do
  case "$1" in --output) out="$2"; shift 2;; *) file="$1"; shift;; esac
done
printf '{"source": "%s", "violations": [{"type": "pin_not_connected"}]}' "$file" > "$out"
echo "Running checks..."
"""


def test_erc_returns_the_engine_json_report(root: Path, tmp_path: Path) -> None:
    """The report kicad-cli writes is returned as is; nothing is written into the project."""
    (root / "a.kicad_sch").write_text("(kicad_sch)")
    cli = _script(tmp_path / "bin", _REPORTING_CLI)
    runner = LocalToolRunner(root, kicad_cli=cli)
    before = snapshot(root)

    result = ok(runner.run(ToolCall("1", "get_erc_violations", {"file_path": "a.kicad_sch"})))

    report = json.loads(result)
    assert report == {
        "source": str(root / "a.kicad_sch"),
        "violations": [{"type": "pin_not_connected"}],
    }
    args = (tmp_path / "bin" / "args").read_text().split()
    assert args[:5] == ["sch", "erc", "--format", "json", "--output"]
    assert not Path(args[5]).is_relative_to(root)
    assert snapshot(root) == before


def test_drc_defaults_to_the_projects_board(root: Path, tmp_path: Path) -> None:
    """Without a file, the board named like the .kicad_pro is checked."""
    for name in ("amp.kicad_pro", "amp.kicad_pcb", "old.kicad_pcb"):
        (root / name).write_text("x")
    runner = LocalToolRunner(root, kicad_cli=_script(tmp_path / "bin", _REPORTING_CLI))

    result = ok(runner.run(ToolCall("1", "get_drc_violations", {})))

    assert json.loads(result)["source"] == str(root / "amp.kicad_pcb")
    assert (tmp_path / "bin" / "args").read_text().split()[:2] == ["pcb", "drc"]


def test_erc_default_file_errors(root: Path, tmp_path: Path) -> None:
    """No schematic, or several without a project to choose, asks for file_path."""
    runner = LocalToolRunner(root, kicad_cli=_script(tmp_path / "bin", _REPORTING_CLI))
    call = ToolCall("1", "get_erc_violations", {})

    assert "no .kicad_sch" in error(runner.run(call))
    (root / "a.kicad_sch").write_text("x")
    (root / "b.kicad_sch").write_text("x")
    assert "several schematics" in error(runner.run(call))


def test_erc_wrong_kind_of_file(root: Path, tmp_path: Path) -> None:
    """ERC takes a schematic, DRC a board."""
    (root / "a.kicad_pcb").write_text("x")
    runner = LocalToolRunner(root, kicad_cli=_script(tmp_path / "bin", _REPORTING_CLI))

    result = runner.run(ToolCall("1", "get_erc_violations", {"file_path": "a.kicad_pcb"}))

    assert "ERC needs a .kicad_sch" in error(result)


def test_erc_engine_failure_reports_its_stderr(root: Path, tmp_path: Path) -> None:
    """A non-zero exit is an error carrying the engine's own words."""
    (root / "a.kicad_sch").write_text("x")
    cli = _script(tmp_path / "bin", 'echo "Failed to load schematic" >&2\nexit 3\n')
    runner = LocalToolRunner(root, kicad_cli=cli)

    message = error(runner.run(ToolCall("1", "get_erc_violations", {"file_path": "a.kicad_sch"})))

    assert message == "kicad-cli sch erc failed (exit status 3): Failed to load schematic"


def test_erc_report_that_is_not_json(root: Path, tmp_path: Path) -> None:
    """A garbled report is an error, not passed on as if valid."""
    (root / "a.kicad_sch").write_text("x")
    body = 'while [ $# -gt 0 ]; do [ "$1" = --output ] && o="$2"; shift; done\necho nope > "$o"\n'
    runner = LocalToolRunner(root, kicad_cli=_script(tmp_path / "bin", body))

    message = error(runner.run(ToolCall("1", "get_erc_violations", {"file_path": "a.kicad_sch"})))

    assert "not JSON" in message


def test_erc_engine_that_hangs_is_stopped(root: Path, tmp_path: Path) -> None:
    """The timeout kills the engine and the children it started."""
    (root / "a.kicad_sch").write_text("x")
    cli = _script(tmp_path / "bin", "sleep 30\n")
    runner = LocalToolRunner(root, kicad_cli=cli, eda_timeout=0.5)

    started = time.monotonic()
    message = error(runner.run(ToolCall("1", "get_erc_violations", {"file_path": "a.kicad_sch"})))

    assert "did not finish within 0.5 s" in message
    assert time.monotonic() - started < 10


def test_erc_engine_that_cannot_start(root: Path, tmp_path: Path) -> None:
    """A kicad-cli path that does not exist is an error result."""
    (root / "a.kicad_sch").write_text("x")
    runner = LocalToolRunner(root, kicad_cli=str(tmp_path / "missing" / "kicad-cli"))

    message = error(runner.run(ToolCall("1", "get_erc_violations", {"file_path": "a.kicad_sch"})))

    assert message.startswith("cannot run the EDA engine")


# --- dispatch and arguments ----------------------------------------------------------------


def test_unknown_tool_is_an_error_listing_the_tools(run: Run) -> None:
    """The model learns which tools exist."""
    message = error(run("rm_rf"))

    assert message.startswith("unknown tool 'rm_rf'")
    assert "read_file" in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, "missing required argument 'target_file' or 'file_path'"),
        ({"target_file": 7}, "must be a string, not int"),
        ({"target_file": "a.md", "offset": "x"}, "must be a whole number"),
        ({"target_file": "a.md", "offset": True}, "must be a whole number"),
        ({"target_file": "a.md", "offset": 0}, "must be at least 1"),
        ({"target_file": "a.md", "limit": -1}, "must be at least 1"),
        ({"target_file": "a.md", "file_path": "b.md"}, "disagree"),
    ],
)
def test_bad_arguments_are_error_results(
    root: Path, run: Run, args: dict[str, object], expected: str
) -> None:
    """Each argument problem is named for the model."""
    (root / "a.md").write_text("x\n")

    assert expected in error(run("read_file", **args))


def test_arguments_that_are_not_an_object(runner: LocalToolRunner) -> None:
    """A backend sending a list instead of an object gets an error, not a crash."""
    call = ToolCall("1", "read_file", ["a.md"])  # type: ignore[arg-type]

    assert "must be a JSON object" in error(runner.run(call))


def test_numbers_as_strings_and_floats_are_accepted(root: Path, run: Run) -> None:
    """Models sometimes send ``"2"`` or ``2.0`` for an integer."""
    (root / "a.md").write_text("a\nb\nc\n")

    assert ok(run("read_file", target_file="a.md", offset="2", limit=1.0)).startswith("     2|b")


def test_a_missing_project_directory_is_an_error_result(tmp_path: Path) -> None:
    """The runner can be built before the directory exists; calls then fail cleanly."""
    runner = LocalToolRunner(tmp_path / "not-yet")

    for tool, args in [("list_dir", {}), ("write", {"file_path": "a.md", "contents": "x"})]:
        assert "does not exist" in error(runner.run(ToolCall("1", tool, args)))
    assert not (tmp_path / "not-yet").exists()


# --- concurrency -------------------------------------------------------------------------


def _in_threads(count: int, work: Callable[[int], ToolResult]) -> list[ToolResult]:
    """Run ``work(i)`` for i in range(count) on threads released together."""
    barrier = threading.Barrier(count)
    results: list[ToolResult | None] = [None] * count

    def body(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def test_concurrent_edits_of_one_file_are_serialised(root: Path, runner: LocalToolRunner) -> None:
    """Eight read-modify-writes on one anchor: none is lost."""
    (root / "a.kicad_sch").write_text("(kicad_sch\n  ANCHOR\n)\n")

    def edit(i: int) -> ToolResult:
        args = {
            "file_path": "a.kicad_sch",
            "old_string": "ANCHOR",
            "new_string": f"(m{i})\n  ANCHOR",
        }
        return runner.run(ToolCall(str(i), "search_replace", args))

    results = _in_threads(8, edit)

    assert all(not r.is_error for r in results), [r.result for r in results]
    text = (root / "a.kicad_sch").read_text()
    assert all(text.count(f"(m{i})") == 1 for i in range(8))
    assert text.count("ANCHOR") == 1
    assert sorted(p.name for p in root.iterdir()) == ["a.kicad_sch"]


def test_concurrent_whole_writes_leave_one_complete_version(
    root: Path, runner: LocalToolRunner
) -> None:
    """Readers and the final state see one writer's full content, never a mix."""
    versions = [f"({i})" * 50_000 for i in range(8)]

    def write_or_read(i: int) -> ToolResult:
        if i % 2:
            return runner.run(ToolCall(str(i), "read_file", {"target_file": "a.json"}))
        return runner.run(
            ToolCall(str(i), "write", {"file_path": "a.json", "contents": versions[i]})
        )

    (root / "a.json").write_text(versions[1])
    results = _in_threads(8, write_or_read)

    assert (root / "a.json").read_text() in versions
    for result in results[1::2]:
        line = result.result.splitlines()[0]
        assert line.startswith("     1|(")
        assert len(set(re.findall(r"\((\d)\)", line))) == 1


def test_concurrent_calls_on_different_files_all_succeed(
    root: Path, runner: LocalToolRunner
) -> None:
    """Eight writes to eight files in a new directory, at once."""

    def write(i: int) -> ToolResult:
        args = {"file_path": f"out/deep/f{i}.csv", "contents": f"row,{i}\n"}
        return runner.run(ToolCall(str(i), "write", args))

    results = _in_threads(8, write)

    assert all(not r.is_error for r in results), [r.result for r in results]
    assert all((root / "out" / "deep" / f"f{i}.csv").read_text() == f"row,{i}\n" for i in range(8))


def test_kicad_cli_is_found_only_in_absolute_path_entries_outside_the_project(
    tmp_path: Path,
) -> None:
    from adapters.tools.local.runner import find_program

    project = tmp_path / "project"
    (project / "bin").mkdir(parents=True)
    system = tmp_path / "system-bin"
    system.mkdir()
    for directory in (project, project / "bin", system):
        engine = directory / "kicad-cli"
        engine.write_text("#!/bin/sh\n")
        engine.chmod(0o755)
    (tmp_path / "not-executable").mkdir()
    (tmp_path / "not-executable" / "kicad-cli").write_text("")

    path = os.pathsep.join(
        ["", "bin", str(project / "bin"), str(tmp_path / "not-executable"), str(system)]
    )
    assert find_program("kicad-cli", path, project) == str(system / "kicad-cli")
    assert find_program("kicad-cli", os.pathsep.join(["", str(project)]), project) is None
