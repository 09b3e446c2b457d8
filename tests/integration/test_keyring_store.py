"""KeyringSecretStore against real keychain failures (KEYCHAIN-NOTES.md's table) and secret-tool."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, fail, null
from keyring.errors import PasswordSetError

from adapters.secrets.keychain import KeyringSecretStore
from application.ports import StoreKind
from domain.credential import SourceKind
from domain.errors import KeychainUnavailableError
from domain.secret import Secret
from tests.support.keychain import RunningSecretService, silent_secret_service, silent_socket

REPO = Path(__file__).resolve().parents[2]
KEY = Secret.parse("sk-test-0123456789abcdef")
QUICK = 0.5  # seconds; "fails quickly" means well under the 3 s default bound


def _unavailable(store: KeyringSecretStore) -> tuple[KeychainUnavailableError, float]:
    started = time.monotonic()
    with pytest.raises(KeychainUnavailableError) as caught:
        store.get("llm:anthropic")
    return caught.value, time.monotonic() - started


def test_no_dbus_session_fails_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    error, elapsed = _unavailable(KeyringSecretStore("svc"))
    assert "DBUS_SESSION_BUS_ADDRESS is unset" in error.reason
    assert elapsed < QUICK


def test_a_bus_socket_that_does_not_exist_fails_quickly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/missing")
    error, elapsed = _unavailable(KeyringSecretStore("svc"))
    assert "cannot connect to the D-Bus session bus" in error.reason
    assert elapsed < QUICK


def test_plain_keyring_backend_without_a_bus_is_translated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/missing")
    store = KeyringSecretStore("svc", backend_factory=SecretService.Keyring)
    with pytest.raises(KeychainUnavailableError, match="D-Bus session bus"):
        store.set("llm:openai", KEY)


def test_a_bus_without_a_secret_service_fails_quickly(
    private_bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", private_bus)
    error, elapsed = _unavailable(KeyringSecretStore("svc"))
    assert error.reason == "no Secret Service is running on the D-Bus session bus"
    assert elapsed < QUICK


@pytest.mark.keychain
def test_a_locked_keychain_fails_well_under_the_bound(
    keychain_store: KeyringSecretStore, secret_service: RunningSecretService
) -> None:
    with secret_service.locked():
        error, elapsed = _unavailable(keychain_store)
    assert error.reason == "the keychain is locked"
    assert elapsed < QUICK
    assert not secret_service.is_locked()


@pytest.mark.keychain
def test_a_locked_keychain_is_never_asked_to_unlock(
    keychain_store: KeyringSecretStore, secret_service: RunningSecretService, keychain_service: str
) -> None:
    # Unlock is what opens a password prompt in a desktop session; keyring's own backend
    # calls it (and then Prompt.Prompt) for a locked collection.
    with secret_service.locked(), secret_service.watch() as calls:
        for attempt in (
            lambda: keychain_store.get("llm:openai"),
            lambda: KeyringSecretStore(keychain_service).set("llm:openai", KEY),
            lambda: KeyringSecretStore(keychain_service).delete("llm:openai"),
        ):
            with pytest.raises(KeychainUnavailableError, match="locked"):
                attempt()
    assert calls  # the monitor works: it saw the lock check
    assert not [call for call in calls if call.endswith((".Unlock", ".Prompt"))]
    assert secret_service.accounts(keychain_service) == {}


def test_a_hung_secret_service_times_out_after_the_bound(
    private_bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", private_bus)
    with silent_secret_service(private_bus):
        error, elapsed = _unavailable(KeyringSecretStore("svc", timeout=0.5))
    assert error.reason == "the keychain did not answer within 0.5s"
    assert 0.45 <= elapsed < 1.5


def test_a_bus_that_never_answers_times_out_after_the_bound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with silent_socket(tmp_path / "bus") as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        error, elapsed = _unavailable(KeyringSecretStore("svc", timeout=0.5))
    assert error.reason == "the keychain did not answer within 0.5s"
    assert 0.45 <= elapsed < 1.5


def test_after_a_timeout_later_calls_fail_fast_with_the_same_reason(
    private_bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", private_bus)
    store = KeyringSecretStore("svc", timeout=0.5)
    with silent_secret_service(private_bus):
        first, _ = _unavailable(store)
        second, elapsed = _unavailable(store)
        with pytest.raises(KeychainUnavailableError):
            store.set("llm:openai", KEY)
    assert second.reason == first.reason
    assert elapsed < 0.05


def test_an_abandoned_call_does_not_keep_the_process_alive(private_bus: str) -> None:
    # A child process that times out against a daemon hung for good must still exit at once.
    script = textwrap.dedent(
        """
        from adapters.secrets.keychain import KeyringSecretStore
        from domain.errors import KeychainUnavailableError
        try:
            KeyringSecretStore("svc", timeout=0.5).get("llm:anthropic")
        except KeychainUnavailableError as exc:
            print(exc.reason)
        """
    )
    env = {"DBUS_SESSION_BUS_ADDRESS": private_bus, "PYTHONPATH": str(REPO)}
    with silent_secret_service(private_bus):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=10
        )
        elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "the keychain did not answer within 0.5s"
    assert elapsed < 3.0


@pytest.mark.keychain
def test_a_failure_is_retried_after_retry_after(
    secret_service: RunningSecretService, keychain_service: str
) -> None:
    store = KeyringSecretStore(keychain_service, retry_after=0.2)
    with secret_service.locked():
        _unavailable(store)
    with pytest.raises(KeychainUnavailableError, match="locked"):
        store.get("llm:anthropic")  # remembered: not asked again yet
    time.sleep(0.25)
    try:
        assert store.get("llm:anthropic") is None
    finally:
        secret_service.forget(keychain_service)


@pytest.mark.parametrize("backend", [null.Keyring, fail.Keyring], ids=["null", "fail"])
def test_backends_that_store_nothing_are_refused(backend: type[KeyringBackend]) -> None:
    store = KeyringSecretStore("svc", backend_factory=backend)
    with pytest.raises(KeychainUnavailableError, match="stores nothing or stores plain text"):
        store.set("llm:openai", KEY)


def test_a_null_backend_named_in_the_environment_is_refused() -> None:
    store = KeyringSecretStore("svc", backend_name="keyring.backends.null.Keyring")
    with pytest.raises(KeychainUnavailableError, match=r"keyring\.backends\.null"):
        store.get("llm:openai")


def test_a_backend_that_cannot_be_loaded_is_reported() -> None:
    store = KeyringSecretStore("svc", backend_name="no_such_module.Keyring")
    with pytest.raises(KeychainUnavailableError, match="PYTHON_KEYRING_BACKEND"):
        store.get("llm:openai")
    assert store.info().detail == "no_such_module.Keyring (from PYTHON_KEYRING_BACKEND)"


class _LeakyBackend(KeyringBackend):
    """A third-party-style backend whose error message quotes the password."""

    priority = 5  # a plain number is how most backends say it

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"cannot store {password!r} for {username}")

    def delete_password(self, service: str, username: str) -> None:
        return None


def test_a_secret_never_appears_in_the_error() -> None:
    store = KeyringSecretStore("svc", backend_factory=_LeakyBackend)
    with pytest.raises(KeychainUnavailableError) as caught:
        store.set("llm:openai", KEY)
    assert KEY.reveal() not in caught.value.message
    assert "PasswordSetError" in caught.value.reason


class _BuggyBackend(_LeakyBackend):
    """A backend with a plain bug (not a keyring error) whose message quotes the password."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ValueError(f"unexpected byte in {password}")


def test_a_backend_bug_quoting_the_secret_is_shown_without_it() -> None:
    store = KeyringSecretStore("svc", backend_factory=_BuggyBackend)
    with pytest.raises(KeychainUnavailableError) as caught:
        store.set("llm:openai", KEY)
    shown = f"{caught.value.message} {caught.value!r} {caught.value.args!r}"
    assert KEY.reveal() not in shown
    assert "ValueError" in caught.value.reason
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.keychain
def test_a_stored_key_is_really_in_the_secret_service(
    keychain_store: KeyringSecretStore, keychain_service: str
) -> None:
    keychain_store.set("llm:anthropic", KEY)
    assert _secret_tool("lookup", keychain_service, "llm:anthropic") == KEY.reveal()
    assert keychain_store.delete("llm:anthropic") is True
    assert _secret_tool("lookup", keychain_service, "llm:anthropic") == ""


@pytest.mark.keychain
def test_a_key_stored_by_another_client_is_read_as_stored(
    keychain_store: KeyringSecretStore, keychain_service: str
) -> None:
    odd = "  has spaces and\ttabs  "  # Secret.parse would refuse it; get must not crash
    _secret_tool("store", keychain_service, "llm:gemini", value=odd)
    found = keychain_store.get("llm:gemini")
    assert found is not None
    assert found.secret.reveal() == odd
    assert found.source.kind is SourceKind.KEYCHAIN


@pytest.mark.keychain
def test_check_reports_a_working_keychain(keychain_store: KeyringSecretStore) -> None:
    (check,) = keychain_store.check()
    assert check.ok
    assert check.name == "keychain"
    assert "Secret Service answered in" in check.detail


def test_check_reports_an_unusable_keychain_without_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    (check,) = KeyringSecretStore("svc").check()
    assert not check.ok
    assert "DBUS_SESSION_BUS_ADDRESS" in check.detail


def test_info_names_the_keychain_without_touching_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    info = KeyringSecretStore("svc").info()
    assert info.kind is StoreKind.KEYCHAIN
    assert info.detail == "Secret Service"


def test_keyring_is_imported_only_when_the_keychain_is_used() -> None:
    script = textwrap.dedent(
        """
        import sys
        from adapters.secrets.fallback import FallbackSecretStore
        from adapters.secrets.keychain import KeyringSecretStore
        from adapters.secrets.memory import InMemorySecretStore
        store = FallbackSecretStore(KeyringSecretStore("svc"), InMemorySecretStore())
        store.info()
        assert not [m for m in sys.modules if m.startswith(("keyring", "secretstorage"))]
        """
    )
    env = {"PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _secret_tool(command: str, service: str, account: str, value: str | None = None) -> str:
    args = ["secret-tool", command]
    if command == "store":
        args.append("--label=test item")
    args += ["service", service, "username", account]
    done = subprocess.run(args, input=value, capture_output=True, text=True, timeout=10)
    assert done.returncode in (0, 1), done.stderr  # lookup exits 1 when nothing matches
    return done.stdout


@pytest.mark.keychain
def test_reads_find_the_item_keyring_finds_when_an_account_has_two(
    keychain_store: KeyringSecretStore, keychain_service: str
) -> None:
    """Another tool's second item (no ``application`` attribute): the same pick as keyring."""
    keychain_store.set("llm:openai", KEY)
    _secret_tool("store", keychain_service, "llm:openai", value="sk-other-tool-000000000")
    keychain_store.set("llm:anthropic", Secret.parse("sk-ant-only-one-0000000"))

    backend = SecretService.Keyring()  # type: ignore[no-untyped-call]
    expected = backend.get_password(keychain_service, "llm:openai")  # type: ignore[no-untyped-call]
    found = keychain_store.get_many(["llm:openai", "llm:anthropic", "llm:gemini"])

    openai = found["llm:openai"]
    assert openai is not None
    assert openai.secret.reveal() == expected
    anthropic = found["llm:anthropic"]
    assert anthropic is not None
    assert anthropic.secret.reveal() == "sk-ant-only-one-0000000"
    assert found["llm:gemini"] is None


@pytest.mark.keychain
def test_a_read_does_not_load_keyring(keychain_service: str, secret_service: object) -> None:
    """keyring (urllib, http.client, email...) loads for writes only; a read needs the bus."""
    script = textwrap.dedent(
        f"""
        import sys
        from adapters.secrets.keychain import KeyringSecretStore
        store = KeyringSecretStore({keychain_service!r})
        assert store.get_many(["llm:openai", "llm:anthropic"]) == {{
            "llm:openai": None, "llm:anthropic": None
        }}
        assert not [m for m in sys.modules if m.startswith("keyring")], "keyring loaded"
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
