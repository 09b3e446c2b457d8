"""The canary: a unique key through every command that takes or shows a key, then a grep.

Afterwards the key (or any part of it beyond the four characters a masked key shows)
must appear in no output stream of any command and in no file but the secret store:
credentials.json for the file store, no file at all for the keychain. config.toml
never holds it. A second canary given only in the environment must never be written
anywhere nor printed.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.e2e.cli_runner import CliSession, files_containing
from tests.e2e.conftest import Backing, config_text

PREFIX = "sk-ant-canary-"


def _canary() -> str:
    return f"{PREFIX}{uuid.uuid4().hex}"


def _fragments(canary: str) -> list[str]:
    """The key, its last 8 characters, and its random part minus the 4 a mask shows."""
    return [canary, canary[-8:], canary[len(PREFIX) : -4]]


def _assert_not_printed(cli: CliSession, canary: str) -> None:
    for label, text in cli.outputs():
        for fragment in _fragments(canary):
            assert fragment not in text, f"canary fragment {fragment!r} in {label}:\n{text}"


def _files_with(config_dir: Path, canary: str) -> set[str]:
    found: set[str] = set()
    for fragment in _fragments(canary):
        found.update(p.name for p in files_containing(config_dir, fragment))
    return found


def test_a_canary_key_never_leaks_through_any_command(backing: Backing) -> None:
    canary, env_canary = _canary(), _canary()
    cli = CliSession()
    ok = 0

    # Every way in.
    assert cli.run("byok", "set", "anthropic", "--key-stdin", input=canary).code == ok
    assert cli.run("byok", "set", "Anthropic", "--key", canary).code == ok
    assert cli.run_in_terminal("byok", "set", "anthropic", typed=f"{canary}\n").code == ok
    # Every way out: commands that show a key (masked) or its source.
    assert cli.run("byok", "use", "anthropic").code == ok
    assert cli.run("byok", "use", "anthropic", "--json").code == ok
    assert cli.run("byok", "model", "claude-opus-4-1").code == ok
    assert cli.run("byok", "status").code == ok
    status = cli.run("byok", "status", "--json")
    assert cli.run("doctor").code == ok
    assert cli.run("doctor", "--json").code == ok
    assert cli.run("config", "list").code == ok
    assert cli.run("config", "list", "--json").code == ok
    # A key that only lives in the environment, shadowing the stored one.
    with_env = cli.run("byok", "status", env_extra={"ANTHROPIC_API_KEY": env_canary})
    # Refused keys: the error must not quote them.
    assert cli.run("byok", "set", "openai", "--key-stdin", input=f"{canary} x").code == 2
    refused = cli.run("byok", "set", "openai", "--key-stdin", "--json", input=f"\x07{canary}")
    # A storage failure while setting.
    good_config = backing.config.read_bytes()
    backing.config.write_bytes(b"[llm\n")
    assert cli.run("byok", "set", "gemini", "--key-stdin", input=canary).code == 5
    broken = cli.run("byok", "set", "openai", "--key-stdin", "--json", input=canary)
    backing.config.write_bytes(good_config)

    assert status.code == ok, status
    shown = status.json()["providers"][0]["key"]
    assert shown == {
        "present": True,
        "source": backing.kind,
        "masked": f"…{canary[-4:]}",
        "helper": None,
        "error": None,
    }
    assert with_env.code == ok, with_env
    assert f"…{env_canary[-4:]}" in with_env.stdout  # the env key was really shown, masked
    assert refused.code == 2, refused
    assert refused.json()["error"]["type"] == "InvalidKeyError"
    assert broken.code == 5, broken
    assert broken.json()["error"]["type"] == "CorruptFileError"
    # While stored: only in the secret store, and the secret store holds exactly it.
    assert backing.secrets() == {"llm:anthropic": canary}
    allowed = {"credentials.json"} if backing.kind == "file" else set()
    assert _files_with(backing.config_dir, canary) == allowed
    assert canary not in config_text(backing.config_dir)
    assert _files_with(backing.config_dir, env_canary) == set()

    removed = cli.run("byok", "remove", "anthropic")

    assert removed.code == ok, removed
    assert backing.secrets() == {}
    assert _files_with(backing.config_dir, canary) == set()  # no stale copy, no temp file
    _assert_not_printed(cli, canary)
    _assert_not_printed(cli, env_canary)
