"""Many processes updating one secrets file at once: the lock means no update is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.secrets.file import FileSecretStore
from tests.support.files import GATE_PRELUDE, file_mode, run_gated, temp_files

PROCESSES = 16
ROUNDS = 5

_SET_ACCOUNT = (
    GATE_PRELUDE
    + """
from adapters.secrets.file import FileSecretStore
from domain.secret import Secret
store = FileSecretStore(Path(sys.argv[2]))
account = sys.argv[3]
for round in range(int(sys.argv[4])):
    store.set(account, Secret(f"sk-{account}-round-{round}"))
"""
)


@pytest.mark.slow
def test_concurrent_processes_setting_different_accounts_lose_nothing(tmp_path: Path) -> None:
    target = tmp_path / "store" / "credentials.json"
    accounts = [f"acct{i:02d}" for i in range(PROCESSES)]

    results = run_gated(
        _SET_ACCOUNT,
        [(str(target), account, str(ROUNDS)) for account in accounts],
        gate=tmp_path / "go",
    )

    assert [r.returncode for r in results] == [0] * PROCESSES, [r.stderr for r in results]
    store = FileSecretStore(target)
    stored = {account: store.get(account) for account in accounts}
    last = ROUNDS - 1
    assert {
        account: found.secret.reveal() if found else None for account, found in stored.items()
    } == {account: f"sk-{account}-round-{last}" for account in accounts}
    assert set(json.loads(target.read_bytes())["secrets"]) == set(accounts)
    assert file_mode(target) == 0o600
    assert file_mode(target.parent) == 0o700
    assert temp_files(target.parent) == []


def test_deleting_an_absent_account_neither_locks_nor_rewrites_the_file(tmp_path: Path) -> None:
    from adapters._fs.atomic_file import lock_path
    from domain.secret import Secret

    path = tmp_path / "credentials.json"
    FileSecretStore(path).set("llm:openai", Secret("sk-" + "a" * 40))
    lock_path(path).unlink()
    before = path.stat()

    assert FileSecretStore(path).delete("llm:anthropic") is False

    assert not lock_path(path).exists()
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
