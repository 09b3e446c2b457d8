"""`buildwithtrace auth login|status|logout`: the Trace token (a secret, like a key)."""

from __future__ import annotations

import click

from entrypoints.cli.app import json_option, state
from entrypoints.cli.key_input import read_secret
from entrypoints.cli.output import emit_json, note, say, stdin_is_terminal, tell, warn
from entrypoints.errors import MISSING_CONFIGURATION

LOGIN_TIMEOUT_ENV = "TRACE_LOGIN_TIMEOUT"
DEFAULT_LOGIN_TIMEOUT = 180.0


@click.group()
def auth() -> None:
    """Log in to Trace (needed for chat, with or without your own key)."""


def _login_timeout(raw: str) -> float:
    """Seconds to wait for the browser callback: ``TRACE_LOGIN_TIMEOUT``, else 3 minutes."""
    try:
        value = float(raw.strip()) if raw.strip() else DEFAULT_LOGIN_TIMEOUT
    except ValueError:
        value = DEFAULT_LOGIN_TIMEOUT
    return value if 0 < value <= 3600 else DEFAULT_LOGIN_TIMEOUT


def _browser_token() -> str | None:
    """A token from the browser flow, or None when no browser could be opened."""
    import os
    import webbrowser

    from adapters.browser_login import LoopbackBrowserLogin
    from domain.errors import LoginFailedError

    login_page = os.environ.get("TRACE_LOGIN_URL", "").strip() or (
        "https://app.buildwithtrace.com/cli/login"
    )
    flow = LoopbackBrowserLogin(
        login_page,
        webbrowser.open,
        timeout=_login_timeout(os.environ.get(LOGIN_TIMEOUT_ENV, "")),
        on_url=lambda url: tell(f"Opening {url}"),
    )
    try:
        return flow.obtain().reveal()
    except LoginFailedError as exc:
        if "no web browser" in exc.problem:
            return None
        raise


@auth.command("login")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input (CI).")
@click.option("--token", "token_arg", metavar="TOKEN", help="The token itself (visible to others).")
@click.option("--no-browser", is_flag=True, help="Paste a token instead of the browser flow.")
@json_option
def login(token_stdin: bool, token_arg: str | None, no_browser: bool, as_json: bool) -> None:
    """Store a Trace token: browser flow, hidden paste, or --token-stdin."""
    raw: str | None = None
    if not token_stdin and token_arg is None and stdin_is_terminal() and not no_browser:
        raw = _browser_token()
        if raw is None:
            note("no browser could be opened; paste a token from your Trace account settings")
    if raw is None:
        raw = read_secret(
            "Trace token", from_stdin=token_stdin, from_argv=token_arg, flag="--token"
        )
    result = state().container.use_cases.login().execute(raw)
    account = result.profile.email if result.profile and result.profile.email else None
    if as_json:
        emit_json(
            {
                "logged_in": True,
                "stored_in": result.stored.source.label,
                "masked": result.stored.secret.masked(),
                "verified": result.verified,
                "account": account,
                "plan": result.profile.plan if result.profile else None,
                "overridden_by": result.overridden_by.label if result.overridden_by else None,
            }
        )
        return
    who = f" as {account}" if account else ""
    stored = result.stored
    say(f"Logged in{who}; token {stored.secret.masked()} stored in the {stored.source.label}.")
    if not result.verified:
        warn("the Trace backend could not be reached, so the token is not verified yet")
    if result.overridden_by:
        note(f"{result.overridden_by.label} is set and overrides the stored token")


@auth.command("status")
@click.option("--offline", is_flag=True, help="Do not check the token with the backend.")
@json_option
def status(offline: bool, as_json: bool) -> None:
    """Show whether you are logged in, with which token source (masked)."""
    report = state().container.use_cases.auth_status().execute(check=not offline)
    if as_json:
        emit_json(
            {
                "logged_in": report.logged_in,
                "source": report.source,
                "masked": report.masked,
                "checked": report.checked,
                "valid": report.valid,
                "account": report.profile.email if report.profile else None,
                "plan": report.profile.plan if report.profile else None,
                "problem": report.problem,
            }
        )
    elif not report.logged_in:
        say("Not logged in. Fix: buildwithtrace auth login")
    else:
        verdict = {True: "valid", False: "REJECTED by the backend", None: "not checked"}
        account = f", account {report.profile.email}" if report.profile else ""
        checked = verdict[report.valid]
        say(f"Logged in with token {report.masked} from {report.source} ({checked}{account}).")
        if report.problem and report.valid is not False:
            warn(report.problem)  # why it was not checked; a rejection is the error below
    if report.valid is False and not as_json:
        from domain.errors import AuthenticationRejectedError

        raise AuthenticationRejectedError()
    if report.valid is False or not report.logged_in:
        # The JSON report already says why: one document on stdout, not two.
        raise click.exceptions.Exit(MISSING_CONFIGURATION)


@auth.command("logout")
@json_option
def logout(as_json: bool) -> None:
    """Forget the stored token (TRACE_API_TOKEN, if set, is not touched)."""
    removed = state().container.use_cases.logout().execute()
    if as_json:
        emit_json({"removed": removed})
    else:
        say("Logged out." if removed else "No stored token.")
