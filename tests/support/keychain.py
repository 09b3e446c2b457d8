"""Pytest plugin: a real Secret Service (gnome-keyring on a private D-Bus bus) for tests.

Tests marked ``keychain`` (and tests asking for ``secret_service`` or ``keychain_store``)
get ``DBUS_SESSION_BUS_ADDRESS`` pointing at a running, unlocked Secret Service:

- the one ``scripts/with-keychain`` started, when the test process runs under it
  (recognised by ``SECRET_SERVICE_TEST_PASSWORD`` in the environment);
- else a private one started once per session: ``dbus-daemon`` with no service
  directories (so nothing is auto-activated and no unlock prompt can appear) and
  ``gnome-keyring-daemon --unlock`` with its data in a temp dir. A developer's own
  desktop keychain is never used: tests lock collections and would litter it.

Without ``gnome-keyring-daemon`` the keychain tests are skipped, unless
``REQUIRE_SECRET_SERVICE=1`` (CI) makes them fail. The address is applied per test
(monkeypatch), so tests that are not about the keychain never depend on test order;
a subprocess a test starts inherits it. After each test the collection is unlocked
again and every item under the test's ``keychain_service`` is deleted.

Fixtures: ``secret_service`` (a :class:`RunningSecretService`: lock/unlock, watch the
calls clients make, list items), ``keychain_store``, ``keychain_service``,
``private_bus`` (a bus with no Secret Service). Helpers: :func:`silent_secret_service`
and :func:`silent_socket` simulate a hung daemon and a bus that never answers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import attrs
import pytest

from adapters.secrets.keychain import KeyringSecretStore

BUS_ENV = "DBUS_SESSION_BUS_ADDRESS"
PASSWORD_ENV = "SECRET_SERVICE_TEST_PASSWORD"  # exported by scripts/with-keychain
REQUIRE_ENV = "REQUIRE_SECRET_SERVICE"  # not TRACE_*: tests/conftest.py scrubs those
PASSWORD = "trace-test-keychain"  # a throwaway keychain holding throwaway keys
SECRETS_NAME = "org.freedesktop.secrets"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
_START_TIMEOUT = 10.0

# The stock session config minus service directories and includes: no auto-activation.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@attrs.frozen
class RunningSecretService:
    """A running Secret Service for tests: its bus address and the keychain password."""

    address: str
    password: str
    started_in: float  # seconds it took to start (0 when reused)

    def lock(self) -> None:
        """Lock the default collection over D-Bus (``secret-tool lock`` can hang)."""
        import secretstorage

        with self._connection() as bus:
            secretstorage.Collection(bus, DEFAULT_COLLECTION).lock()

    def unlock(self) -> None:
        """Unlock the default collection with the password, without a prompt.

        The Secret Service ``Unlock`` method asks a prompter (none exists headless), so
        this uses gnome-keyring's own ``UnlockWithMasterPassword`` with a plain session.
        """
        from jeepney import DBusAddress, MessageType, new_method_call

        service = DBusAddress(
            "/org/freedesktop/secrets", SECRETS_NAME, "org.freedesktop.Secret.Service"
        )
        internal = service.with_interface(
            "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"
        )
        with self._connection() as bus:
            opened = bus.send_and_get_reply(
                new_method_call(service, "OpenSession", "sv", ("plain", ("s", "")))
            )
            session = opened.body[1]
            secret = (session, b"", self.password.encode(), "text/plain")
            reply = bus.send_and_get_reply(
                new_method_call(
                    internal, "UnlockWithMasterPassword", "o(oayays)", (DEFAULT_COLLECTION, secret)
                )
            )
            if reply.header.message_type is MessageType.error:
                raise RuntimeError(f"unlocking the test keychain failed: {reply.body}")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Keep the default collection locked for the ``with`` block, then unlock it."""
        self.lock()
        try:
            yield
        finally:
            self.unlock()

    def is_locked(self) -> bool:
        """Whether the default collection is locked."""
        import secretstorage

        with self._connection() as bus:
            return bool(secretstorage.Collection(bus, DEFAULT_COLLECTION).is_locked())

    def accounts(self, service: str) -> dict[str, str]:
        """Every item stored under keyring's ``service`` attribute: username -> secret."""
        import secretstorage

        with self._connection() as bus:
            collection = secretstorage.Collection(bus, DEFAULT_COLLECTION)
            return {
                item.get_attributes().get("username", ""): item.get_secret().decode()
                for item in collection.search_items({"service": service})
            }

    def forget(self, service: str) -> None:
        """Delete every item stored under ``service`` (unlocking first if a test left it locked)."""
        import secretstorage

        if self.is_locked():
            self.unlock()
        with self._connection() as bus:
            collection = secretstorage.Collection(bus, DEFAULT_COLLECTION)
            for item in collection.search_items({"service": service}):
                item.delete()

    @contextlib.contextmanager
    def watch(self) -> Iterator[list[str]]:
        """Record the ``interface.member`` of every method call to the Secret Service.

        A D-Bus monitor sees what the client asked for, e.g. ``Unlock``, the call that
        opens a password prompt in a desktop session.
        """
        from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        calls: list[str] = []
        stop = threading.Event()
        monitoring = DBusAddress(
            "/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus.Monitoring"
        )
        rule = f"type='method_call',destination='{SECRETS_NAME}'"
        with open_dbus_connection(bus=self.address) as bus:
            bus.send_and_get_reply(new_method_call(monitoring, "BecomeMonitor", "asu", ([rule], 0)))

            def record() -> None:
                while True:
                    draining = stop.is_set()  # after stop: read what is buffered, then end
                    try:
                        message = bus.receive(timeout=0 if draining else 0.02)
                    except TimeoutError:
                        if draining:
                            return
                        continue
                    if message.header.message_type is MessageType.method_call:
                        fields = message.header.fields
                        calls.append(
                            f"{fields.get(HeaderFields.interface)}.{fields[HeaderFields.member]}"
                        )

            reader = threading.Thread(target=record, daemon=True)
            reader.start()
            try:
                yield calls
                time.sleep(0.05)  # the bus forwards to monitors as it routes; allow for it
            finally:
                stop.set()
                reader.join()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus=self.address) as bus:
            yield bus


def has_secret_service(address: str) -> bool:
    """Whether something owns ``org.freedesktop.secrets`` on the bus at ``address``."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    try:
        with open_dbus_connection(bus=address) as bus:
            reply = bus.send_and_get_reply(message_bus.NameHasOwner(SECRETS_NAME), timeout=2)
    except (OSError, ValueError, RuntimeError):
        return False
    return bool(reply.body[0])


class PrivateSecretService:
    """A ``dbus-daemon`` and an unlocked ``gnome-keyring-daemon``, both children of this process."""

    def __init__(self) -> None:
        # mkdtemp under /tmp: a socket path must stay under ~100 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix="trace-keychain-"))
        self._processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> RunningSecretService:
        """Start both daemons and wait until the Secret Service owns its bus name."""
        started = time.monotonic()
        _require_tools("gnome-keyring-daemon")
        address = self.start_bus()
        self._start_keyring(address)
        deadline = time.monotonic() + _START_TIMEOUT
        while not has_secret_service(address):
            # --unlock returns before the daemon owns its name: poll, never sleep blindly.
            if time.monotonic() > deadline or self._processes[-1].poll() is not None:
                raise SecretServiceUnavailableError(
                    "gnome-keyring-daemon did not provide org.freedesktop.secrets: "
                    + self._log("keyring.log")
                )
            time.sleep(0.005)
        return RunningSecretService(address, PASSWORD, time.monotonic() - started)

    def stop(self) -> None:
        """Stop both daemons (by PID, newest first) and remove the temp dir."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        shutil.rmtree(self.directory, ignore_errors=True)

    def start_bus(self) -> str:
        """Start only the private session bus (no Secret Service on it); returns its address."""
        _require_tools("dbus-daemon")
        config = self.directory / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket_dir=self.directory), encoding="utf-8")
        with (self.directory / "bus.log").open("wb") as log:
            bus = subprocess.Popen(
                ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self._processes.append(bus)
        assert bus.stdout is not None
        with bus.stdout:
            address = bus.stdout.readline().decode().strip()
        if not address:
            raise SecretServiceUnavailableError(
                "dbus-daemon did not start: " + self._log("bus.log")
            )
        return address

    def _start_keyring(self, address: str) -> None:
        data, runtime = self.directory / "data", self.directory / "run"
        data.mkdir()
        runtime.mkdir(mode=0o700)
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # never a GUI prompt
        env.update({BUS_ENV: address, "XDG_DATA_HOME": str(data), "XDG_RUNTIME_DIR": str(runtime)})
        with (self.directory / "keyring.log").open("wb") as log:
            keyring = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self._processes.append(keyring)
        assert keyring.stdin is not None
        with keyring.stdin:
            keyring.stdin.write(PASSWORD.encode())  # --unlock reads it up to EOF

    def _log(self, name: str) -> str:
        path = self.directory / name
        text = path.read_text(errors="replace").strip() if path.exists() else ""
        return text[-500:] or "(no output)"


class SecretServiceUnavailableError(Exception):
    """No Secret Service can be provided on this machine."""


def _require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        raise SecretServiceUnavailableError(
            f"{' and '.join(missing)} not installed (run scripts/install-system-deps)"
        )


@contextlib.contextmanager
def silent_secret_service(address: str) -> Iterator[None]:
    """Own ``org.freedesktop.secrets`` on the bus at ``address`` and never answer: a hung daemon.

    Calls to it block until the ``with`` block ends; then the bus answers them with a
    NoReply error, so the threads a test abandoned finish cleanly.
    """
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=address) as bus:
        reply = bus.send_and_get_reply(message_bus.RequestName(SECRETS_NAME), timeout=2)
        assert reply.body[0] == 1, "the test bus already has a Secret Service"
        yield


@contextlib.contextmanager
def silent_socket(path: Path) -> Iterator[str]:
    """A Unix socket that accepts connections and never says a word; yields a bus address."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(16)  # the kernel completes connects from the backlog; nobody reads
        yield f"unix:path={path}"


def unavailable(reason: str) -> NoReturn:
    """Skip for want of a Secret Service, or fail if ``REQUIRE_SECRET_SERVICE=1`` demands one."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but no Secret Service: {reason}", pytrace=False)
    pytest.skip(f"no Secret Service: {reason}")


@pytest.fixture(scope="session")
def secret_service_daemons() -> Iterator[RunningSecretService]:
    """The session's Secret Service: with-keychain's, else a private one (skip/fail if neither)."""
    address, password = os.environ.get(BUS_ENV), os.environ.get(PASSWORD_ENV)
    if address and password and has_secret_service(address):
        yield RunningSecretService(address, password, 0.0)
        return
    private = PrivateSecretService()
    try:
        service = private.start()
    except SecretServiceUnavailableError as exc:
        private.stop()
        problem = str(exc)  # skip/fail outside the handler: no chained traceback to read
    else:
        try:
            yield service
        finally:
            private.stop()
        return
    unavailable(problem)


@pytest.fixture
def private_bus() -> Iterator[str]:
    """A private D-Bus session bus with no Secret Service on it; yields its address."""
    daemons = PrivateSecretService()
    try:
        address = daemons.start_bus()
    except SecretServiceUnavailableError as exc:
        daemons.stop()
        problem = str(exc)
    else:
        try:
            yield address
        finally:
            daemons.stop()
        return
    unavailable(problem)


@pytest.fixture
def keychain_service() -> str:
    """A keychain service name no other test uses."""
    return f"buildwithtrace-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def secret_service(
    secret_service_daemons: RunningSecretService,
    keychain_service: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RunningSecretService]:
    """The Secret Service, with this test's ``DBUS_SESSION_BUS_ADDRESS`` pointing at it.

    Afterwards the collection is unlocked and every item under ``keychain_service`` is
    deleted, however the test stored it.
    """
    monkeypatch.setenv(BUS_ENV, secret_service_daemons.address)
    yield secret_service_daemons
    secret_service_daemons.forget(keychain_service)


@pytest.fixture
def keychain_store(
    secret_service: RunningSecretService, keychain_service: str
) -> KeyringSecretStore:
    """A real ``KeyringSecretStore`` on this test's own service name."""
    return KeyringSecretStore(keychain_service)


@pytest.fixture(autouse=True)
def _keychain_for_marked_tests(request: pytest.FixtureRequest) -> None:
    """Give every ``keychain``-marked test the Secret Service, or skip/fail it."""
    if request.node.get_closest_marker("keychain") is not None:
        request.getfixturevalue("secret_service")
