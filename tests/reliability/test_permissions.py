"""Permissions: secrets are never readable by others, not even for an instant.

A watcher thread polls the config tree as fast as it can (plain ``scandir``/``lstat``,
no inotify, so it sees what any other user's process could see) while a CLI process
running with umask 000 (the worst case: nothing narrows the modes we ask for) creates
the config directory and rewrites credentials.json and config.toml many times. Every
file it ever sees (final files, temp files, lock files) must be 0600 at most and every
directory we created 0700 at most. Then files and directories opened up by someone
else are refused by every command that touches them, with the chmod fix, unchanged.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_runner import snapshot
from tests.reliability import workers
from tests.reliability.inprocess import cli
from tests.reliability.plugin import Figures, Profile

PROVIDERS = ("anthropic", "openai", "gemini")
PREFIX = {"anthropic": "sk-ant-", "openai": "sk-proj-", "gemini": "AIza"}


class Watcher:
    """Polls a tree and records every mode it sees."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self.polls = 0
        self.entries = 0
        self.temps = 0
        self.locks = 0
        self.wide: set[tuple[str, str]] = set()  # (path, mode) seen wider than allowed
        self.seen_config_dir = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.polls += 1
            self._scan(self.top)

    def _scan(self, directory: Path) -> None:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # renamed away between listing and stat
            self.entries += 1
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISDIR(info.st_mode):
                self.seen_config_dir |= entry.name == "buildwithtrace"
                if mode & 0o077:
                    self.wide.add((entry.path, oct(mode)))
                self._scan(Path(entry.path))
                continue
            self.temps += entry.name.endswith(".tmp")
            self.locks += entry.name.endswith(".lock")
            if mode & 0o077:
                self.wide.add((entry.path, oct(mode)))


def _plan(writes: int) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for n in range(writes):
        provider = PROVIDERS[n % 3]
        key = f"{PREFIX[provider]}watch-{n:04d}-{uuid.uuid4().hex}"
        if n % 4 == 3:
            steps.append({"args": ["byok", "remove", provider]})
        else:
            steps.append({"args": ["byok", "set", provider, "--key-stdin"], "stdin": key})
        steps.append({"args": ["byok", "model", f"model-{n}", "--provider", provider]})
    return steps


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_no_file_is_ever_visible_wider_than_0600(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    profile: Profile,
    figures: Figures,
    umask: int,
) -> None:
    """A poller watches ~/.config/buildwithtrace from before it exists while a CLI process with
    umask 000 (or 022) creates it and rewrites both files: no file, temp or lock file is ever
    seen wider than 0600, no directory we created wider than 0700."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    config_dir = home / ".config" / "buildwithtrace"
    monkeypatch.setenv("TRACE_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(profile.watch_writes)), encoding="utf-8")
    gate = tmp_path / "go"

    child = workers.start("ops", str(gate), str(plan), umask=umask)
    with Watcher(home) as watcher:
        time.sleep(0.3)
        gate.touch()
        stdout, stderr = child.communicate(timeout=300)
    codes = [json.loads(line)["code"] for line in stdout.splitlines()]

    figures.add("commands", len(codes))
    figures.add("polls", watcher.polls)
    figures.add("entries_observed", watcher.entries)
    figures.add("temp_files_observed", watcher.temps)
    figures.add("violations", len(watcher.wide))
    assert child.returncode == 0, stderr
    assert codes == [0] * len(codes)
    assert watcher.wide == set()
    assert watcher.seen_config_dir and watcher.temps > 0, "the poller saw no write in progress"


def _open_file(config_dir: Path, mode: int) -> str:
    credentials = config_dir / "credentials.json"
    credentials.chmod(mode)
    return f"chmod 600 {credentials}"


def _open_dir(config_dir: Path, mode: int) -> str:
    config_dir.chmod(mode)
    return f"chmod 700 {config_dir}"


OPENINGS = [
    ("file", 0o640),
    ("file", 0o604),
    ("file", 0o620),
    ("file", 0o666),
    ("dir", 0o750),
    ("dir", 0o705),
    ("dir", 0o770),
    ("dir", 0o777),
]

# Every command that reads or writes the secret store.
COMMANDS: list[tuple[tuple[str, ...], str]] = [
    (("byok", "set", "openai", "--key-stdin"), "sk-proj-" + "o" * 40),
    (("byok", "use", "anthropic"), ""),
    (("byok", "remove", "anthropic"), ""),
    (("byok", "status"), ""),
    (("byok", "status", "--json"), ""),
    (("doctor",), ""),
    (("auth", "logout"), ""),
    (("auth", "status", "--offline"), ""),
    (("auth", "login", "--token-stdin"), "trace-token-" + "t" * 30),
    (("billing", "status"), ""),
    (("chat", "hello"), ""),
]


@pytest.mark.parametrize(("what", "mode"), OPENINGS, ids=[f"{w}-{m:o}" for w, m in OPENINGS])
def test_a_store_opened_up_by_someone_else_is_refused_with_the_fix(
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    figures: Figures,
    what: str,
    mode: int,
) -> None:
    """credentials.json or its directory given group/other bits by someone else: every command
    that touches the store exits 5 with the exact chmod fix and changes no file."""
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    monkeypatch.setenv("TRACE_BASE_URL", "http://127.0.0.1:9")  # never reached: refused first
    assert cli("byok", "set", "anthropic", "--key-stdin", stdin="sk-ant-" + "a" * 40).code == 0
    fix = (_open_file if what == "file" else _open_dir)(isolated_env, mode)
    before = snapshot(isolated_env)
    problems = []

    for args, stdin in COMMANDS:
        result = cli(*args, stdin=stdin)
        figures.add("commands")
        figures.peak("max_latency_s", result.seconds)
        if result.code != 5 or fix not in result.output:
            problems.append(str(result))
        if snapshot(isolated_env) != before:
            problems.append(f"files changed by: {result}")
            before = snapshot(isolated_env)

    figures.add("violations", len(problems))
    assert problems == []
