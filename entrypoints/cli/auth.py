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
    """Seconds to wait for the browser login: ``TRACE_LOGIN_TIMEOUT``, else 3 minutes."""
    try:
        value = float(raw.strip()) if raw.strip() else DEFAULT_LOGIN_TIMEOUT
    except ValueError:
        value = DEFAULT_LOGIN_TIMEOUT
    return value if 0 < value <= 3600 else DEFAULT_LOGIN_TIMEOUT


def _printable(text: str) -> str:
    """``text`` without control characters (the backend's words reach the terminal)."""
    return "".join(ch for ch in text if ch.isprintable())


def _open_in_browser(url: str) -> bool:
    """Open ``url`` in the user's browser (``BROWSER`` is honoured); False when none opened."""
    import webbrowser

    try:
        return webbrowser.open(url)
    except (webbrowser.Error, OSError):
        return False


def _device_login(open_browser: bool) -> str | None:
    """A token from the browser (device code) login; None: the backend has none, paste instead."""
    from adapters.login.device import DeviceCodeLogin
    from domain.errors import DeviceLoginUnavailableError

    adapters = state().container.adapters

    def show_code(code: str, url: str) -> None:
        tell(f"First copy your one-time code: {_printable(code)}")
        if open_browser:
            tell(f"Opening {_printable(url)} in your browser; enter the code there.")
        else:
            tell(f"Open {_printable(url)} in a browser on any device and enter the code.")
        tell("Waiting for the login to be approved (Ctrl-C cancels)...")

    def no_browser(url: str) -> None:
        note(f"no browser could be opened; open {_printable(url)} yourself and enter the code")

    flow = DeviceCodeLogin(
        adapters.backend(),
        show_code=show_code,
        open_browser=_open_in_browser if open_browser else None,
        on_no_browser=no_browser,
        timeout=_login_timeout(adapters.environment().get(LOGIN_TIMEOUT_ENV) or ""),
    )
    try:
        return flow.obtain().reveal()
    except DeviceLoginUnavailableError:
        if not stdin_is_terminal():
            raise
        note("this Trace backend offers no browser login; paste a token from your Trace settings")
        return None


@auth.command("login")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input (CI).")
@click.option("--token", "token_arg", metavar="TOKEN", help="The token itself (visible to others).")
@click.option("--paste", is_flag=True, help="Paste a token at a hidden prompt instead.")
@click.option("--no-browser", is_flag=True, help="Print the login page and code; open nothing.")
@json_option
def login(
    token_stdin: bool, token_arg: str | None, paste: bool, no_browser: bool, as_json: bool
) -> None:
    """Store a Trace token: browser login with a one-time code, --paste, or --token-stdin."""
    chosen = [token_stdin, token_arg is not None, paste, no_browser]
    if sum(chosen) > 1:
        raise click.UsageError("choose one of --token-stdin, --token, --paste and --no-browser")
    use_case = state().container.use_cases.login()
    raw: str | None = None
    if not any(chosen[:3]) and (no_browser or stdin_is_terminal()):
        use_case.prepare()  # an unusable secret store stops us before the browser does
        raw = _device_login(open_browser=not no_browser)
    if raw is None:
        raw = read_secret(
            "Trace token", from_stdin=token_stdin, from_argv=token_arg, flag="--token"
        )
    result = use_case.execute(raw)
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
