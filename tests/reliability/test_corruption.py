"""Corruption: a damaged config.toml or credentials.json stops every command that touches it.

Each damage (invalid TOML or JSON, bytes that are not UTF-8, an empty file, a
directory where the file should be, a file owned by another user) is applied to a
working set-up, then every command that reads or writes that file runs: each must
exit 5, name the file, and leave every file in the config directory byte-for-byte,
mode and owner as it was. (An empty config.toml is valid TOML, an empty settings
document, so it is not a damage for config.toml.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.secrets.file import FileSecretStore
from domain.provider import TRACE_TOKEN_ACCOUNT
from domain.secret import Secret
from tests.e2e.cli_runner import FileState, snapshot
from tests.reliability.inprocess import cli
from tests.reliability.plugin import Figures

NOBODY = 65534
_is_root = hasattr(os, "geteuid") and os.geteuid() == 0


def _write(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o777
    path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.write(fd, data)
    os.close(fd)


def _invalid(path: Path) -> None:
    _write(path, b"[llm\nprovider = 'openai'\n" if path.suffix == ".toml" else b'{"version": 1, ')


def _not_utf8(path: Path) -> None:
    _write(path, b"\xff\xfe\x00\x80 not text \xc3\x28")


def _empty(path: Path) -> None:
    _write(path, b"")


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir(mode=0o700)


def _other_owner(path: Path) -> None:
    os.chown(path, NOBODY, NOBODY)


DAMAGES: dict[str, Callable[[Path], None]] = {
    "invalid": _invalid,
    "not-utf8": _not_utf8,
    "empty": _empty,
    "directory": _directory,
    "other-owner": _other_owner,
}

CONFIG_COMMANDS: list[tuple[tuple[str, ...], str]] = [
    (("byok", "set", "openai", "--key-stdin"), "sk-proj-" + "o" * 40),
    (("byok", "use", "trace"), ""),
    (("byok", "use", "anthropic"), ""),
    (("byok", "model", "claude-opus-4-1"), ""),
    (("byok", "model", "--reset", "--provider", "openai"), ""),
    (("byok", "remove", "anthropic"), ""),
    (("byok", "status"), ""),
    (("byok", "status", "--json"), ""),
    (("config", "get", "llm.provider"), ""),
    (("config", "set", "backend.env", "local"), ""),
    (("config", "unset", "backend.env"), ""),
    (("config", "list", "--json"), ""),
    (("doctor",), ""),
    (("billing", "status"), ""),
    (("chat", "hello"), ""),
]
CREDENTIALS_COMMANDS: list[tuple[tuple[str, ...], str]] = [
    (("byok", "set", "openai", "--key-stdin"), "sk-proj-" + "o" * 40),
    (("byok", "use", "anthropic"), ""),
    (("byok", "remove", "anthropic"), ""),
    (("byok", "status"), ""),
    (("byok", "status", "--json"), ""),
    (("doctor", "--json"), ""),
    (("auth", "login", "--token-stdin"), "trace-token-" + "t" * 30),
    (("auth", "logout"), ""),
    (("auth", "status", "--offline"), ""),
    (("billing", "status"), ""),
    (("chat", "hello"), ""),
]

CASES = [
    pytest.param(
        target,
        damage,
        id=f"{target}-{damage}",
        marks=[pytest.mark.skipif(not _is_root, reason="only root can chown to another user")]
        if damage == "other-owner"
        else [],
    )
    for target in ("config.toml", "credentials.json")
    for damage in DAMAGES
    if not (target == "config.toml" and damage == "empty")
]


def _state(config_dir: Path) -> tuple[dict[str, FileState], dict[str, int]]:
    owners = {p.name: p.lstat().st_uid for p in config_dir.iterdir()}
    return snapshot(config_dir), owners


@pytest.mark.parametrize(("target", "damage"), CASES)
def test_every_command_touching_a_damaged_file_exits_5_and_leaves_it_unchanged(
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    figures: Figures,
    target: str,
    damage: str,
) -> None:
    """A damaged config.toml or credentials.json: every command that touches it exits 5 naming
    the file, and no file in the config directory changes by a byte, a mode bit or an owner."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    monkeypatch.setenv("TRACE_BASE_URL", "http://127.0.0.1:9")  # must never be reached
    FileSecretStore(isolated_env / "credentials.json").set(
        TRACE_TOKEN_ACCOUNT, Secret("trace-token-" + "s" * 30)
    )
    assert cli("byok", "set", "anthropic", "--key-stdin", stdin="sk-ant-" + "a" * 40).code == 0
    assert cli("config", "set", "backend.env", "production").code == 0
    path = isolated_env / target
    DAMAGES[damage](path)
    before = _state(isolated_env)
    commands = CONFIG_COMMANDS if target == "config.toml" else CREDENTIALS_COMMANDS
    problems = []

    for args, stdin in commands:
        result = cli(*args, stdin=stdin)
        figures.add("commands")
        figures.peak("max_latency_s", result.seconds)
        if result.code != 5 or str(path) not in result.output or "Traceback" in result.output:
            problems.append(str(result))
        after = _state(isolated_env)
        if after != before:
            problems.append(f"files changed by: {result}")
            before = after

    figures.add("violations", len(problems))
    assert problems == []
