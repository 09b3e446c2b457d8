"""`buildwithtrace doctor`: local checks, each with its fix."""

from __future__ import annotations

from pathlib import Path

import click

from application.doctor import Verdict
from entrypoints.cli.app import json_option, state
from entrypoints.cli.output import emit_result, say
from entrypoints.errors import exit_code_for

_MARK = {Verdict.OK: "ok  ", Verdict.WARN: "warn", Verdict.FAIL: "FAIL"}


@click.command()
@click.option(
    "--verify",
    is_flag=True,
    help="Also ask each provider whose key is set whether it works (runs key helpers).",
)
@json_option
def doctor(verify: bool, as_json: bool) -> None:
    """Check config, secret store, keychain, active provider, env overrides and login."""
    report = state().runtime.use_cases.doctor().execute(verify=verify, project_dir=str(Path.cwd()))
    if not emit_result(report, as_json):
        for check in report.checks:
            say(f"[{_MARK[check.verdict]}] {check.name}: {check.detail}")
            if check.fix and check.verdict is not Verdict.OK:
                say(f"       fix: {check.fix}")
    if report.failure is not None:
        raise SystemExit(exit_code_for(report.failure))
