"""Login hijack: another local user must not log the victim into the attacker's Trace account.

`buildwithtrace auth login` opens a browser, and the URL it opens is in that browser's
command line, which every local user can read in ``/proc/<pid>/cmdline``. An attacker
who completes the victim's login with the attacker's own account would see every design
the victim then sends through chat. Here the attacker is a real second process running
as uid 65534 (nobody) while the victim, root, logs in with `auth login` in a terminal:
it finds the URL the moment the fake browser holds it, then forges the loopback
callback of the old browser login on every port the URL names and approves, with its
own account, every user code it can find, derive or guess. Only afterwards does the
victim type the code shown on their terminal into the page. The login must end with the
victim's token stored (or fail leaving the old token in place), never the attacker's,
and the CLI process must listen on no port while it waits.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.cli_runner import CliResult, child_env, run, run_in_terminal
from tests.e2e.conftest import file_secrets
from tests.reliability.plugin import Figures
from tests.support.protocol_server import ProtocolServer

pytestmark = pytest.mark.reliability

NOBODY = 65534
ATTACKER = Path(__file__).with_name("login_attacker.py")
TOKEN_ACCOUNT = "trace:token"
USER_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")

# The victim's browser: returns at once like a real one, then keeps the URL in its argv
# until the user has typed the code on the page (the test writes it to FAKE_BROWSER_GO),
# and approves that code as the victim. (Written before the fix, it also completed the
# old loopback login by loading the callback with the victim's token.)
VICTIM_BROWSER = """\
#!{python}
import json, os, sys, time, urllib.error, urllib.request

url = sys.argv[1]
log = os.environ["FAKE_BROWSER_LOG"]
with open(log, "a") as out:
    out.write("opened " + url + "\\n")
if os.fork():
    sys.exit(0)
os.setsid()
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
go = os.environ["FAKE_BROWSER_GO"]
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
code = open(go).read().strip() if os.path.exists(go) else ""
token = os.environ["FAKE_BROWSER_TOKEN"]
if code:
    request = urllib.request.Request(
        os.environ["FAKE_BROWSER_BACKEND"] + "/_control/device/approve",
        data=json.dumps({{"user_code": code, "token": token}}).encode(),
        headers={{"Content-Type": "application/json"}},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status = str(answer.status)
    except urllib.error.HTTPError as error:
        status = str(error.code)
    except OSError as error:
        status = type(error).__name__
    with open(log, "a") as out:
        out.write("victim " + (code or "callback") + " " + status + "\\n")
os._exit(0)
"""


def token_like(prefix: str) -> str:
    """A unique token."""
    return f"{prefix}-{uuid.uuid4().hex}"


def listening_ports(pid: int) -> list[int]:
    """The TCP ports process ``pid`` listens on (its socket inodes matched in /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def start_attacker(
    backend: str, markers: list[str], token: str, guesses: int
) -> subprocess.Popen[str]:
    """The attacker process (it drops to uid 65534 itself); returns once it is scanning."""
    spec = {
        "uid": NOBODY,
        "backend": backend,
        "markers": markers,
        "token": token,
        "guesses": guesses,
        "wait": 60,
    }
    attacker = subprocess.Popen(
        [sys.executable, "-I", str(ATTACKER), json.dumps(spec)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert attacker.stdout is not None
    first = attacker.stdout.readline()
    assert first.strip() == "ready", first + (attacker.stderr.read() if attacker.stderr else "")
    return attacker


def test_a_local_user_who_reads_the_login_url_cannot_log_the_victim_into_their_account(
    protocol_server: ProtocolServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figures: Figures,
) -> None:
    """The attacker reads the URL from /proc and races; the victim's own token is stored."""
    victim, attacker_token, old = token_like("victim"), token_like("attacker"), token_like("old")
    protocol_server.load(
        {
            "token": victim,
            "profile": {"email": "victim@example.com", "plan": "pro"},
            "accounts": {
                attacker_token: {"email": "attacker@evil.example", "plan": "pro"},
                old: {"email": "victim@example.com", "plan": "pro"},
            },
        }
    )
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    monkeypatch.setenv("TRACE_CREDENTIALS_STORE", "file")
    config_dir = Path(child_env()["TRACE_CONFIG_DIR"])
    assert run(["auth", "login", "--token-stdin"], input=old).code == 0
    browser = tmp_path / "victim-browser"
    browser.write_text(VICTIM_BROWSER.format(python=sys.executable), encoding="utf-8")
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    log, go = tmp_path / "browser.log", tmp_path / "typed-code"
    env = {
        "BROWSER": str(browser),
        "FAKE_BROWSER_LOG": str(log),
        "FAKE_BROWSER_GO": str(go),
        "FAKE_BROWSER_TOKEN": victim,
        "FAKE_BROWSER_BACKEND": protocol_server.url,
        "TRACE_LOGIN_TIMEOUT": "60",
    }
    attacker = start_attacker(protocol_server.url, [protocol_server.url], attacker_token, 12)
    seen: dict[str, object] = {}

    def user(pid: int, shown: str) -> None:
        # The user reads the code off their terminal, and types it on the page only after
        # the attacker has done everything it could with the URL.
        seen["listening"] = listening_ports(pid)
        attacker.wait(timeout=60)
        assert attacker.stdout is not None and attacker.stderr is not None
        out, err = attacker.stdout.read(), attacker.stderr.read()
        seen["attacker"] = json.loads(out.strip().splitlines()[-1]) if out.strip() else err
        codes = USER_CODE.findall(shown)
        go.write_text(codes[0] if codes else "", encoding="utf-8")

    started = time.monotonic()
    try:
        result: CliResult = run_in_terminal(
            ["auth", "login"],
            typed="",
            env_extra=env,
            wait_for="Opening ",
            timeout=90,
            at_prompt_shown=user,
        )
    finally:
        if attacker.poll() is None:
            attacker.kill()
        attacker.communicate()  # reaps it and closes its pipes
    figures.peak("login_under_attack_s", time.monotonic() - started)

    report = seen["attacker"]
    assert isinstance(report, dict), report
    assert (report["uid"], report["euid"]) == (NOBODY, NOBODY)
    assert report["seen"], "the attacker never saw the login URL: the test proves nothing"
    figures.add("attack_attempts", len(report["attempts"]))
    stored = file_secrets(config_dir).get(TOKEN_ACCOUNT)
    assert stored != attacker_token, (
        f"the victim is logged in to the ATTACKER's account\n{result}\n{report}"
    )
    if result.code == 0:
        assert stored == victim, result
    else:
        assert stored == old, result
    assert "attacker@evil.example" not in result.stdout
    assert seen["listening"] == [], "the login process listens on a port other users can reach"
    assert result.code == 0, result
    assert "Logged in as victim@example.com" in result.stdout
    assert [a for a in report["attempts"] if a["result"] == "200"] == []
    [only] = protocol_server.device_logins
    assert (only["state"], only["approved_with"]) == ("used", victim)
    opened = log.read_text(encoding="utf-8").splitlines()[0]
    assert only["user_code"] in result.stdout
    assert only["user_code"] not in opened, "the browser's argv must not carry the user code"
    figures.add(
        "attacker_approvals_refused_429", sum(a["result"] == "429" for a in report["attempts"])
    )
