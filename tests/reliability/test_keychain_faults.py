"""Keychain faults: every command returns within its bound and says what is wrong.

For each way a Linux keychain fails (no D-Bus session, a bus that does not exist, a
bus without a Secret Service, a locked collection, a bus that never answers, a
Secret Service that never answers) the installed CLI runs the commands that touch
the secret store, with ``credentials.store`` = ``auto`` and = ``keychain``, and the
keychain timeout at 1 s. ``auto`` must fall back to the 0600 file and say so (exit
0); ``keychain`` must fail with exit 5, the reason, and the way out. No command may
take longer than the timeout plus start-up slack.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_runner import NO_BUS, CliResult, run
from tests.reliability.plugin import Figures, Profile
from tests.support.keychain import (
    BUS_ENV,
    PrivateSecretService,
    SecretServiceUnavailableError,
    silent_secret_service,
    silent_socket,
    unavailable,
)

TIMEOUT_S = 1.0
BOUND_S = TIMEOUT_S + 5.0  # the keychain timeout once, plus a loaded machine's start-up

REASONS = {
    "no-dbus": "DBUS_SESSION_BUS_ADDRESS is unset",
    "dead-bus": "cannot connect to the D-Bus session bus",
    "no-secret-service": "no Secret Service is running",
    "locked": "locked",
    "hung-bus": "did not answer",
    "hung-daemon": "did not answer",
}

# (name, argv, stdin, what `auto` says on stderr after falling back)
COMMANDS: list[tuple[str, tuple[str, ...], str, str]] = [
    ("set", ("byok", "set", "anthropic", "--key-stdin"), "KEY", "the key was stored in"),
    ("status", ("byok", "status"), "", "keys are read from"),
    ("doctor", ("doctor",), "", "secrets go to the file store instead"),
    ("use", ("byok", "use", "anthropic"), "", "keys are read from"),
    ("remove", ("byok", "remove", "anthropic"), "", "was not removed"),
    ("logout", ("auth", "logout"), "", "was not removed"),
]


@contextlib.contextmanager
def _fault(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """Set up the fault; yields the D-Bus address the CLI gets (None: unset)."""
    if name == "no-dbus":
        yield None
    elif name == "dead-bus":
        yield NO_BUS
    elif name == "locked":
        service: Any = request.getfixturevalue("secret_service")
        with service.locked():
            yield service.address
    elif name == "hung-bus":
        with silent_socket(tmp_path / "bus") as address:
            yield address
    else:
        daemons = PrivateSecretService()
        try:
            address = daemons.start_bus()
        except SecretServiceUnavailableError as exc:
            daemons.stop()
            unavailable(str(exc))
        try:
            if name == "hung-daemon":
                with silent_secret_service(address):
                    yield address
            else:
                yield address
        finally:
            daemons.stop()


def _run_mode(mode: str, config_dir: Path, address: str | None, count: int) -> list[CliResult]:
    key = f"sk-ant-fault-{uuid.uuid4().hex}"
    env: dict[str, str | None] = {
        "TRACE_CREDENTIALS_STORE": mode,
        "TRACE_CONFIG_DIR": str(config_dir),
        "TRACE_KEYCHAIN_TIMEOUT": str(TIMEOUT_S),
        BUS_ENV: address,
    }
    return [
        run(list(argv), input=key if stdin == "KEY" else None, env_extra=env)
        for _, argv, stdin, _ in COMMANDS[:count]
    ]


FAULTS = [
    pytest.param(name, marks=[pytest.mark.keychain] if name == "locked" else []) for name in REASONS
]


@pytest.mark.parametrize("fault", FAULTS)
def test_every_command_returns_in_time_and_auto_falls_back_while_keychain_fails(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    profile: Profile,
    figures: Figures,
    fault: str,
) -> None:
    """Under each keychain fault, byok set, status, doctor (soak: also use, remove, auth logout)
    return within the 1 s keychain timeout plus start-up slack; auto falls back to the file and
    says so (exit 0), keychain exits 5 with the reason and the fix, writing nothing."""
    count = min(profile.fault_commands, len(COMMANDS))  # quick: set, status, doctor
    dirs = {mode: tmp_path / mode for mode in ("auto", "keychain")}
    for directory in dirs.values():
        directory.mkdir(mode=0o700)
    with _fault(fault, request, tmp_path) as address, ThreadPoolExecutor(2) as pool:
        futures = {
            mode: pool.submit(_run_mode, mode, directory, address, count)
            for mode, directory in dirs.items()
        }
        results = {mode: future.result() for mode, future in futures.items()}

    problems = []
    reason = REASONS[fault]
    for mode, runs in results.items():
        for (name, _, _, fell_back), result in zip(COMMANDS, runs, strict=False):
            figures.add("commands")
            figures.peak("max_latency_s", result.seconds)
            output = result.stdout + result.stderr
            if result.seconds > BOUND_S:
                problems.append(f"{mode}/{name} took {result.seconds:.1f}s: {result}")
            if "Traceback" in output or reason not in output:
                problems.append(f"{mode}/{name} does not say {reason!r}: {result}")
            if mode == "auto" and (result.code != 0 or fell_back not in output):
                problems.append(f"auto/{name} did not fall back and say so: {result}")
            if mode == "keychain" and (result.code != 5 or "credentials.store file" not in output):
                problems.append(f"keychain/{name} did not fail with 5 and the fix: {result}")
    if written := sorted(p.name for p in dirs["keychain"].iterdir()):
        problems.append(f"keychain-only wrote files: {written}")
    if not (dirs["auto"] / "credentials.json").is_file():
        problems.append("auto did not keep the key in credentials.json")
    figures.add("violations", len(problems))
    assert problems == []


@pytest.mark.soak
def test_the_default_keychain_timeout_bounds_every_command_against_a_hung_daemon(
    request: pytest.FixtureRequest, tmp_path: Path, figures: Figures
) -> None:
    """Soak only: a Secret Service that never answers, with the default keychain timeout (3 s,
    no TRACE_KEYCHAIN_TIMEOUT): all six commands in both modes return within 3 s plus start-up
    slack, once per command (a failure is remembered, not waited for again)."""
    dirs = {mode: tmp_path / mode for mode in ("auto", "keychain")}
    for directory in dirs.values():
        directory.mkdir(mode=0o700)
    with _fault("hung-daemon", request, tmp_path) as address:
        results = {
            mode: [
                run(
                    list(argv),
                    input=f"sk-ant-fault-{uuid.uuid4().hex}" if stdin == "KEY" else None,
                    env_extra={
                        "TRACE_CREDENTIALS_STORE": mode,
                        "TRACE_CONFIG_DIR": str(directory),
                        BUS_ENV: address,
                    },
                )
                for _, argv, stdin, _ in COMMANDS
            ]
            for mode, directory in dirs.items()
        }
    slow = []
    for mode, runs in results.items():
        for result in runs:
            figures.add("commands")
            figures.peak("max_latency_s", result.seconds)
            if result.seconds > 3.0 + 5.0 or result.code != (0 if mode == "auto" else 5):
                slow.append(f"{mode}: {result}")
    figures.add("violations", len(slow))
    assert slow == []
