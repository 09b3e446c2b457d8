"""The atomic-file machinery on a real file system: modes, refusals, crashes, failed writes."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import filelock
import pytest

from adapters._fs.atomic_file import (
    atomic_write,
    lock_path,
    locked,
    read_bytes_checked,
    storage_error,
)
from adapters.secrets.file import FileSecretStore
from domain.errors import (
    CorruptFileError,
    InsecurePermissionsError,
    StorageError,
    UnreadableFileError,
    UntrustedLocationError,
)
from domain.secret import Secret
from tests.support.files import file_mode, python_process, run_python, temp_files

KEY = Secret("sk-test-0000000000000000")
_is_root = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Run with umask 0, so only the mode we pass to open/mkdir can keep a file private."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def private_dir(tmp_path: Path) -> Path:
    """A 0700 directory, as the stores create it."""
    directory = tmp_path / "private"
    directory.mkdir(mode=0o700)
    return directory


# --- modes ---------------------------------------------------------------------


@pytest.mark.usefixtures("open_umask")
def test_new_file_is_0600_in_a_new_0700_directory(tmp_path: Path) -> None:
    target = tmp_path / "made" / "by" / "us" / "credentials.json"

    atomic_write(target, b"{}")

    assert target.read_bytes() == b"{}"
    assert file_mode(target) == 0o600
    assert file_mode(target.parent) == 0o700


@pytest.mark.usefixtures("open_umask")
def test_rewritten_file_stays_0600(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    atomic_write(target, b"old")

    atomic_write(target, b"new")

    assert target.read_bytes() == b"new"
    assert file_mode(target) == 0o600


@pytest.mark.usefixtures("open_umask")
def test_no_file_is_ever_visible_wider_than_0600_while_writing(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    wide: list[tuple[str, str]] = []
    temps_seen = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal temps_seen
        while not stop.is_set():
            for entry in os.scandir(private_dir):
                if entry.name.endswith(".lock"):
                    continue
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except FileNotFoundError:
                    continue  # renamed away between listing and stat
                temps_seen += entry.name.endswith(".tmp")
                if mode & 0o077:
                    wide.append((entry.name, oct(mode)))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(200):
            atomic_write(target, str(i).encode() * 50_000)
    finally:
        stop.set()
        watcher.join()

    assert wide == []
    assert temps_seen > 0, "the watcher never saw a write in progress; the test proves nothing"


# --- refusals ------------------------------------------------------------------


def test_missing_file_or_directory_reads_as_none(tmp_path: Path) -> None:
    assert read_bytes_checked(tmp_path / "nope.json", private=True) is None
    assert read_bytes_checked(tmp_path / "no" / "dir.json", private=True) is None
    assert read_bytes_checked(tmp_path / "no" / "config.toml", private=False) is None


def test_group_readable_secrets_file_is_refused_with_chmod_fix(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    FileSecretStore(target).set("llm:openai", KEY)
    target.chmod(0o644)
    before = target.read_bytes()

    with pytest.raises(InsecurePermissionsError) as caught:
        FileSecretStore(target).get("llm:openai")
    assert f"chmod 600 {target}" in caught.value.message
    assert "0644" in caught.value.message

    with pytest.raises(InsecurePermissionsError):
        FileSecretStore(target).set("llm:anthropic", KEY)
    assert target.read_bytes() == before
    assert file_mode(target) == 0o644
    assert KEY.reveal() not in caught.value.message


def test_world_readable_secrets_directory_is_refused_with_chmod_fix(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    target = directory / "credentials.json"
    FileSecretStore(target).set("llm:openai", KEY)
    directory.chmod(0o755)

    with pytest.raises(InsecurePermissionsError) as read_error:
        read_bytes_checked(target, private=True)
    with pytest.raises(InsecurePermissionsError) as write_error:
        atomic_write(target, b"replaced")

    assert f"chmod 700 {directory}" in read_error.value.message
    assert f"chmod 700 {directory}" in write_error.value.message
    assert KEY.reveal() in target.read_text()
    assert temp_files(directory) == []


def test_non_private_write_accepts_a_shared_directory(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)

    atomic_write(directory / "config.toml", b"x = 1\n", private=False)

    assert read_bytes_checked(directory / "config.toml", private=False) == b"x = 1\n"
    assert file_mode(directory / "config.toml") == 0o600


def test_directory_where_the_file_should_be_is_refused(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    target.mkdir()

    with pytest.raises(UnreadableFileError, match="directory") as read_error:
        read_bytes_checked(target, private=True)
    with pytest.raises(UnreadableFileError, match="directory"):
        atomic_write(target, b"{}")

    assert str(target) in read_error.value.message
    assert target.is_dir()
    assert temp_files(private_dir) == []


def test_fifo_where_the_file_should_be_is_refused_without_blocking(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    os.mkfifo(target, 0o600)

    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_bytes_checked(target, private=True)


@pytest.mark.skipif(not _is_root, reason="only root can give a file to another user")
def test_secrets_file_owned_by_another_user_is_refused(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    atomic_write(target, b"{}")
    os.chown(target, 4242, -1)

    with pytest.raises(UnreadableFileError, match="owned by uid 4242"):
        read_bytes_checked(target, private=True)
    # config.toml too: another user's settings could point the backend at their server.
    with pytest.raises(UnreadableFileError, match="owned by uid 4242"):
        read_bytes_checked(target, private=False)


@pytest.mark.skipif(_is_root, reason="root reads files whatever their mode")
def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    target.write_bytes(b"x = 1\n")
    target.chmod(0o000)

    with pytest.raises(UnreadableFileError, match="permission denied"):
        read_bytes_checked(target, private=False)


def test_a_link_is_never_written_through_and_says_how_to_proceed(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "config.toml"
    real.write_bytes(b"old = 1\n")
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)

    with pytest.raises(UntrustedLocationError, match="never writes through a link") as caught:
        atomic_write(link, b"new = 2\n", private=False)

    assert link.is_symlink()
    assert real.read_bytes() == b"old = 1\n"
    assert f"cp --remove-destination {real} {link}" in caught.value.fix
    # Reading through the user's own link still works.
    assert read_bytes_checked(link, private=False) == b"old = 1\n"


@pytest.mark.skipif(not _is_root, reason="needs root to hand a path to another user")
def test_a_link_on_the_way_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    sticky = tmp_path / "shared"
    sticky.mkdir()
    sticky.chmod(0o1777)  # like /tmp: anyone may add entries, nobody may replace others'
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    (mine / "config.toml").write_bytes(b"x = 1\n")
    link = sticky / "cfg"
    link.symlink_to(mine)
    os.chown(link, 4242, 4242, follow_symlinks=False)

    with pytest.raises(UntrustedLocationError, match="link owned by uid 4242"):
        read_bytes_checked(link / "config.toml", private=False)
    os.chown(link, 0, 0, follow_symlinks=False)
    assert read_bytes_checked(link / "config.toml", private=False) == b"x = 1\n"


def test_a_sticky_world_writable_parent_is_accepted(tmp_path: Path) -> None:
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    config = sticky / "config"

    atomic_write(config / "config.toml", b"x = 1\n", private=False)

    assert read_bytes_checked(config / "config.toml", private=False) == b"x = 1\n"
    sticky.chmod(0o777)  # without the sticky bit others could rename config/ away
    with pytest.raises(UntrustedLocationError, match=f"chmod go-w {sticky}"):
        read_bytes_checked(config / "config.toml", private=False)


# --- corrupt files are never replaced --------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"   \n",
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'{"secrets": {}}',
        b'{"version": 1, "secrets": []}',
        b'{"version": 1, "secrets": {"llm:openai": 42}}',
        b'{"version": 99, "secrets": {}}',
        b'{"version": true, "secrets": {}}',
        b'{"version": 1, "secrets": {"llm:openai": "has space"}}',
        b'{"version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=[
        "empty",
        "blank",
        "bad-json",
        "not-utf8",
        "not-object",
        "no-version",
        "secrets-list",
        "secret-number",
        "newer-version",
        "bool-version",
        "invalid-secret",
        "nested-too-deep",
    ],
)
def test_corrupt_secrets_file_is_reported_and_never_overwritten(
    private_dir: Path, content: bytes
) -> None:
    target = private_dir / "credentials.json"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    store = FileSecretStore(target)

    with pytest.raises(CorruptFileError) as caught:
        store.get("llm:openai")
    with pytest.raises(CorruptFileError):
        store.set("llm:anthropic", KEY)
    with pytest.raises(CorruptFileError):
        store.delete("llm:openai")

    assert str(target) in caught.value.message
    assert target.read_bytes() == content
    assert temp_files(private_dir) == []
    (check,) = store.check()
    assert not check.ok
    assert str(target) in check.detail


def test_corrupt_json_message_does_not_quote_the_file(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"version": 1, "secrets": {"llm:openai": "sk-leaked-secret-value"')
    os.close(fd)

    with pytest.raises(CorruptFileError) as caught:
        FileSecretStore(target).get("llm:openai")

    assert "sk-leaked" not in caught.value.message
    assert "line 1" in caught.value.message


def test_file_store_keeps_unknown_top_level_keys(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    atomic_write(target, b'{"version": 1, "secrets": {}, "future": {"a": [1, 2]}}')

    FileSecretStore(target).set("llm:openai", KEY)

    saved = json.loads(target.read_bytes())
    assert saved == {"version": 1, "secrets": {"llm:openai": KEY.reveal()}, "future": {"a": [1, 2]}}


def test_deleting_from_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "store" / "credentials.json"

    assert FileSecretStore(target).delete("llm:openai") is False
    assert not target.parent.exists()


# --- locking -------------------------------------------------------------------


def test_lock_held_elsewhere_times_out_with_a_fix(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    other = filelock.FileLock(lock_path(target), thread_local=False)
    with other, pytest.raises(StorageError) as caught, locked(target, private=True, timeout=0.2):
        pass  # pragma: no cover - the lock must not be granted

    assert "locked by another buildwithtrace process" in caught.value.message
    assert f"rm {lock_path(target)}" in caught.value.fix
    with locked(target, private=True, timeout=0.2):
        pass  # released by the other holder: granted at once


def test_lock_held_here_keeps_filelock_out(private_dir: Path) -> None:
    """Our flock and filelock's (an older CLI's) exclude each other in both directions."""
    target = private_dir / "credentials.json"
    other = filelock.FileLock(lock_path(target), thread_local=False, timeout=0.2)
    with locked(target, private=True), pytest.raises(filelock.Timeout):
        other.acquire()
    with other:
        pass  # released by us: granted at once


def test_two_threads_of_one_process_take_turns(private_dir: Path) -> None:
    """The lock is per open file: a second thread waits as a second process would."""
    target = private_dir / "config.toml"
    inside: list[str] = []
    entered = threading.Event()

    def second() -> None:
        entered.wait(5)
        with locked(target, private=True, timeout=5):
            inside.append("second")

    worker = threading.Thread(target=second)
    worker.start()
    with locked(target, private=True):
        entered.set()
        time.sleep(0.2)
        inside.append("first")
    worker.join(10)

    assert inside == ["first", "second"]


def test_a_lock_file_that_is_a_link_is_refused(private_dir: Path) -> None:
    """The lock file is opened for writing: a link planted there is never followed."""
    target = private_dir / "credentials.json"
    victim = private_dir / "victim"
    victim.write_text("keep me", encoding="utf-8")
    lock_path(target).symlink_to(victim)

    with pytest.raises(StorageError), locked(target, private=True, timeout=0.2):
        pass  # pragma: no cover - the lock must not be granted

    assert victim.read_text(encoding="utf-8") == "keep me"


# --- crashes and failed writes ---------------------------------------------------

_WRITE_FOREVER = """
import json, sys
from pathlib import Path
from adapters._fs.atomic_file import atomic_write
target = Path(sys.argv[1])
n = 0
while True:
    n += 1
    atomic_write(target, json.dumps({"n": n, "check": n * 7, "pad": "x" * 200_000}).encode())
    if n == 1:
        print("ready", flush=True)
"""


def _assert_whole(data: bytes | None) -> None:
    assert data is not None
    state = json.loads(data)  # old or new, never torn
    assert state["check"] == state["n"] * 7


@pytest.mark.slow
def test_readers_and_crashes_see_the_old_or_the_new_file_never_a_torn_one(
    private_dir: Path,
) -> None:
    target = private_dir / "state.json"
    atomic_write(target, json.dumps({"n": 0, "check": 0, "pad": ""}).encode())
    rng = random.Random(1234)

    for _ in range(6):
        child = python_process(_WRITE_FOREVER, str(target))
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        deadline = time.monotonic() + rng.uniform(0.05, 0.2)
        while time.monotonic() < deadline:  # readers take no lock: rename keeps them safe
            _assert_whole(read_bytes_checked(target, private=True))
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)

        _assert_whole(read_bytes_checked(target, private=True))
        assert file_mode(target) == 0o600

    atomic_write(target, b"{}")  # a temp file left by the kill does not block the next write
    assert target.read_bytes() == b"{}"


_WRITE_BEYOND_FSIZE = """
import resource, sys
from pathlib import Path
from adapters._fs.atomic_file import atomic_write
from domain.errors import StorageError
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
try:
    atomic_write(Path(sys.argv[1]), b"n" * 1_000_000)
except StorageError as exc:
    print(type(exc).__name__)
    print(exc.message)
    sys.exit(0)
sys.exit("the write was not refused")
"""


def test_failed_write_leaves_the_old_file_and_no_temp_file(private_dir: Path) -> None:
    target = private_dir / "credentials.json"
    atomic_write(target, b"old content")

    result = run_python(_WRITE_BEYOND_FSIZE, str(target))

    assert result.returncode == 0, result.stderr
    assert "file size limit" in result.stdout
    assert str(target) in result.stdout
    assert target.read_bytes() == b"old content"
    assert temp_files(private_dir) == []


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (errno.ENOSPC, StorageError, "disk is full"),
        (errno.EDQUOT, StorageError, "quota"),
        (errno.EFBIG, StorageError, "file size limit"),
        (errno.EROFS, StorageError, "read-only"),
        (errno.EACCES, UnreadableFileError, "permission denied"),
        (errno.EISDIR, UnreadableFileError, "directory"),
        (errno.EIO, UnreadableFileError, os.strerror(errno.EIO)),
    ],
)
def test_os_errors_become_storage_errors_naming_the_file(
    tmp_path: Path, code: int, kind: type[StorageError], words: str
) -> None:
    target = tmp_path / "credentials.json"

    error = storage_error(target, OSError(code, os.strerror(code)))

    assert type(error) is kind
    assert words in error.message
    assert str(target) in error.message
    assert error.fix


@pytest.mark.skipif(not _is_root, reason="needs root to give a directory to another group")
def test_group_write_is_accepted_only_for_the_users_private_group(tmp_path: Path) -> None:
    # root's primary group is "root" with no other member: a private group, as a user's
    # own group is under "user private groups" (umask 002 makes directories 0775).
    config = tmp_path / "config"
    config.mkdir()
    config.chmod(0o775)
    os.chown(config, 0, 0)
    atomic_write(config / "config.toml", b"x = 1\n", private=False)
    assert read_bytes_checked(config / "config.toml", private=False) == b"x = 1\n"

    os.chown(config, 0, 4242)  # a shared group: its members could plant a link
    with pytest.raises(UntrustedLocationError, match="its group can write"):
        read_bytes_checked(config / "config.toml", private=False)
