"""Where keys come from, attacked: hostile project files, helpers, backends and variables.

The attackers: a cloned repository (its trace.toml wants to run code on the user's
machine or move the bill to another key), another local user (plants a trace.toml
above the user's projects, or a link to one), a hostile or broken Trace backend (asks
for the key again and again), a key helper that hangs or prints the key where it
should not, an environment variable that silently wins over the stored key, and a
redirect that would carry the key to another host. Every test runs the real CLI (a
subprocess) or the real adapters, against the real protocol server and file store.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from adapters.helpers.subprocess_helper import SubprocessKeyHelper
from adapters.project.files import LocalProjectFiles
from adapters.verify.http import HttpKeyVerifier
from domain.errors import KeyHelperError, ProjectFileError
from domain.keys import HelperCommand, HelperReason, KeyRef
from domain.provider import Provider
from domain.secret import Secret
from domain.verification import Verdict
from tests.e2e.cli_runner import CliResult, files_containing, run
from tests.reliability.plugin import Figures
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer
from tests.support.provider_stub import ProviderStub

pytestmark = pytest.mark.reliability
ATTACKER = 65534


def _key(prefix: str = "sk-ant-") -> str:
    return f"{prefix}canary{uuid.uuid4().hex}"


@pytest.fixture
def server(
    protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> ProtocolServer:
    """The protocol server, the CLI pointed at it and logged in, keys in the file store."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    return protocol_server


def _chat(project: Path, *args: str, env: dict[str, str | None] | None = None) -> CliResult:
    return run(["chat", "hi", "--project", str(project), *args], env_extra=env)


def test_a_cloned_repository_cannot_run_code_through_its_project_file(
    server: ProtocolServer, tmp_path: Path
) -> None:
    """A trace.toml with a helper (or any command) is refused, allowed or not; nothing runs."""
    marker = tmp_path / "ran"
    repo = tmp_path / "cloned"
    repo.mkdir()
    for text in (
        f'[llm]\nprovider = "anthropic"\nhelper = "touch {marker}"\n',
        f'[keys.anthropic]\nhelper = "touch {marker}"\n',
        f'helper_command = "touch {marker}"\n[llm]\nprovider = "anthropic"\n',
    ):
        (repo / "trace.toml").write_text(text, encoding="utf-8")
        assert run(["byok", "set", "anthropic", "--key-stdin"], input=_key()).code == 0
        chat = _chat(repo)
        allow = run(["project", "allow", str(repo)])
        assert (chat.code, allow.code) == (2, 2), chat
        assert "never holds" in chat.stderr
    assert not marker.exists()
    assert server.chat_requests == []


def test_a_cloned_repository_cannot_move_the_bill_until_the_user_allows_it(
    server: ProtocolServer, tmp_path: Path
) -> None:
    """A trace.toml choosing another provider or key is ignored (and said so) until allowed;
    a later change to it is ignored again until allowed again."""
    mine, theirs = _key(), _key("sk-proj-")
    assert (
        run(["byok", "set", "openai", "--name", "client-x", "--key-stdin"], input=theirs).code == 0
    )
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=mine).code == 0
    repo = tmp_path / "cloned"
    repo.mkdir()
    (repo / "trace.toml").write_text(
        '[llm]\nprovider = "openai"\nkey_name = "client-x"\n', encoding="utf-8"
    )
    server.load({"turns": [ps.simple_turn(str(n)) for n in range(3)]})

    before = _chat(repo)
    assert run(["project", "allow", str(repo)]).code == 0
    allowed = _chat(repo)
    (repo / "trace.toml").write_text('[llm]\nprovider = "gemini"\n', encoding="utf-8")
    changed = _chat(repo)

    assert "(not allowed yet)" in before.stderr and "(changed since" in changed.stderr
    assert allowed.code == 0
    assert [r.body["llm_api_key"] for r in server.chat_requests] == [mine, theirs, mine]


def test_another_user_cannot_plant_a_project_file_above_the_users_projects(
    tmp_path: Path,
) -> None:
    """The walk stops at a directory another user owns; another user's file or a link is
    refused, not read."""
    shared = tmp_path / "shared"
    mine = shared / "me" / "board"
    mine.mkdir(parents=True)
    (shared / "trace.toml").write_text('[llm]\nprovider = "openai"\n', encoding="utf-8")
    os.chown(shared, ATTACKER, ATTACKER)
    os.chown(shared / "trace.toml", ATTACKER, ATTACKER)
    assert LocalProjectFiles().find(str(mine)) is None

    planted = mine / "trace.toml"
    planted.write_text('[llm]\nprovider = "openai"\n', encoding="utf-8")
    os.chown(planted, ATTACKER, ATTACKER)
    with pytest.raises(ProjectFileError, match="belongs to uid"):
        LocalProjectFiles().find(str(mine))
    planted.unlink()
    planted.symlink_to(shared / "trace.toml")
    with pytest.raises(ProjectFileError, match="symbolic link"):
        LocalProjectFiles().find(str(mine))


def test_an_env_var_never_wins_over_the_stored_key_silently(
    server: ProtocolServer, tmp_path: Path
) -> None:
    """An exported key (for another tool) that overrides the stored key is announced before
    the request; with keys.env_override = error the request is refused and nothing sent."""
    project = tmp_path / "board"
    project.mkdir()
    stored, exported = _key(), _key()
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=stored).code == 0
    server.load({"turns": [ps.simple_turn("x")]})
    env: dict[str, str | None] = {"ANTHROPIC_API_KEY": exported}

    told = _chat(project, env=env)
    assert run(["config", "set", "keys.env_override", "error"]).code == 0
    refused = _chat(project, env=env)

    assert told.stderr.startswith("note: ANTHROPIC_API_KEY is set: its key is used")
    assert refused.code == 3 and "unset ANTHROPIC_API_KEY" in refused.stderr
    assert len(server.chat_requests) == 1


def test_a_backend_that_keeps_rejecting_the_key_gets_one_retry_only(
    server: ProtocolServer, tmp_path: Path
) -> None:
    """A hostile backend answering provider_auth forever cannot make the client run the
    helper, or send the request, more than twice per turn."""
    runs = tmp_path / "runs"
    key = _key()
    helper = tmp_path / "helper.py"
    helper.write_text(f"open({str(runs)!r}, 'a').write('x')\nprint({key!r})\n", encoding="utf-8")
    assert run(["byok", "set", "anthropic", "--helper", f"{sys.executable} {helper}"]).code == 0
    server.load({"reject_keys": [key]})
    project = tmp_path / "board"
    project.mkdir()

    chat = _chat(project)

    assert chat.code == 4, chat
    assert len(server.chat_requests) == 2
    assert runs.read_text() == "xx"


def test_a_helper_that_hangs_cannot_hang_the_cli(
    server: ProtocolServer, tmp_path: Path, figures: Figures
) -> None:
    """keys.helper_timeout bounds a helper (and what it started); the chat fails with the fix."""
    helper = tmp_path / "hang.py"
    helper.write_text("import time\ntime.sleep(3600)\n", encoding="utf-8")
    assert run(["config", "set", "keys.helper_timeout", "2"]).code == 0
    assert run(["byok", "set", "anthropic", "--helper", f"{sys.executable} {helper}"]).code == 0
    project = tmp_path / "board"
    project.mkdir()
    started = time.monotonic()
    chat = _chat(project)
    elapsed = time.monotonic() - started
    figures.peak("hung_helper_chat_s", elapsed)
    assert chat.code == 3 and "did not finish within 2 s" in chat.stderr
    assert elapsed < 60  # bounded: about 2 s, not the helper's hour
    assert server.chat_requests == []


def test_a_helpers_output_never_reaches_the_terminal_or_the_disk(tmp_path: Path) -> None:
    """Whatever a failing helper printed (its stdout, the key in its stderr, other
    key-shaped text) is masked from the error; garbage output is never quoted."""
    key = _key()
    script = tmp_path / "leaky.py"
    script.write_text(
        f"import sys\nprint({key!r})\nsys.stderr.write('failed for {key} and "
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\\n')\nsys.exit(1)\n",
        encoding="utf-8",
    )
    helper = SubprocessKeyHelper(dict(os.environ), timeout=10)
    with pytest.raises(KeyHelperError) as caught:
        helper.run(
            HelperCommand.parse(f"{sys.executable} {script}"),
            KeyRef(Provider.ANTHROPIC),
            HelperReason.CHAT,
        )
    message = caught.value.message
    assert key[-12:] not in message and "AbCdEfGhIjKlMnOpQrSt" not in message
    assert files_containing(tmp_path.parent, key[-12:]) == [script]


def test_a_key_pasted_into_a_helper_command_is_never_written_to_config(tmp_path: Path) -> None:
    """config.toml never holds a key: a --helper with a key-shaped word is refused."""
    key = _key()
    refused = run(["byok", "set", "anthropic", "--helper", f"echo {key}"])
    assert refused.code == 2 and "looks like an API key" in refused.stderr
    assert key not in refused.stderr + refused.stdout
    config_dir = Path(os.environ["TRACE_CONFIG_DIR"])
    assert files_containing(config_dir, key[-12:]) == []


def test_verifying_a_key_never_sends_it_anywhere_but_its_provider(
    provider_stub: ProviderStub,
) -> None:
    """No redirect is followed (it could carry the key's header elsewhere), the key is in a
    header (never a URL), and plain http off this machine is refused before sending."""
    key = _key("sk-proj-")
    provider_stub.behaviour[Provider.OPENAI] = "redirect"
    provider_stub.redirect_to = provider_stub.url + "/anthropic/v1/models"
    verifier = HttpKeyVerifier({Provider.OPENAI: provider_stub.base_url(Provider.OPENAI)})
    found = verifier.verify(Provider.OPENAI, Secret(key))
    assert found.verdict is Verdict.UNREACHABLE
    assert [r.path for r in provider_stub.requests] == ["/openai/v1/models"]
    assert all(key not in r.query for r in provider_stub.requests)
