"""Key sources through the real adapters: config.toml's key sections, and the provider's
rejection of a key on the wire (the protocol server, the HTTP adapter, a real helper)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.backend.http import HttpTraceBackend
from adapters.settings.toml import TomlSettingsStore
from application.chat import ChatCommand, ChatFinished
from domain.chat import (
    ChatMode,
    ChatRequest,
    Done,
    LlmSelection,
    StreamError,
)
from domain.errors import CorruptFileError
from domain.keys import HelperCommand, KeyRef
from domain.notices import Notice, NoticeCode
from domain.provider import Provider
from domain.secret import Secret
from entrypoints.runtime import Runtime
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

ANTHROPIC, OPENAI = Provider.ANTHROPIC, Provider.OPENAI
OLD_KEY = "sk-ant-api03-rotated-out-key-0001"
NEW_KEY = "sk-ant-api03-rotated-in-key-0002"


# --- config.toml: [keys.*] and [projects.allowed] -----------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    directory = tmp_path / "cfg"
    directory.mkdir(mode=0o700)
    return directory / "config.toml"


def test_helpers_named_keys_and_allowed_projects_round_trip_with_comments(config: Path) -> None:
    config.write_text("# mine\n[keys]\nhelper_ttl = 120  # seconds\n", encoding="utf-8")
    config.chmod(0o600)
    store = TomlSettingsStore(config)
    op = HelperCommand.parse("op read op://Private/Anthropic/credential")
    vault = HelperCommand.parse("vault kv get -field=key secret/x | cat", shell=True)  # noqa: S604

    store.update(
        lambda s: (
            s.with_key(KeyRef(ANTHROPIC), op)
            .with_key(KeyRef(ANTHROPIC, "work"), None)
            .with_key(KeyRef(OPENAI, "client-a"), vault)
            .with_allowed("/home/me/client a/trace.toml", "sha256:" + "0" * 64)
        )
    )

    text = config.read_text(encoding="utf-8")
    assert text.startswith("# mine\n[keys]\nhelper_ttl = 120  # seconds\n")
    assert '[keys.anthropic]\nhelper = "op read op://Private/Anthropic/credential"\n' in text
    assert "[keys.anthropic.work]" in text
    assert (
        '[keys.openai.client-a]\nhelper = "vault kv get -field=key secret/x | cat"\nshell = true'
        in text
    )
    assert '"/home/me/client a/trace.toml" = "sha256:' in text
    loaded = TomlSettingsStore(config).load()
    assert loaded.helper_ttl == 120.0
    assert loaded.helpers == {KeyRef(ANTHROPIC): op, KeyRef(OPENAI, "client-a"): vault}
    assert loaded.named_keys == (KeyRef(ANTHROPIC, "work"), KeyRef(OPENAI, "client-a"))

    store.update(
        lambda s: (
            s.without_key(KeyRef(OPENAI, "client-a"))
            .with_key(KeyRef(ANTHROPIC), None)
            .with_allowed("/home/me/client a/trace.toml", None)
        )
    )
    text = config.read_text(encoding="utf-8")
    assert "openai" not in text and "projects" not in text and "helper =" not in text
    assert TomlSettingsStore(config).load().named_keys == (KeyRef(ANTHROPIC, "work"),)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[keys.anthropic]\nhelper = 3\n", "keys.anthropic.helper must be a string"),
        ('[keys.anthropic]\nhelper = "x"\nshell = "yes"\n', "must be true or false"),
        ('[keys.anthropic]\nhelper = "echo sk-ant-api03-a-pasted-key-00000000"\n', "not usable"),
        ('[keys.anthropic."Bad Name"]\n', "not a key name"),
        ('[projects.allowed]\n"/p/trace.toml" = "md5:1"\n', "sha256:HEX"),
        ("[keys]\nhelper_ttl = -1\n", "keys.helper_ttl"),
    ],
)
def test_unusable_key_sections_make_the_file_corrupt(config: Path, text: str, words: str) -> None:
    config.write_text(text, encoding="utf-8")
    config.chmod(0o600)
    with pytest.raises(CorruptFileError) as caught:
        TomlSettingsStore(config).load()
    assert words in caught.value.problem
    assert "sk-ant-api03" not in caught.value.message


# --- the provider rejected the key: on the wire -------------------------------------------


def test_the_http_adapter_reads_the_provider_auth_error(protocol_server: ProtocolServer) -> None:
    protocol_server.load({"reject_keys": [OLD_KEY]})
    backend = HttpTraceBackend(protocol_server.url)
    request = ChatRequest(
        "hi", "s1", ChatMode.ASK, llm=LlmSelection(ANTHROPIC, Secret(OLD_KEY), None)
    )
    try:
        events = list(backend.stream_chat(request, Secret(TOKEN)))
    finally:
        backend.close()
    assert events == [
        StreamError("anthropic rejected the API key (HTTP 401)", "provider_auth", 401),
        Done(None),
    ]


@pytest.fixture
def helper_world(
    tmp_path: Path, protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, Path]]:
    """The real container (file store, config.toml, HTTP backend) and a helper that hands
    out OLD_KEY first, NEW_KEY afterwards, counting its runs in a file."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    runs = tmp_path / "runs"
    helper = tmp_path / "rotating.py"
    helper.write_text(
        "import json, os, sys\n"
        f"runs = {str(runs)!r}\n"
        "n = len(open(runs).read()) if os.path.exists(runs) else 0\n"
        "open(runs, 'a').write(os.environ['TRACE_KEY_HELPER_REASON'][0])\n"
        f"key = {OLD_KEY!r} if n == 0 else {NEW_KEY!r}\n"
        "print(json.dumps({'key': key, 'expires_at': '2099-01-01T00:00:00Z'}))\n",
        encoding="utf-8",
    )
    runtime = Runtime()
    runtime.use_cases.set_key().execute(
        ANTHROPIC, HelperCommand.parse(f"{sys.executable} {helper}")
    )
    yield runtime, runs
    runtime.close()


def test_an_expiring_helper_key_rejected_by_the_provider_is_refreshed_and_retried(
    helper_world: tuple[Runtime, Path], protocol_server: ProtocolServer
) -> None:
    runtime, runs = helper_world
    protocol_server.load({"reject_keys": [OLD_KEY], "turns": [ps.simple_turn("with the new key")]})

    items = list(runtime.use_cases.chat().stream(ChatCommand("hello")))

    sent = [r.body["llm_api_key"] for r in protocol_server.chat_requests]
    assert sent == [OLD_KEY, NEW_KEY]
    assert runs.read_text() == "cc"  # twice, each told it runs for a chat
    notices = [i for i in items if isinstance(i, Notice)]
    assert [n.code for n in notices] == [NoticeCode.KEY_REFRESHED]
    reply = items[-1]
    assert isinstance(reply, ChatFinished)
    assert reply.reply.text == "with the new key" and not reply.reply.failed
    assert reply.reply.masked_key == "…" + NEW_KEY[-4:]
    assert OLD_KEY not in json.dumps([str(i) for i in items])
