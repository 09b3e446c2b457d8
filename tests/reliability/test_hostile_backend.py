"""Hostile backend: the Trace backend (and the model behind it) is the attacker.

The installed CLI (a subprocess) and the SDK run against the real local protocol
server, scripted to do what a compromised or confused backend could: ask for writing
tools in ``ask`` and ``plan`` mode, flood the event stream (40 MiB of empty ``data:``
lines, comment lines, other fields, a line that never ends, a million tiny events,
one event of the maximum size), ask for thousands of tool calls, send terminal
escape sequences (OSC 52 clipboard writes, text hidden by CR, C1 controls, bidi
overrides, lone surrogates) in every event, echo the user's provider key and Trace
token back (whole, truncated, split across text deltas, nested in ``file_edit`` and
``metrics`` data, in tool arguments), and send numbers JSON cannot carry (``NaN``,
``Infinity``). The properties: the mode is enforced locally, parsing stays linear
and memory stays under 200 MiB, nothing but newline and tab reaches the terminal,
no run of 8 characters of a secret reaches any output or file, and ``--json`` output
is always valid JSON (RFC 8259).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.backend.http.sse import MAX_EVENT_BYTES
from entrypoints.sdk import ChatFinished, TextDelta, ToolFinished, Trace
from tests.e2e.cli_runner import CLI, CliResult, child_env, run
from tests.reliability.plugin import Figures
from tests.support import protocol_server as ps
from tests.support.files import REPO_ROOT
from tests.support.protocol_server import TOKEN, ProtocolServer

pytestmark = pytest.mark.reliability

KEY = "sk-ant-api03-hostileBackendKey0123456789abcdefghijKLMNOPQRST-WXYZ"
SCHEMATIC = "board.kicad_sch"
ORIGINAL = (
    '(kicad_sch (version 20231120)\n  (symbol (lib_id "Device:R") (property "Value" "10k"))\n)\n'
)
MEMORY_CEILING_MIB = 200
RUN = 8  # a run of this many characters of a secret counts as a leak (domain.masking)
# Everything a terminal may act on, except newline and tab: C0, DEL, C1, bidi overrides
# and isolates, and lone surrogates (which crash an UTF-8 writer).
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
NASTY = [
    OSC52,
    "shown\rhidden by a carriage return",
    "\x1b[2J\x1b[31mred\x1b[0m",
    "\x9b31mC1 CSI\x9c",
    "del\x7f bell\x07 backspace\x08",
    "bidi \u202eevil\u202c \u2066iso\u2069",
]


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def server(protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch) -> ProtocolServer:
    """The protocol server; the CLI children find it and the login through the environment."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    return protocol_server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A KiCad project directory with one schematic."""
    root = tmp_path / "board"
    root.mkdir()
    (root / SCHEMATIC).write_text(ORIGINAL, encoding="utf-8")
    return root


@pytest.fixture
def byok(monkeypatch: pytest.MonkeyPatch) -> str:
    """The user's Anthropic key in the environment, anthropic active: every chat sends KEY."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    result = run(["byok", "use", "anthropic"])
    assert result.code == 0, result
    return KEY


def chat(project: Path, *args: str) -> CliResult:
    """``buildwithtrace chat ARGS --project PROJECT``."""
    return run(["chat", *args, "--project", str(project)])


def secret_runs(secret: str, text: str, length: int = RUN) -> list[str]:
    """Every run of ``length`` characters of ``secret`` found in ``text``."""
    return sorted(
        {secret[i : i + length] for i in range(len(secret) - length + 1)}
        & {text[i : i + length] for i in range(len(text) - length + 1)}
    )


def forbidden(text: str) -> list[str]:
    """The terminal controls in ``text`` (as escapes, for the assertion message)."""
    return sorted({repr(m.group()) for m in FORBIDDEN.finditer(text)})


def strict_json(line: str) -> Any:
    """``line`` parsed as RFC 8259 JSON: NaN and Infinity are refused."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    value = json.loads(line, parse_constant=refuse)
    for number in _numbers(value):
        assert math.isfinite(number), line
    return value


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def json_lines(result: CliResult) -> list[dict[str, Any]]:
    """Every stdout line of a ``--json`` chat, each parsed strictly."""
    return [strict_json(line) for line in result.stdout.splitlines()]


def spawned(argv: list[str], out: Path, timeout: float = 600) -> dict[str, Any]:
    """Run ``argv`` through the ``spawn`` probe (stdout to ``out``, stderr next to it).

    Its exit code and peak memory, measured from a small process (see
    tests/reliability/probes.py): started straight from this one, the child would report
    this process's peak.
    """
    err = out.with_suffix(".err")
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.probes", "spawn", str(out), str(err), *argv],
        cwd=REPO_ROOT,
        env={**child_env(), "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    found["stderr"] = err.read_text(encoding="utf-8", errors="replace")
    return found


def measured_cli(args: list[str], out: Path) -> tuple[int, float, str]:
    """Run the CLI with stdout to ``out``; exit code, peak memory (MiB) and stderr."""
    found = spawned([str(CLI), *args], out)
    return found["code"], found["peak_mib"], found["stderr"]


def probe(tmp_path: Path, *args: str, timeout: float = 600) -> dict[str, Any]:
    """Run ``python -m tests.reliability.probes ARGS``: its JSON line, with its peak memory."""
    out = tmp_path / "probe.json"
    run = spawned([sys.executable, "-m", "tests.reliability.probes", *args], out, timeout)
    assert run["code"] == 0, run["stderr"]
    found: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    found["peak_mib"] = run["peak_mib"]
    return found


# --- A. the mode is enforced locally (issue 10, class 3) -------------------------------------

WRITING_CALLS = [
    ps.tool_call("w-write", "write", {"file_path": SCHEMATIC, "contents": "(kicad_sch pwned)\n"}),
    ps.tool_call(
        "w-replace",
        "search_replace",
        {"file_path": SCHEMATIC, "old_string": '"10k"', "new_string": '"4k7"'},
    ),
    ps.tool_call("w-delete", "delete_trace_file", {"filename": SCHEMATIC}),
    ps.tool_call("w-shell", "run_shell", {"command": "rm -rf ~"}),
]


@pytest.mark.parametrize("mode", [None, "ask", "plan"])
def test_ask_and_plan_never_run_a_writing_tool_whatever_the_backend_sends(
    server: ProtocolServer, project: Path, mode: str | None
) -> None:
    """In ``ask`` (the default, also when --mode is not given) and ``plan``, the backend's
    ``write``, ``search_replace``, ``delete_trace_file`` and an unknown tool get an error
    result naming the mode and ``--mode agent``, posted back and never run; ``read_file``
    still runs; the schematic is untouched."""
    server.add_turn(
        *WRITING_CALLS,
        ps.tool_call("r-read", "read_file", {"target_file": SCHEMATIC}),
        ps.done("conv-mode"),
    )

    result = chat(project, "What is R1?", *(["--mode", mode] if mode else []), "--json")

    assert result.code == 0, result
    assert (project / SCHEMATIC).read_text(encoding="utf-8") == ORIGINAL
    assert sorted(p.name for p in project.iterdir()) == [SCHEMATIC]
    posted = {r["tool_call_id"]: r for r in server.tool_results}
    shown = mode or "ask"
    for call_id in ("w-write", "w-replace", "w-delete", "w-shell"):
        assert posted[call_id].get("is_error") is True, posted[call_id]
        assert f"{shown} mode" in posted[call_id]["result"], posted[call_id]
        assert "--mode agent" in posted[call_id]["result"], posted[call_id]
    assert "is_error" not in posted["r-read"]
    assert "Device:R" in posted["r-read"]["result"]
    lines = [line for line in json_lines(result) if line["type"] == "tool_result"]
    assert {line["tool_call_id"]: line["is_error"] for line in lines} == {
        "w-write": True,
        "w-replace": True,
        "w-delete": True,
        "w-shell": True,
        "r-read": False,
    }


def test_agent_mode_still_edits(server: ProtocolServer, project: Path) -> None:
    """The control case: ``--mode agent`` lets the same ``search_replace`` edit the schematic."""
    server.add_turn(WRITING_CALLS[1], ps.done())

    result = chat(project, "Make R1 4k7", "--mode", "agent")

    assert result.code == 0, result
    assert '"4k7"' in (project / SCHEMATIC).read_text(encoding="utf-8")


def test_sdk_plan_mode_refuses_writes_and_the_reply_says_so(
    server: ProtocolServer, project: Path
) -> None:
    """The SDK shares the rule: ``mode="plan"`` refuses the writes, the reply lists them failed."""
    server.add_turn(*WRITING_CALLS, ps.done())

    with Trace(project_dir=project) as trace:
        reply = trace.chat("plan it", mode="plan")

    assert (project / SCHEMATIC).read_text(encoding="utf-8") == ORIGINAL
    assert [run.is_error for run in reply.tool_runs] == [True, True, True, True]
    assert all("plan mode" in r["result"] for r in server.tool_results)


def test_chat_help_says_what_each_mode_may_do() -> None:
    """``chat --help`` no longer says "ask: answer only" while ask ran writes; it names the rule."""
    result = run(["chat", "--help"])

    assert result.code == 0, result
    text = " ".join(result.stdout.split())
    assert "ask: answers questions; its tools only read files" in text
    assert "plan: plans changes without making them; its tools only read files" in text
    assert "agent: may also edit design files in the project" in text


# --- B. memory and CPU stay bounded (issue 10, class 5) -------------------------------------


@pytest.mark.parametrize(
    ("stream", "refused"),
    [
        ("empty-data-lines", True),
        ("comment-lines", True),
        ("other-fields", True),
        ("endless-comment", True),
        ("tiny-events", False),
        ("max-event", False),
        ("max-event-wide", True),
        ("max-event-escaped", True),
    ],
)
def test_the_sse_parser_is_linear_and_bounded_on_hostile_streams(
    figures: Figures, tmp_path: Path, stream: str, refused: bool
) -> None:
    """Each flood (40 MiB of empty ``data:`` lines: 36 s and 608 MiB before the fix; comment
    lines, other fields, a line that never ends) is refused with ProtocolError once the bytes
    since the last event pass the cap, every byte counted; a million tiny events and one event
    of the maximum size decode; the same event with one emoji (raw or escaped), which Python
    would hold at 4 bytes a character, is refused once decoded. Peak memory stays under
    200 MiB, in a fresh process."""
    found = probe(tmp_path, "sse", stream)

    figures.peak(f"{stream}_s", found["seconds"])
    figures.peak(f"{stream}_peak_mib", found["peak_mib"])
    if refused:
        assert found["error"] is not None and found["error"].startswith("ProtocolError"), found
    else:
        assert found["error"] is None, found
        assert found["events"] > 0, found
    assert found["peak_mib"] < MEMORY_CEILING_MIB, found
    assert found["seconds"] < 30, found  # minutes would be quadratic; ~1-2 s expected


def test_a_flood_of_empty_data_lines_ends_the_cli_with_a_protocol_error(
    server: ProtocolServer, project: Path, tmp_path: Path, figures: Figures
) -> None:
    """The CLI reading 40 MiB of empty ``data:`` lines over HTTP stops with exit 4 and a
    message naming the cap, under 200 MiB."""
    server.add_turn(ps.raw("data: {}\n" + "data:\n" * (40 * 1024 * 1024 // 6) + "\n"), ps.done())

    code, peak, stderr = measured_cli(
        ["chat", "hi", "--project", str(project)], tmp_path / "out.txt"
    )

    figures.peak("cli_empty_lines_peak_mib", peak)
    assert code == 4, stderr
    assert f"larger than {MAX_EVENT_BYTES // (1024 * 1024)} MiB" in stderr
    assert peak < MEMORY_CEILING_MIB


MAX_CHARS = MAX_EVENT_BYTES - 4096
EVENTS = {
    # name: (text content, exit code)
    "ascii": ("y" * MAX_CHARS, 0),
    # One emoji makes Python hold every character in 4 bytes: a quarter as many fit.
    "wide": ("\U0001f600" + "y" * (MAX_CHARS // 4 - 1024), 0),
    "too-wide": ("\U0001f600" + "y" * MAX_CHARS, 4),
}


@pytest.mark.parametrize("output", ["--text", "--json"])
@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_one_event_of_the_maximum_size_stays_under_the_ceiling(
    server: ProtocolServer,
    project: Path,
    tmp_path: Path,
    figures: Figures,
    output: str,
    kind: str,
) -> None:
    """A ``text_delta`` just under the cap (ASCII; one emoji and a quarter as many characters,
    so Python holds it at 4 bytes a character; one emoji and the full size, refused once
    decoded), printed by the CLI as text and as JSON: the peak stays under 200 MiB (a 64 MiB
    event took 680 MiB as text and 940 MiB as JSON before the fix)."""
    content, wanted = EVENTS[kind]
    server.add_turn(ps.text(content), ps.done())

    code, peak, stderr = measured_cli(
        ["chat", "hi", output, "--project", str(project)], tmp_path / "out.txt"
    )

    figures.peak(f"max_event_{kind}{output.replace('-', '_')}_peak_mib", peak)
    assert code == wanted, stderr
    if wanted == 0:
        assert (tmp_path / "out.txt").stat().st_size >= len(content)
    else:
        assert "once decoded" in stderr
    assert peak < MEMORY_CEILING_MIB


def test_writing_the_largest_design_file_stays_under_the_ceiling(
    server: ProtocolServer, project: Path, tmp_path: Path, figures: Figures
) -> None:
    """The largest legitimate event, a ``write`` of a 20 MiB board file (the most the tools
    write), still fits in one event, is written, and is printed by ``--json``, under 200 MiB."""
    line = '(wire (pts (xy 1 2) (xy 3 4)) (stroke (width 0) (type "default")) (uuid "3f0a"))\n'
    contents = line * (20 * 1024 * 1024 // len(line) - 1)
    server.add_turn(
        ps.tool_call("w", "write", {"file_path": "big.kicad_pcb", "contents": contents}),
        ps.done(),
    )

    code, peak, stderr = measured_cli(
        ["chat", "hi", "--json", "--mode", "agent", "--project", str(project)],
        tmp_path / "out.txt",
    )

    figures.peak("write_20mib_peak_mib", peak)
    assert code == 0, stderr
    assert (project / "big.kicad_pcb").stat().st_size == len(contents)
    assert peak < MEMORY_CEILING_MIB


def test_a_turn_of_4000_tool_calls_keeps_memory_flat(
    protocol_server: ProtocolServer, project: Path, tmp_path: Path, figures: Figures
) -> None:
    """4,000 ``read_file`` calls of a ~100 KB file in one turn (450 MB kept in the reply before
    the fix): the reply keeps a summary per run, not the results; peak under 200 MiB."""
    (project / "big.kicad_sch").write_text(("(wire (pts (xy 1 2)))\n" * 4600), encoding="utf-8")
    calls, batch = 4000, 40
    steps = []
    for start in range(0, calls, batch):
        ids = [f"r{i}" for i in range(start, start + batch)]
        steps += [
            ps.tool_call(i, "read_file", {"target_file": "big.kicad_sch"}, wait=False) for i in ids
        ]
        steps.append(ps.await_results(*ids, timeout=60))
    protocol_server.load(
        {"keep_results": False, "turns": [ps.turn(*steps, ps.text("done"), ps.done())]}
    )

    found = probe(tmp_path, "tool-turn", protocol_server.url, str(project), TOKEN)

    figures.peak("tool_turn_4000_s", found["seconds"])
    figures.peak("tool_turn_4000_peak_mib", found["peak_mib"])
    assert found["tool_runs"] == calls, found
    assert found["failed"] == 0, found
    assert found["result_chars_kept"] == 0, found
    assert found["peak_mib"] < MEMORY_CEILING_MIB, found


# --- C. no escape sequence reaches the terminal (issue 10, class 6) ---------------------------


def nasty_turn(server: ProtocolServer) -> None:
    """A turn that puts terminal controls in every event a backend can send."""
    server.add_turn(
        *(ps.text(t) for t in NASTY),
        *(ps.thinking(t) for t in NASTY),
        *(ps.status(t) for t in NASTY),
        ps.raw('data: {"type": "text_delta", "content": "lone \\ud800 surrogate"}\n\n'),
        ps.tool_call("t-esc", f"read_file{OSC52}", {"target_file": f"{OSC52}x.kicad_sch"}),
        ps.tool_call("t-esc2", "read_file", {"target_file": f"\x1b[2Jx{OSC52}.kicad_sch"}),
        ps.file_edit(path=OSC52, note=NASTY),
        ps.metrics(note=OSC52),
        ps.error(f"provider failed {OSC52} \x1b[2J\rhidden"),
        ps.done(f"conv{OSC52}\x9b"),
    )


def test_text_output_carries_no_control_sequence(server: ProtocolServer, project: Path) -> None:
    """Text mode: streamed text, tool lines, the in-stream error line, the final ``error:``
    line and the summary (whose conversation id comes from the backend) hold no control
    character but newline and tab; a lone surrogate no longer crashes the writer."""
    nasty_turn(server)

    result = chat(project, "hi")

    assert result.code == 4, result  # the stream's error event
    assert "unexpected" not in result.stderr, result
    assert forbidden(result.stdout) == [], result
    assert forbidden(result.stderr) == [], result
    assert "shown" in result.stdout and "hidden by a carriage return" in result.stdout
    assert "error: " in result.stderr


def test_json_output_escapes_every_control_character(server: ProtocolServer, project: Path) -> None:
    """``--json``: C1 controls, DEL, bidi overrides and lone surrogates (which ``json.dumps`` with
    ``ensure_ascii=False`` passes raw) are ``\\uXXXX`` escapes, so stdout is clean and still valid
    JSON that decodes to what the backend sent."""
    nasty_turn(server)

    result = chat(project, "hi", "--json")

    assert result.code == 4, result
    assert forbidden(result.stdout) == [], result
    assert forbidden(result.stderr) == [], result
    lines = json_lines(result)
    texts = [line["content"] for line in lines if line.get("type") == "text_delta"]
    assert "".join(texts).startswith("".join(NASTY)), texts


@pytest.mark.parametrize(
    "args",
    [
        ["chat", "hi", f"extra{OSC52}"],
        [f"{OSC52}chat"],
        ["chat", "hi", "--mode", f"ask{OSC52}"],
        ["completion", f"bash{OSC52}"],
        ["chat", "hi", "--json", "--app", f"\u202eeeschema{OSC52}"],
    ],
)
def test_usage_errors_carry_no_control_sequence(args: list[str]) -> None:
    """A usage error quoting an argument (click's messages) is printed without its controls."""
    result = run(args)

    assert result.code == 2, result
    assert forbidden(result.stdout) == [], result
    assert forbidden(result.stderr) == [], result


# --- D. keys echoed back never reach the user (issue 10, class 7) ----------------------------


def echo_turn(server: ProtocolServer, key: str) -> None:
    """A turn that echoes the key and the token everywhere a backend can put text."""
    server.add_turn(
        ps.text("your key is "),
        *(ps.text(key[i : i + 3]) for i in range(0, len(key), 3)),
        ps.text(" and again "),
        ps.text(key[:30] + "…"),  # a truncated echo
        ps.text(f" and the end of it {key[-12:]}, the middle {key[15:35]}. "),
        ps.text(f"token {TOKEN}"),
        ps.thinking(f"the user's key is {key}"),
        ps.status(f"calling anthropic with {key[:30]}"),
        ps.file_edit(path="x.kicad_sch", meta={"nested": [key, {"deep": key[10:40]}], key: 1}),
        ps.metrics(input_tokens=1, note=f"key={key}", token=TOKEN),
        ps.tool_call("t-arg", "read_file", {"target_file": f"{key}.kicad_sch"}),
        ps.tool_call("t-read", "read_file", {"target_file": "notes.kicad_sch"}),
        ps.error(f"invalid x-api-key {key}"),
        ps.done(f"conv-{key[:20]}"),
    )


@pytest.mark.parametrize("output", ["--text", "--json"])
def test_a_key_echoed_by_the_backend_never_reaches_cli_output(
    server: ProtocolServer, project: Path, byok: str, output: str
) -> None:
    """The key (and the Trace token) echoed whole, truncated to 30 characters, split over text
    deltas of 3 characters, nested in file_edit and metrics data, in tool arguments, in a tool
    result and in the error: no run of 8 of their characters in stdout or stderr, and none in
    what the client posts back."""
    (project / "notes.kicad_sch").write_text(f"(comment {byok})\n", encoding="utf-8")
    echo_turn(server, byok)

    result = chat(project, "hi", output)

    assert result.code == 4, result
    assert server.chat_requests[0].body["llm_api_key"] == byok  # the one place it goes
    for secret in (byok, TOKEN):
        assert secret_runs(secret, result.stdout) == [], result
        assert secret_runs(secret, result.stderr) == [], result
        for posted in server.tool_results:
            assert secret_runs(secret, json.dumps(posted)) == [], posted
    shown = result.stdout
    if output == "--json":
        shown = "".join(line.get("content", "") for line in json_lines(result))
    # The first characters of a run (at most 3: "sk-") may show before it is known to be one.
    assert re.search(r"your key is .{0,3}\*\*\* and again \*\*\*", shown), shown


def test_a_model_cannot_make_the_client_write_the_key_into_a_file(
    server: ProtocolServer, project: Path, byok: str
) -> None:
    """A ``write`` in agent mode whose contents (and path) hold the key writes it masked."""
    server.add_turn(
        ps.tool_call(
            "t-write", "write", {"file_path": "leak.kicad_sch", "contents": f"(key {byok})\n"}
        ),
        ps.tool_call(
            "t-replace",
            "search_replace",
            {"file_path": SCHEMATIC, "old_string": "10k", "new_string": f"10k {byok[:24]}"},
        ),
        ps.done(),
    )

    result = chat(project, "hi", "--mode", "agent")

    assert result.code == 0, result
    for path in project.iterdir():
        assert secret_runs(byok, path.read_text(encoding="utf-8")) == [], path
    assert (project / "leak.kicad_sch").read_text(encoding="utf-8") == "(key ***)\n"


def test_the_sdk_reply_and_stream_carry_no_key(
    server: ProtocolServer, project: Path, byok: str
) -> None:
    """The SDK gets the same masking: the streamed events and the reply (text, errors, usage,
    conversation id) hold no run of 8 characters of the key or the token."""
    (project / "notes.kicad_sch").write_text(f"(comment {byok})\n", encoding="utf-8")
    echo_turn(server, byok)
    text: list[str] = []
    shown: list[str] = []
    replies = []

    with Trace(project_dir=project, llm_provider="anthropic", llm_api_key=byok) as trace:
        for item in trace.stream("hi"):
            if isinstance(item, TextDelta):
                text.append(item.content)  # joined below: a key split over deltas counts
            elif isinstance(item, ToolFinished):
                shown += [repr(item), item.result.result]
            elif isinstance(item, ChatFinished):
                replies.append(item.reply)
            else:
                shown.append(repr(item))

    [reply] = replies
    for secret in (byok, TOKEN):
        assert secret_runs(secret, "".join(text)) == []
        assert [s for s in shown if secret_runs(secret, s)] == []
        assert secret_runs(secret, repr(reply)) == []
    assert re.match(r"your key is .{0,3}\*\*\* and again \*\*\*", reply.text), reply.text
    assert reply.text == "".join(text)


@pytest.mark.parametrize(
    "args",
    [
        ["chat", "hi", "--mode", KEY],
        ["chat", "hi", f"--mode={KEY}"],
        ["chat", "hi", "--json", "--mode", KEY],
        ["chat", "hi", "--app", KEY, "--json"],
        [KEY],
        ["completion", KEY],
        ["byok", "use", KEY],
        ["byok", "use", KEY, "--json"],
        ["chat", "hi", KEY],
        ["config", "get", KEY, "--json"],
    ],
)
def test_usage_errors_never_repeat_a_key_shaped_argument(args: list[str]) -> None:
    """A key pasted where a mode, an editor, a command, a shell or a provider name goes is not
    printed back by the usage error, in text or in the ``--json`` error document."""
    result = run(args)

    assert result.code == 2, result
    assert secret_runs(KEY, result.stdout) == [], result
    assert secret_runs(KEY, result.stderr) == [], result
    if "--json" in args and result.stdout:
        assert "error" in strict_json(result.stdout)


# --- E. --json is always valid JSON (issue 10, class 8) -------------------------------------


def test_json_output_is_valid_json_whatever_numbers_the_backend_sends(
    server: ProtocolServer, project: Path
) -> None:
    """``NaN``, ``Infinity``, ``-Infinity`` and ``1e999`` (which Python reads as infinity) in
    metrics events are malformed events (skipped with the warning), so every stdout line is
    RFC 8259 JSON, the ``done`` line included."""
    server.add_turn(
        ps.metrics(input_tokens=3),
        ps.raw('data: {"type": "metrics", "cost": NaN}\n\n'),
        ps.raw('data: {"type": "metrics", "cost": Infinity}\n\n'),
        ps.raw('data: {"type": "metrics", "cost": -Infinity}\n\n'),
        ps.raw('data: {"type": "file_edit", "size": 1e999}\n\n'),
        ps.text("ok"),
        ps.done(),
    )

    result = chat(project, "hi", "--json")

    assert result.code == 0, result
    lines = json_lines(result)
    assert lines[-1]["type"] == "done"
    assert lines[-1]["usage"] == {"input_tokens": 3}
    assert "skipped 4 malformed event(s)" in result.stderr
