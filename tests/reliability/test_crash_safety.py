"""Crash safety: a SIGKILL or a failing write never leaves a torn, mixed or unusable file.

A writer process stores a new key (credentials.json, then config.toml) and selects a
new model (config.toml) in a tight loop and is SIGKILLed at a random moment. After
each kill both files must be byte-for-byte one of the states the writer produced
(the old or the new one: never a mix, never a torn JSON or TOML), keep 0600, and the
next command must work. A write that fails part-way (RLIMIT_FSIZE makes the kernel
refuse bytes beyond a size, as a full disk does) must report exit 5 with the reason
and leave the old file as it was.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.secrets.file import FileSecretStore
from adapters.settings.toml import TomlSettingsStore
from domain.provider import TRACE_TOKEN_ACCOUNT, Provider
from domain.secret import Secret
from tests.reliability import workers
from tests.reliability.inprocess import cli
from tests.reliability.plugin import Figures, Profile
from tests.reliability.workers import crash_key, crash_model
from tests.support.files import file_mode, temp_files

TOKEN = "trace-token-crash-survivor-0123456789"
SEED_CONFIG = '# written by hand: stays\n[backend]\nenv = "production"\n\n[custom]\nkept = true\n'
CLI = Path(sys.executable).with_name("buildwithtrace")


def _credentials_bytes(n: int) -> bytes:
    secrets = {"llm:anthropic": crash_key(n), TRACE_TOKEN_ACCOUNT: TOKEN}
    data = {"version": 1, "secrets": secrets}
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _config_renders(scratch: Path) -> tuple[bytes, bytes, bytes]:
    """The config.toml states the writer can leave: seed, seed+provider, seed+provider+model 0."""
    scratch.write_text(SEED_CONFIG, encoding="utf-8")
    store = TomlSettingsStore(scratch)
    seed = scratch.read_bytes()
    store.update(lambda s: s.with_active(Provider.ANTHROPIC))
    active = scratch.read_bytes()
    store.update(lambda s: s.with_model(Provider.ANTHROPIC, crash_model(0)))
    return seed, active, scratch.read_bytes()


def _number(text: str, prefix: str) -> int:
    return int(text[len(prefix) : len(prefix) + 8])


def test_sigkill_at_random_moments_leaves_old_or_new_files(
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile: Profile,
    figures: Figures,
) -> None:
    """A writer storing keys and models in a loop is SIGKILLed at random moments (2-120 ms):
    credentials.json and config.toml are always exactly an old or a new state, 0600, the next
    command works, and the next write deletes the temp files the killed writer left."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    credentials, config = isolated_env / "credentials.json", isolated_env / "config.toml"
    FileSecretStore(credentials).set(TRACE_TOKEN_ACCOUNT, Secret(TOKEN))
    config.write_text(SEED_CONFIG, encoding="utf-8")
    seed, active, with_model = _config_renders(tmp_path / "scratch.toml")
    rng = random.Random(20240611)
    writer = workers.start("crash-writer", stdin_pipe=True)
    assert writer.stdin is not None and writer.stdout is not None
    problems: list[str] = []
    last = 0
    seen_temps: set[str] = set()
    try:
        for kill in range(profile.kills):
            delay = rng.uniform(2, 120)
            writer.stdin.write(f"{last + 1} {delay:.0f}\n")
            writer.stdin.flush()
            answer = writer.stdout.readline().strip()
            if answer != "killed":
                problems.append(f"kill {kill}: the writer {answer or 'died'}")
                break
            new_temps = set(temp_files(isolated_env)) - seen_temps
            seen_temps |= new_temps
            figures.add("kills")
            figures.add("kills_that_left_a_temp_file", bool(new_temps))

            data = credentials.read_bytes()
            key = json.loads(data)["secrets"].get("llm:anthropic")
            n_key = _number(key, "sk-ant-crash-") if key else 0
            if key and data != _credentials_bytes(n_key):
                problems.append(f"kill {kill}: credentials.json is no state the writer wrote")
            text = config.read_bytes()
            found = text.decode().partition('anthropic = "')[2][:20]
            n_model = _number(found, "crash-model-") if found else 0
            renders = {seed, active, with_model.replace(crash_model(0).encode(), found.encode())}
            if text not in renders:
                problems.append(f"kill {kill}: config.toml is no state the writer wrote")
            if file_mode(credentials) != 0o600 or (text != seed and file_mode(config) != 0o600):
                problems.append(f"kill {kill}: a file we wrote is not 0600")
            figures.add("kills_after_a_new_state_landed", max(n_key, n_model) > last)
            last = max(last, n_key, n_model)

            with figures.timed("max_next_command_s"):
                status = cli("byok", "status", "--json")
            if status.code != 0:
                problems.append(f"kill {kill}: the next command failed:\n{status}")
    finally:
        writer.communicate(timeout=30)
    figures.add("states_written", last)
    figures.add("violations", len(problems))

    assert problems == []
    assert figures.get("kills_after_a_new_state_landed") > profile.kills // 2, (
        "the kills came too early to test"
    )
    assert figures.get("kills_that_left_a_temp_file") > 0, "no kill landed inside a write"
    stored = cli("byok", "set", "anthropic", "--key-stdin", stdin=crash_key(last + 1))
    chosen = cli("byok", "model", crash_model(last + 1))
    assert stored.code == 0 and chosen.code == 0, f"{stored}\n{chosen}"
    assert credentials.read_bytes() == _credentials_bytes(last + 1)
    # The next writer deletes what killed writers left (it may hold removed keys).
    figures.add("temp_files_left_after_next_write", len(temp_files(isolated_env)))
    assert temp_files(isolated_env) == []


def _limited(limit: int) -> None:  # pragma: no cover - runs in the child before exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _run_limited(args: list[str], stdin: str, limit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        preexec_fn=lambda: _limited(limit),
    )


@pytest.mark.parametrize(
    ("target", "args", "stdin"),
    [
        ("credentials.json", ["byok", "set", "openai", "--key-stdin"], "sk-proj-" + "b" * 3900),
        ("config.toml", ["byok", "model", "m" * 190, "--provider", "openai"], ""),
        ("config.toml", ["config", "set", "backend.api_version", "v" + "9" * 30], ""),
    ],
    ids=["credentials-set", "config-model", "config-set"],
)
def test_a_write_cut_short_by_the_file_size_limit_leaves_the_old_file(
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    figures: Figures,
    target: str,
    args: list[str],
    stdin: str,
) -> None:
    """A write the kernel stops part-way (RLIMIT_FSIZE just above the old size, like a disk
    filling up): exit 5 naming the file and the limit, the old file byte-for-byte, no temp file
    left, and the same command works once the limit is gone."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    assert cli("byok", "set", "anthropic", "--key-stdin", stdin="sk-ant-" + "a" * 40).code == 0
    assert cli("byok", "model", "claude-opus-4-1").code == 0
    path = isolated_env / target
    before = {p.name: p.read_bytes() for p in isolated_env.iterdir() if p.is_file()}
    limit = len(before[target]) + 32  # the new file gets 32 bytes further than the old one

    result = _run_limited(args, stdin, limit)

    figures.add("cut_short_writes")
    assert result.returncode == 5, result.stderr
    assert str(path) in result.stderr and "file size limit" in result.stderr, result.stderr
    after = {p.name: p.read_bytes() for p in isolated_env.iterdir() if p.is_file()}
    assert after == before
    assert temp_files(isolated_env) == []
    again = cli(*args, stdin=stdin)
    assert again.code == 0, again
    figures.add("recovered_next_command", again.code == 0)
