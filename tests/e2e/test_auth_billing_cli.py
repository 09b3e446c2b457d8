"""`buildwithtrace auth` and `billing status` as a user runs them, against the protocol server.

The browser (device code) login runs in a pseudo-terminal with ``BROWSER`` set to a
small script that, like a real browser, returns at once; the test plays the user, who
reads the one-time code off the terminal and types it on the page the browser shows.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from tests.e2e.cli_runner import PROMPT_MARK, CliResult, run, run_in_terminal
from tests.e2e.conftest import Backing
from tests.support import protocol_server as ps
from tests.support.protocol_server import TOKEN, ProtocolServer

PROFILE = "/user/profile"


@pytest.fixture
def server(protocol_server: ProtocolServer, monkeypatch: pytest.MonkeyPatch) -> ProtocolServer:
    """The protocol server, with TRACE_BASE_URL pointing the CLI at it."""
    monkeypatch.setenv("TRACE_BASE_URL", protocol_server.url)
    return protocol_server


def nowhere() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> str:
    """TRACE_BASE_URL pointing where nothing listens."""
    url = nowhere()
    monkeypatch.setenv("TRACE_BASE_URL", url)
    return url


def token_like(prefix: str = "trace-tok-") -> str:
    """A unique token."""
    return f"{prefix}{uuid.uuid4().hex}"


def login(token: str = TOKEN, *args: str) -> CliResult:
    """`auth login --token-stdin`."""
    return run(["auth", "login", "--token-stdin", *args], input=f"{token}\n")


def profile_checks(server: ProtocolServer) -> list[str | None]:
    """The Authorization headers of every GET /user/profile."""
    return [r.authorization for r in server.requests if r.path.endswith(PROFILE)]


# --- auth login --token-stdin ------------------------------------------------------------


def test_login_stores_a_token_the_backend_accepts(backing: Backing, server: ProtocolServer) -> None:
    result = login()

    assert result.code == 0, result
    assert profile_checks(server) == [f"Bearer {TOKEN}"]
    assert backing.secrets() == {"trace:token": TOKEN}
    assert "Logged in as dev@example.com" in result.stdout
    assert f"…{TOKEN[-4:]}" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    if backing.kind == "file":
        assert stat.S_IMODE(backing.credentials.stat().st_mode) == 0o600
    else:
        assert not backing.credentials.exists()


def test_login_json_says_where_the_token_went(file_store: Backing, server: ProtocolServer) -> None:
    result = login(TOKEN, "--json")

    assert result.code == 0, result
    assert result.json() == {
        "logged_in": True,
        "stored_in": "file",
        "masked": f"…{TOKEN[-4:]}",
        "verified": True,
        "account": "dev@example.com",
        "plan": "pro",
        "overridden_by": None,
    }


def test_a_token_the_backend_rejects_is_not_stored_and_exits_3(
    backing: Backing, server: ProtocolServer
) -> None:
    assert login().code == 0
    rejected = token_like()

    result = login(rejected)

    assert result.code == 3, result
    assert "rejected this token (401); it was not stored" in result.stderr
    assert "fix: buildwithtrace auth login --token-stdin" in result.stderr
    assert profile_checks(server)[-1] == f"Bearer {rejected}"
    assert backing.secrets() == {"trace:token": TOKEN}  # the old login is untouched
    assert rejected not in result.stdout + result.stderr


def test_login_while_trace_api_token_is_set_says_the_env_wins(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.load({"token": None})  # accept any token
    monkeypatch.setenv("TRACE_API_TOKEN", token_like("env-tok-"))

    result = login()

    assert result.code == 0, result
    assert (
        "env:TRACE_API_TOKEN is set and overrides the stored token; to use the stored one: "
        "unset TRACE_API_TOKEN"
    ) in result.stderr
    assert file_store.secrets() == {"trace:token": TOKEN}


def test_login_without_a_terminal_or_stdin_flag_asks_for_token_stdin(
    file_store: Backing, server: ProtocolServer
) -> None:
    result = run(["auth", "login"])

    assert result.code == 2, result
    assert "--token-stdin" in result.stderr
    assert server.requests == []
    assert file_store.secrets() == {}


# --- auth status -------------------------------------------------------------------------------


def test_status_json_with_a_stored_token_checked_by_the_backend(
    backing: Backing, server: ProtocolServer
) -> None:
    assert login().code == 0

    result = run(["auth", "status", "--json"])

    assert result.code == 0, result
    assert result.json() == {
        "logged_in": True,
        "source": backing.kind,
        "masked": f"…{TOKEN[-4:]}",
        "checked": True,
        "valid": True,
        "account": "dev@example.com",
        "plan": "pro",
        "problem": None,
    }
    assert len(profile_checks(server)) == 2


def test_status_names_trace_api_token_as_the_source(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)

    as_json = run(["auth", "status", "--json"])
    as_text = run(["auth", "status"])

    assert as_json.code == as_text.code == 0, (as_json, as_text)
    report = as_json.json()
    assert (report["source"], report["valid"]) == ("env:TRACE_API_TOKEN", True)
    assert "from env:TRACE_API_TOKEN (valid, account dev@example.com, plan pro)" in as_text.stdout
    assert file_store.secrets() == {}


def test_status_with_a_rejected_token_exits_3(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", token_like())

    result = run(["auth", "status", "--json"])

    assert result.code == 3, result
    report = result.json()
    assert (report["logged_in"], report["checked"], report["valid"]) == (True, True, False)


def test_status_with_the_backend_unreachable_exits_0_and_says_not_checked(
    backing: Backing, server: ProtocolServer
) -> None:
    offline: dict[str, str | None] = {"TRACE_BASE_URL": nowhere()}
    assert login(TOKEN).code == 0  # while the server is up

    as_text = run(["auth", "status"], env_extra=offline)
    as_json = run(["auth", "status", "--json"], env_extra=offline)

    assert as_text.code == as_json.code == 0, (as_text, as_json)
    assert "(not checked)" in as_text.stdout
    assert "could not connect" in as_text.stderr
    report = as_json.json()
    assert (report["logged_in"], report["source"], report["checked"], report["valid"]) == (
        True,
        backing.kind,
        False,
        None,
    )
    assert "could not connect" in report["problem"]


def test_login_with_the_backend_unreachable_stores_an_unverified_token(
    file_store: Backing, unreachable: str
) -> None:
    token = token_like()

    result = run(["auth", "login", "--token-stdin"], input=token)

    assert result.code == 0, result
    assert f"token …{token[-4:]} stored in the credentials file" in result.stdout
    assert "could not be reached, so the token is not verified" in result.stderr
    assert file_store.secrets() == {"trace:token": token}
    assert token not in result.stdout + result.stderr


def test_status_offline_sends_nothing(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)

    result = run(["auth", "status", "--offline", "--json"])

    assert result.code == 0, result
    assert result.json()["checked"] is False
    assert server.requests == []


def test_status_when_not_logged_in_exits_3(file_store: Backing, server: ProtocolServer) -> None:
    as_json = run(["auth", "status", "--json"])
    as_text = run(["auth", "status"])

    assert as_json.code == as_text.code == 3, (as_json, as_text)
    assert as_json.json()["logged_in"] is False
    assert as_json.json()["source"] is None
    assert "buildwithtrace auth login" in as_text.stdout
    assert server.requests == []


# --- auth logout -------------------------------------------------------------------------------


def test_logout_forgets_the_stored_token(backing: Backing, server: ProtocolServer) -> None:
    assert login().code == 0
    assert backing.secrets() == {"trace:token": TOKEN}  # in the store under test, to forget

    first = run(["auth", "logout"])
    second = run(["auth", "logout", "--json"])
    status = run(["auth", "status", "--json"])

    assert first.code == second.code == 0, (first, second)
    assert first.stdout == "Logged out.\n"
    assert second.json() == {"removed": False}
    assert backing.secrets() == {}
    assert status.code == 3
    assert status.json()["logged_in"] is False


def test_logout_leaves_trace_api_token_alone(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert login().code == 0
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)

    assert run(["auth", "logout"]).code == 0
    status = run(["auth", "status", "--json"])

    assert file_store.secrets() == {}
    assert status.json()["source"] == "env:TRACE_API_TOKEN"


# --- the browser (device code) login ---------------------------------------------------------


FAKE_BROWSER = """\
#!{python}
# A stand-in browser: returns at once (as a real one does). In the background it waits
# for the user to type the code on the page (the test writes it to FAKE_BROWSER_GO),
# then approves or denies it as the account of FAKE_BROWSER_TOKEN (action "none": idle).
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
deadline = time.monotonic() + 30
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.02)
code = open(go).read().strip() if os.path.exists(go) else ""
action = os.environ.get("FAKE_BROWSER_ACTION", "approve")
if code and action in ("approve", "deny"):
    body = {{"user_code": code, "token": os.environ["FAKE_BROWSER_TOKEN"]}}
    request = urllib.request.Request(
        os.environ["FAKE_BROWSER_BACKEND"] + "/_control/device/" + action,
        data=json.dumps(body).encode(),
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
        out.write(action + " " + status + "\\n")
os._exit(0)
"""
USER_CODE = re.compile(r"one-time code: ([A-Z0-9]{4}-[A-Z0-9]{4})")
WAITING = "Waiting for the login to be approved"


@attrs.frozen
class Browser:
    """The fake browser's files: its log (URL opened, then what it did) and the typed code."""

    log: Path
    go: Path

    def lines(self) -> list[str]:
        """The log's lines ([] when the browser never ran)."""
        return self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: ProtocolServer) -> Browser:
    """BROWSER set to the fake browser, which approves at ``server`` once the code is typed."""
    script = tmp_path / "fake-browser"
    script.write_text(FAKE_BROWSER.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    made = Browser(tmp_path / "browser.log", tmp_path / "typed-code")
    monkeypatch.setenv("BROWSER", str(script))
    monkeypatch.setenv("FAKE_BROWSER_LOG", str(made.log))
    monkeypatch.setenv("FAKE_BROWSER_GO", str(made.go))
    monkeypatch.setenv("FAKE_BROWSER_BACKEND", server.url)
    return made


def browser_login(
    browser: Browser | None,
    token: str,
    *args: str,
    action: str = "approve",
    timeout: float = 30,
    at_code: Callable[[int, str], None] | None = None,
) -> CliResult:
    """`auth login` in a terminal; the user reads the code and types it on the page."""
    env = {
        "FAKE_BROWSER_TOKEN": token,
        "FAKE_BROWSER_ACTION": action,
        "TRACE_LOGIN_TIMEOUT": str(timeout),
    }

    def user(pid: int, shown: str) -> None:
        found = USER_CODE.search(shown)
        assert found, shown
        if browser is not None:
            browser.go.write_text(found.group(1), encoding="utf-8")
        if at_code is not None:
            at_code(pid, found.group(1))

    return run_in_terminal(
        ["auth", "login", *args],
        typed="",
        env_extra=env,
        wait_for=WAITING,
        at_prompt_shown=user,
    )


def stored_before(server: ProtocolServer) -> str:
    """Log in with --token-stdin first; the token a failed login must leave in place."""
    old = token_like("old-")
    server.load({"token": old})
    assert login(old).code == 0
    return old


def test_browser_login_stores_the_token_of_the_account_that_approved(
    backing: Backing, server: ProtocolServer, browser: Browser
) -> None:
    token = token_like()
    server.load({"token": token})

    result = browser_login(browser, token)

    assert result.code == 0, result
    page = f"{server.url}/login/device"
    assert browser.lines() == [f"opened {page}", "approve 200"]
    [device_login] = server.device_logins
    code = device_login["user_code"]
    assert f"First copy your one-time code: {code}" in result.stdout
    assert f"Opening {page} in your browser" in result.stdout
    assert "Logged in as dev@example.com" in result.stdout
    assert backing.secrets() == {"trace:token": token}
    assert profile_checks(server) == [f"Bearer {token}"]
    assert token not in result.stdout
    # The pace was the server's: never a poll sooner than the interval.
    assert device_login["state"] == "used" and device_login["slow_downs"] == 0


def test_no_browser_prints_the_page_and_the_code_and_opens_nothing(
    file_store: Backing, server: ProtocolServer, browser: Browser
) -> None:
    token = token_like()
    server.load({"token": token})

    def on_my_phone(pid: int, code: str) -> None:
        assert server.approve_device(code, token)[0] == 200

    result = browser_login(None, token, "--no-browser", at_code=on_my_phone)

    assert result.code == 0, result
    assert f"Open {server.url}/login/device in a browser on any device" in result.stdout
    assert browser.lines() == []
    assert file_store.secrets() == {"trace:token": token}


def test_a_browser_that_cannot_be_opened_leaves_the_code_and_page_to_the_user(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER", "false")
    token = token_like()
    server.load({"token": token})

    def elsewhere(pid: int, code: str) -> None:
        assert server.approve_device(code, token)[0] == 200

    result = browser_login(None, token, at_code=elsewhere)

    assert result.code == 0, result
    assert f"no browser could be opened; open {server.url}/login/device yourself" in result.stdout
    assert file_store.secrets() == {"trace:token": token}


def test_a_denied_login_keeps_the_stored_token(
    backing: Backing, server: ProtocolServer, browser: Browser
) -> None:
    old = stored_before(server)

    result = browser_login(browser, token_like(), action="deny")

    assert result.code == 3, result
    assert "the login was denied in the browser; nothing was stored" in result.stdout
    assert "fix: buildwithtrace auth login" in result.stdout
    assert browser.lines()[1:] == ["deny 200"]
    assert backing.secrets() == {"trace:token": old}


def test_a_login_nobody_approves_times_out_and_keeps_the_stored_token(
    backing: Backing, server: ProtocolServer, browser: Browser
) -> None:
    old = stored_before(server)

    result = browser_login(browser, token_like(), action="none", timeout=2)

    assert result.code == 3, result
    assert "the login was not approved within 2 s; nothing was stored" in result.stdout
    assert "--token-stdin" in result.stdout
    assert result.seconds < 20
    assert backing.secrets() == {"trace:token": old}


def test_ctrl_c_while_waiting_keeps_the_stored_token(
    backing: Backing, server: ProtocolServer, browser: Browser
) -> None:
    old = stored_before(server)
    checks_before = profile_checks(server)

    def ctrl_c(pid: int, code: str) -> None:
        os.kill(pid, signal.SIGINT)

    result = browser_login(browser, token_like(), action="none", at_code=ctrl_c)

    assert result.code == 130, result
    assert "interrupted" in result.stdout
    assert backing.secrets() == {"trace:token": old}
    assert profile_checks(server) == checks_before  # no token was even checked


def test_paste_reads_the_token_at_a_hidden_prompt(
    file_store: Backing, server: ProtocolServer
) -> None:
    token = token_like()
    server.load({"token": token})

    result = run_in_terminal(["auth", "login", "--paste"], typed=f"{token}\n")

    assert result.code == 0, result
    assert token not in result.stdout  # hidden input
    assert file_store.secrets() == {"trace:token": token}
    assert server.requests_to("/auth/device/code") == []


def test_a_backend_without_device_login_falls_back_to_the_hidden_paste(
    file_store: Backing, server: ProtocolServer
) -> None:
    token = token_like()
    server.load({"token": token})
    server.respond_to("device_code", ps.respond(404))

    result = run_in_terminal(["auth", "login"], typed=f"{token}\n", wait_for=PROMPT_MARK)

    assert result.code == 0, result
    assert "this Trace backend offers no browser login" in result.stdout
    assert file_store.secrets() == {"trace:token": token}


@pytest.mark.parametrize(
    ("change", "never_shown"),
    [
        ({"verification_uri": "file:///etc/passwd"}, "/etc/passwd"),
        ({"verification_uri": "https://evil.example/\x1b]0;pwned\x07"}, "\x1b"),
        ({"user_code": "\x1b[2J\x1b[HBCDF"}, "\x1b"),
    ],
    ids=["file-uri", "escape-in-uri", "escape-in-code"],
)
def test_a_hostile_login_answer_is_neither_opened_nor_printed(
    file_store: Backing,
    server: ProtocolServer,
    browser: Browser,
    change: dict[str, str],
    never_shown: str,
) -> None:
    answer = {
        "device_code": "d" * 40,
        "user_code": "BCDF-GHJK",
        "verification_uri": "https://app.example.com/device",
        "expires_in": 60,
        "interval": 1,
        **change,
    }
    server.respond_to("device_code", ps.respond(200, answer))

    result = run_in_terminal(["auth", "login"], typed="", wait_for=WAITING, timeout=20)

    assert result.code == 4, result
    assert never_shown not in result.stdout
    assert browser.lines() == []
    assert file_store.secrets() == {}


def test_login_options_are_exclusive(file_store: Backing, server: ProtocolServer) -> None:
    result = run(["auth", "login", "--paste", "--token-stdin"], input="x")

    assert result.code == 2, result
    assert "choose one of --token-stdin, --token, --paste and --no-browser" in result.stderr


# --- billing status --------------------------------------------------------------------------


STARTER_PROFILE = {"email": "dev@example.com", "plan": "starter"}
QUOTA = {
    "plan": "starter",
    "monthly_cost_used": 7.5,
    "monthly_cost_cap": 10,
    "credits_remaining": "2.25",
}


def test_billing_status_shows_the_plan_and_that_trace_pays(
    file_store: Backing, server: ProtocolServer
) -> None:
    server.load({"quota": QUOTA, "profile": STARTER_PROFILE})
    assert login().code == 0

    result = run(["billing", "status"])

    assert result.code == 0, result
    assert result.stdout.splitlines() == [
        "Trace plan:      starter",
        "Monthly budget:  $7.50 of $10.00",
        "Credits:         $2.25",
        "AI requests now: trace, billed to your Trace plan (monthly budget / credits)",
    ]
    quota_requests = [r for r in server.requests if r.path.endswith("/user/quota")]
    assert [r.authorization for r in quota_requests] == [f"Bearer {TOKEN}"]


def test_billing_status_json_with_byok_active(
    backing: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.load({"quota": QUOTA, "profile": STARTER_PROFILE})
    assert login().code == 0
    key = f"sk-ant-api03-{uuid.uuid4().hex}"
    assert run(["byok", "set", "anthropic", "--key-stdin"], input=key).code == 0

    result = run(["billing", "status", "--json"])

    assert result.code == 0, result
    assert result.json() == {
        "plan": "starter",
        "monthly_cost_used": 7.5,
        "monthly_cost_cap": 10.0,
        "credits_remaining": 2.25,
        "active_provider": "anthropic",
        "billing": "provider",
        "payer": "your own Anthropic account",
        "key_ready": True,
    }
    assert key not in result.stdout + result.stderr
    assert all(key not in r.text for r in server.requests)  # billing never sends the key
    assert backing.secrets() == {"trace:token": TOKEN, "llm:anthropic": key}


def test_billing_status_warns_when_the_active_provider_has_no_key(
    file_store: Backing, server: ProtocolServer
) -> None:
    assert login().code == 0
    file_store.config.write_text('[llm]\nprovider = "openai"\n', encoding="utf-8")

    as_text = run(["billing", "status"])
    as_json = run(["billing", "status", "--json"])

    assert as_text.code == as_json.code == 0, (as_text, as_json)
    assert "openai is active but has no key" in as_text.stderr
    assert "buildwithtrace byok set openai" in as_text.stderr
    assert as_json.json()["key_ready"] is False
    assert as_json.json()["payer"] == "your own OpenAI account"


def test_billing_status_when_not_logged_in_exits_3(
    file_store: Backing, server: ProtocolServer
) -> None:
    as_text = run(["billing", "status"])
    as_json = run(["billing", "status", "--json"])

    assert as_text.code == as_json.code == 3, (as_text, as_json)
    assert "not logged in" in as_text.stderr
    assert "buildwithtrace auth login" in as_text.stderr
    assert as_json.json()["error"]["exit_code"] == 3
    assert server.requests == []


def test_billing_status_with_a_rejected_token_exits_3(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", token_like())

    result = run(["billing", "status"])

    assert result.code == 3, result
    assert "auth login" in result.stderr


def test_billing_status_with_the_backend_down_exits_4(
    file_store: Backing, server: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACE_API_TOKEN", TOKEN)
    server.respond_to("quota", {"status": 503, "retry_after": 0, "times": 10})

    result = run(["billing", "status"])

    assert result.code == 4, result
    assert "failed after 2 attempts" in result.stderr  # a status look-up retries once, quickly


def test_config_dir_holds_no_token_outside_the_secret_store(
    backing: Backing, server: ProtocolServer
) -> None:
    assert login().code == 0
    assert run(["auth", "status"]).code == 0
    assert run(["billing", "status"]).code == 0

    holding = {
        str(path.relative_to(backing.config_dir))
        for path in backing.config_dir.rglob("*")
        if path.is_file() and TOKEN.encode() in path.read_bytes()
    }
    assert holding == ({"credentials.json"} if backing.kind == "file" else set())
    assert os.environ["TRACE_CREDENTIALS_STORE"] == backing.kind


@pytest.mark.parametrize(
    ("quota_plan", "profile_plan", "shown"),
    [(None, "pro", "pro"), ("starter", None, "starter"), ("starter", "pro", "pro")],
    ids=["quota-without-plan", "profile-without-plan", "profile-wins"],
)
def test_billing_status_and_auth_status_name_the_same_plan(
    file_store: Backing,
    server: ProtocolServer,
    quota_plan: str | None,
    profile_plan: str | None,
    shown: str,
) -> None:
    """The plan is one answer from /user/profile (what auth status shows), else /user/quota."""
    quota = {k: v for k, v in QUOTA.items() if k != "plan"}
    if quota_plan is not None:
        quota["plan"] = quota_plan
    server.load({"quota": quota, "profile": {"email": "dev@example.com", "plan": profile_plan}})
    assert login().code == 0

    billing = run(["billing", "status"])
    billing_json = run(["billing", "status", "--json"])
    auth = run(["auth", "status"])
    auth_json = run(["auth", "status", "--json"])

    assert billing.code == billing_json.code == auth.code == auth_json.code == 0
    assert f"Trace plan:      {shown}" in billing.stdout.splitlines()
    assert billing_json.json()["plan"] == shown
    if profile_plan is not None:
        assert auth_json.json()["plan"] == shown
        assert f"plan {shown}" in auth.stdout
