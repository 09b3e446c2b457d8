"""`buildwithtrace auth login|status|logout`: the Trace token (a secret, like a key)."""

from __future__ import annotations

import click

from application.login import Login, LoginResult
from application.ports import LoginPrompts
from domain.errors import NotLoggedInError
from entrypoints.cli.app import json_option, state
from entrypoints.cli.key_input import read_token
from entrypoints.cli.output import emit_json, emit_result, note, say, stdin_is_terminal, tell, warn
from entrypoints.errors import MISSING_CONFIGURATION


@click.group()
def auth() -> None:
    """Log in to Trace (needed for chat, with or without your own key)."""


def _printable(text: str) -> str:
    """``text`` without control characters (the backend's words reach the terminal)."""
    return "".join(ch for ch in text if ch.isprintable())


class _TerminalPrompts(LoginPrompts):
    """The browser login's messages, on stderr."""

    def __init__(self, *, opening: bool) -> None:
        self._opening = opening

    def show_code(self, user_code: str, url: str) -> None:
        tell(f"First copy your one-time code: {_printable(user_code)}")
        if self._opening:
            tell(f"Opening {_printable(url)} in your browser; enter the code there.")
        else:
            tell(f"Open {_printable(url)} in a browser on any device and enter the code.")
        tell("Waiting for the login to be approved (Ctrl-C cancels)...")

    def no_browser(self, url: str) -> None:
        note(f"no browser could be opened; open {_printable(url)} yourself and enter the code")


def _through_browser(use_case: Login, *, open_browser: bool) -> LoginResult | None:
    """The browser (device code) login; None when the backend has none (paste instead)."""
    from domain.errors import DeviceLoginUnavailableError

    try:
        return use_case.through_browser(
            _TerminalPrompts(opening=open_browser), open_browser=open_browser
        )
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
    use_case = state().runtime.use_cases.login()
    result: LoginResult | None = None
    if not any(chosen[:3]) and (no_browser or stdin_is_terminal()):
        result = _through_browser(use_case, open_browser=not no_browser)
    if result is None:
        token = read_token(
            "Trace token", from_stdin=token_stdin, from_argv=token_arg, flag="--token"
        )
        result = use_case.execute(token.secret)
    if emit_result(result, as_json):
        return
    account = result.profile.email if result.profile and result.profile.email else None
    who = f" as {account}" if account else ""
    stored = result.stored
    say(f"Logged in{who}; token {stored.secret.masked()} stored in {stored.source.place}.")
    if not result.verified:
        warn("the Trace backend could not be reached, so the token is not verified yet")
    if result.overridden_by:
        env = result.overridden_by
        note(
            f"{env.label} is set and overrides the stored token; to use the stored one: "
            f"{env.unset_hint}"
        )


@auth.command("status")
@click.option("--offline", is_flag=True, help="Do not check the token with the backend.")
@json_option
def status(offline: bool, as_json: bool) -> None:
    """Show whether you are logged in, with which token source (masked)."""
    report = state().runtime.use_cases.auth_status().execute(check=not offline)
    if emit_result(report, as_json):
        pass
    elif not report.logged_in:
        say(f"Not logged in; fix: {NotLoggedInError().fix}")
    else:
        verdict = {True: "valid", False: "REJECTED by the backend", None: "not checked"}
        profile = report.profile
        account = f", account {profile.email}" if profile and profile.email else ""
        account += f", plan {profile.plan}" if profile and profile.plan else ""
        checked = verdict[report.valid]
        source = report.source.label if report.source else "?"
        say(f"Logged in with token {report.masked} from {source} ({checked}{account}).")
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
    removed = state().runtime.use_cases.logout().execute()
    if as_json:
        emit_json({"removed": removed})
    else:
        say("Logged out." if removed else "No stored token.")
