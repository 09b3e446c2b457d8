"""Key sources attacked a second time: an independent review of helpers, project files,
verification and notices (issue 13), each test an attack that worked before its fix.

The attackers: an exported variable nobody remembered that moves the bill to another
provider's account, and a key helper whose children outlive it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from adapters.helpers.subprocess_helper import SubprocessKeyHelper
from domain.keys import HelperCommand, HelperReason, KeyRef
from domain.provider import Provider
from entrypoints.sdk import EnvOverrideError, Notice, NoticeCode, Trace
from tests.e2e.cli_runner import run
from tests.support import protocol_server as ps
from tests.support.protocol_server import ProtocolServer

pytestmark = pytest.mark.reliability

PINNED = "sk-proj-review-client-a-key-0001"
EXPORTED = "sk-ant-api03-review-exported-key-0002"


def test_an_exported_provider_switch_away_from_the_project_key_is_told(
    sdk_env: ProtocolServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRACE_LLM_PROVIDER (and that provider's key) exported in the shell displaces the
    named key an allowed trace.toml pinned for another provider: the bill moves to
    another account, so the SDK says so before the request (and env_override = error
    refuses it)."""
    project = tmp_path / "client-a"
    project.mkdir()
    (project / "trace.toml").write_text(
        '[llm]\nprovider = "openai"\nkey_name = "client-a"\n', encoding="utf-8"
    )
    sdk_env.load({"turns": [ps.simple_turn("a")]})
    told: list[Notice] = []
    with Trace(project_dir=str(project)) as setup:
        setup.byok.set("openai", PINNED, name="client-a")
        assert setup.project.allow() is not None
    monkeypatch.setenv("TRACE_LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_API_KEY", EXPORTED)

    with Trace(project_dir=str(project), on_notice=told.append) as trace:
        trace.chat("hi")

    assert [r.body["llm_api_key"] for r in sdk_env.chat_requests] == [EXPORTED]
    assert [n.code for n in told] == [NoticeCode.ENV_OVERRIDE], told
    assert "ANTHROPIC_API_KEY is set" in told[0].message
    assert f"chosen by {project / 'trace.toml'}" in told[0].message

    assert run(["config", "set", "keys.env_override", "error"]).code == 0
    with Trace(project_dir=str(project)) as strict, pytest.raises(EnvOverrideError):
        strict.chat("refused")
    assert len(sdk_env.chat_requests) == 1


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        with Path(f"/proc/{pid}/stat").open(encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_helper_that_exits_leaves_nothing_it_started_running(tmp_path: Path) -> None:
    """A helper that prints the key and exits while a child it started keeps the output
    open (and keeps running) gets its output read for one more second; then the child,
    still in the helper's process group, is stopped instead of left running."""
    pid_file = tmp_path / "child.pid"
    key = "printed"
    helper = HelperCommand.parse(f"sleep 300 & echo $! > {pid_file}; echo {key}", shell=True)  # noqa: S604 - the helper under test
    runner = SubprocessKeyHelper(dict(os.environ), timeout=10.0)

    printed = runner.run(helper, KeyRef(Provider.ANTHROPIC), HelperReason.SDK)

    assert printed.strip() == key
    child = int(pid_file.read_text(encoding="ascii"))
    for _ in range(50):  # stopping is asynchronous: allow it a generous 5 s
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child), "the helper's child is still running"
