"""What reading keys from the Secret Service costs, step by step (issue 14, part 3).

    scripts/with-keychain .venv/bin/python -m tests.benchmarks.bench_keychain [--quick]
        [--markdown docs/performance.md]

Imports are timed as fresh processes of the regular install's interpreter (CPU time,
median, above a process that imports the CLI's floor libraries only); the D-Bus steps
in this process, against the running Secret Service (the one ``scripts/with-keychain``
started, else a private one). The last rows read three accounts the old way (keyring's
``get_password`` per account, as ``byok status`` did) and the new way (one
``read_secrets`` round). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.benchmarks.bench_cli import script_interpreter, secret_service
from tests.benchmarks.common import Row, Table, add_common_arguments, machine, write_section
from tests.benchmarks.install import DEFAULT_VENV, regular_install

_FLOOR = "import click, attrs, dependency_injector.containers, dependency_injector.providers"
_IMPORTS = (
    ("import keyring + secretstorage (the old read path)", "keyring, secretstorage"),
    ("import secretstorage (jeepney, cryptography's AES)", "secretstorage"),
    ("import jeepney.io.blocking (the bus alone)", "jeepney.io.blocking"),
)
_ACCOUNTS = ("llm:anthropic", "llm:openai", "llm:gemini")
_DH_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)


def import_costs(python: str, rounds: int) -> list[tuple[str, float]]:
    """CPU ms of each import above the floor, fresh processes interleaved."""
    snippets = {"floor": _FLOOR} | {label: f"{_FLOOR}, {mods}" for label, mods in _IMPORTS}
    samples: dict[str, list[float]] = {key: [] for key in snippets}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    for _ in range(rounds):
        for key, code in snippets.items():
            pid = os.posix_spawn(python, [python, "-c", code], env, file_actions=quiet)
            _, status, usage = os.wait4(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"bench_keychain: {code!r} failed")
            samples[key].append((usage.ru_utime + usage.ru_stime) * 1000)
    floor = statistics.median(samples["floor"])
    return [(label, statistics.median(samples[label]) - floor) for label, _ in _IMPORTS]


def _median_ms(work: Callable[[], object], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def bus_steps(service: str, rounds: int) -> list[tuple[str, float]]:
    """Wall ms of each D-Bus step of a read, on one connection where they share one."""
    from jeepney import DBusAddress, Properties, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    name = "org.freedesktop.secrets"
    svc = DBusAddress("/org/freedesktop/secrets", name, "org.freedesktop.Secret.Service")
    col = DBusAddress(
        "/org/freedesktop/secrets/aliases/default", name, "org.freedesktop.Secret.Collection"
    )
    rows = [
        (
            "connect (socket, auth, Hello)",
            _median_ms(lambda: open_dbus_connection().close(), rounds),
        )
    ]
    with open_dbus_connection() as bus:
        search = new_method_call(col, "SearchItems", "a{ss}", ({"service": service},))
        (items,) = bus.send_and_get_reply(search).body
        item = DBusAddress(items[0], name, "org.freedesktop.Secret.Item")

        def plain() -> str:
            opened = new_method_call(svc, "OpenSession", "sv", ("plain", ("s", "")))
            path: str = bus.send_and_get_reply(opened).body[1]
            return path

        def dh() -> None:
            private = int.from_bytes(os.urandom(128), "big")
            public = pow(2, private, _DH_PRIME).to_bytes(128, "big")
            opened = new_method_call(
                svc, "OpenSession", "sv", ("dh-ietf1024-sha256-aes128-cbc-pkcs7", ("ay", public))
            )
            theirs = int.from_bytes(bytes(bus.send_and_get_reply(opened).body[0][1]), "big")
            pow(theirs, private, _DH_PRIME)

        session = plain()
        get_secrets = new_method_call(svc, "GetSecrets", "aoo", (items, session))
        rows += [
            (
                "collection's Locked property",
                _median_ms(lambda: bus.send_and_get_reply(Properties(col).get("Locked")), rounds),
            ),
            (
                "SearchItems (all our items)",
                _median_ms(lambda: bus.send_and_get_reply(search), rounds),
            ),
            (
                "an item's Attributes",
                _median_ms(
                    lambda: bus.send_and_get_reply(Properties(item).get("Attributes")), rounds
                ),
            ),
            ("OpenSession, plain", _median_ms(plain, rounds)),
            (
                "OpenSession, dh-ietf1024-sha256-aes128-cbc-pkcs7 (key pair, call, shared key)",
                _median_ms(dh, rounds),
            ),
            (
                f"GetSecrets ({len(items)} items)",
                _median_ms(lambda: bus.send_and_get_reply(get_secrets), rounds),
            ),
        ]
    return rows


def whole_reads(service: str, rounds: int) -> list[tuple[str, float]]:
    """Wall ms of reading three accounts the old way and the new way (imports done)."""
    from adapters.secrets.keychain.backends import default_backend
    from adapters.secrets.keychain.secret_service import read_secrets

    backend: object = default_backend(None)

    def old() -> None:
        for account in _ACCOUNTS:
            backend.get_password(service, account)  # type: ignore[attr-defined]

    return [
        ("3 accounts, keyring get_password each (before)", _median_ms(old, rounds)),
        (
            "3 accounts, one read_secrets round (now)",
            _median_ms(lambda: read_secrets(service, _ACCOUNTS), rounds),
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (and write it into a markdown file if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add_common_arguments(parser)
    parser.add_argument("--venv", type=Path, help=f"regular install (default {DEFAULT_VENV})")
    args = parser.parse_args(argv)
    rounds = 2 if args.smoke else 10 if args.quick else 30
    cli = args.venv / "bin" / "buildwithtrace" if args.venv else regular_install()
    python = script_interpreter(cli)
    service = f"buildwithtrace-bench-{uuid.uuid4().hex[:12]}"
    with secret_service(True) as address:
        if address is None:
            print("bench_keychain: no Secret Service", file=sys.stderr)
            return 1
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        from adapters.secrets.keychain import KeyringSecretStore
        from domain.secret import Secret

        store = KeyringSecretStore(service)
        store.set("llm:anthropic", Secret("sk-ant-bench-0123456789abcdef0123"))
        store.set("llm:openai", Secret("sk-proj-bench-0123456789abcdef012"))
        try:
            rows = [
                Row(label, f"{ms:.2f} ms", "", "", "", "CPU, fresh process, above the floor")
                for label, ms in import_costs(python, rounds)
            ]
            rows += [
                Row(label, f"{ms:.2f} ms", extra="wall, this process")
                for label, ms in bus_steps(service, rounds * 5)
            ]
            rows += [
                Row(label, f"{ms:.2f} ms", extra="wall, this process")
                for label, ms in whole_reads(service, rounds * 2)
            ]
        finally:
            store.delete("llm:anthropic")
            store.delete("llm:openai")
    table = Table(
        "Reading keys from the Secret Service, step by step",
        ("step", "median", "", "", "", "how"),
        tuple(rows),
        (
            f"Imports: {rounds} fresh processes each; bus steps and reads: medians of "
            "repeated calls against gnome-keyring on a private session bus.",
            machine() + ".",
        ),
    )
    print(table.text())
    if args.markdown is not None:
        write_section(
            args.markdown,
            "bench_keychain",
            table.markdown(),
            "python -m tests.benchmarks.bench_keychain --markdown FILE",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
