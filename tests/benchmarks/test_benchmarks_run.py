"""The benchmark scripts still run: each in ``--smoke`` mode, checked for its rows, never timed.

Figures from one or two runs on a busy test machine mean nothing, so nothing here
looks at them; a script that crashes, or loses a row, fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(module: str, *args: str, mode: str = "--smoke") -> str:
    done = subprocess.run(
        [sys.executable, "-m", f"tests.benchmarks.{module}", mode, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{module} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _rows(output: str) -> list[str]:
    return [line.split("  ")[0] for line in output.splitlines()]


def test_bench_cli_prints_every_case(tmp_path: Path) -> None:
    markdown = tmp_path / "performance.md"
    markdown.write_text("# Performance\n\nHand-written text stays.\n", encoding="utf-8")
    # The development venv stands in for the regular install the script builds by
    # default (CI's `bench_cli --quick` builds it): no network, no pip, in the suite.
    output = _run("bench_cli", "--importtime", "--markdown", str(markdown), "--venv", sys.prefix)
    rows = _rows(output)
    for case in (
        "python -c pass (baseline)",
        "buildwithtrace --help",
        "byok status (key in file store)",
        "byok status (key in file store): peak memory",
        "byok status (key in keychain)",
        "byok use anthropic|trace (file store)",
        "byok model (file store)",
        "SDK: fresh process to the first chat event (key in file store)",
        "SDK: fresh process to the first chat event (key in keychain)",
        "floor: click + attrs + dependency_injector",
        "floor: click + attrs + dependency_injector + keyring + secretstorage",
        "floor: attrs + dependency_injector + httpx (the SDK's)",
    ):
        assert case in rows, output
    assert "CPU time (user + system)" in output
    assert "python -X importtime" in output
    written = markdown.read_text(encoding="utf-8")
    assert written.startswith("# Performance\n\nHand-written text stays.\n")
    assert "<!-- bench_cli:begin -->" in written
    assert "<!-- bench_cli.importtime:end -->" in written
    assert "| buildwithtrace --help |" in written


def test_regular_install_is_reused_while_the_code_is_unchanged(tmp_path: Path) -> None:
    from tests.benchmarks import install

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "buildwithtrace"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    stamp = install._digest(ROOT, install._sources(ROOT))  # white-box: the code's stamp
    (venv / ".bench-code-stamp").write_text(stamp, encoding="utf-8")

    assert install.regular_install(venv) == script  # nothing rebuilt: no pip, no network


def test_bench_cli_markdown_section_is_replaced_not_appended(tmp_path: Path) -> None:
    from tests.benchmarks.common import write_section

    document = tmp_path / "doc.md"
    write_section(document, "bench_x", "first", "cmd")
    write_section(document, "bench_x", "second", "cmd")
    text = document.read_text(encoding="utf-8")
    assert text.count("<!-- bench_x:begin -->") == 1
    assert "second" in text
    assert "first" not in text


@pytest.mark.keychain
def test_bench_keychain_prints_every_step() -> None:
    rows = _rows(_run("bench_keychain", "--venv", sys.prefix))
    for step in (
        "import keyring + secretstorage (the old read path)",
        "connect (socket, auth, Hello)",
        "SearchItems (all our items)",
        "3 accounts, keyring get_password each (before)",
        "3 accounts, one read_secrets round (now)",
    ):
        assert step in rows


def test_bench_stream_prints_throughput_and_first_token() -> None:
    rows = _rows(_run("bench_stream"))
    for reader in (
        "bare loop (httpx + httpx-sse + json.loads)",
        "HttpTraceBackend.stream_chat",
        "Chat use-case over HttpTraceBackend",
    ):
        assert f"throughput: {reader}" in rows
        assert f"first token: {reader}" in rows


def test_bench_tools_prints_every_tool() -> None:
    rows = _rows(_run("bench_tools"))
    for case in (
        "read_file (from line 1; result capped)",
        "read_file (last 200 lines, offset)",
        "search_replace (unique string near the end)",
        "grep (count one reference)",
        "grep (count a word on many lines)",
        "grep (hostile pattern, RE2)",
        "8 × read_file at once, 8 files",
        "8 × search_replace at once, 8 files",
    ):
        assert case in rows


def test_bench_sdk_resolve_prints_cached_and_uncached_rows(tmp_path: Path) -> None:
    markdown = tmp_path / "performance.md"
    output = _run("bench_sdk_resolve", "--markdown", str(markdown), mode="--quick")
    for row in ("resolve() uncached", "resolve() cached", "key + token per chat, cached"):
        assert row in output
    assert "| resolve() cached |" in markdown.read_text(encoding="utf-8")
