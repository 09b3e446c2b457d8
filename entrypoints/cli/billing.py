"""`buildwithtrace billing status`: the Trace plan's usage and who pays for AI requests."""

from __future__ import annotations

import click

from entrypoints.cli.app import json_option, state
from entrypoints.cli.output import emit_result, say, warn
from entrypoints.cli.status_view import no_key_warning


@click.group()
def billing() -> None:
    """Trace plan usage and who is billed for AI requests."""


def _money(value: float | None) -> str:
    return "?" if value is None else f"${value:,.2f}"


@billing.command("status")
@json_option
def status(as_json: bool) -> None:
    """Plan, monthly budget used, credits, and who pays with the current provider."""
    report = state().runtime.use_cases.billing_status().execute()
    if emit_result(report, as_json):
        return
    quota = report.quota
    say(f"Trace plan:      {report.plan or 'unknown (the backend did not say)'}")
    say(f"Monthly budget:  {_money(quota.monthly_cost_used)} of {_money(quota.monthly_cost_cap)}")
    say(f"Credits:         {_money(quota.credits_remaining)}")
    say(f"AI requests now: {report.active_provider.value}, billed to {report.payer}")
    if not report.key_ready:
        warn(no_key_warning(report.active_provider))
