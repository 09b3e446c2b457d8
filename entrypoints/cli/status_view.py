"""Rendering `byok status`: a glanceable table, or the documented JSON shape."""

from __future__ import annotations

from application.show_status import ProviderStatus, StatusReport, overriding_env
from domain.errors import MissingKeyError
from domain.provider import Provider
from entrypoints.cli.output import emit_result, say, table, warn


def _key_cell(row: ProviderStatus) -> tuple[str, str]:
    if not row.provider.is_byok:
        return "", "no key needed"
    if not row.key.present:
        return "-", "not set"
    source = row.key.source.label if row.key.source else ""
    if row.shadowed:
        source += f" (overrides {', '.join(s.label for s in row.shadowed)})"
    return row.key.masked or "…", source


def render_status(report: StatusReport, as_json: bool) -> None:
    """Print the report."""
    if emit_result(report, as_json):
        return
    active = report.active
    store = report.secret_store
    say(f"Active provider: {active.provider.value}")
    say(f"Billed to:       {active.provider.payer}")
    say(f"Secret store:    {store.kind.value}: {store.detail}")
    say(f"Config:          {report.config_path}")
    say("")
    rows = []
    for row in report.providers:
        masked, source = _key_cell(row)
        model = row.model or "chosen by Trace"
        if row.provider.is_byok:
            model += f" ({row.model_source.value})"
        rows.append(("*" if row.active else "", row.provider.value, masked, source, model))
    say(table(rows, ("", "PROVIDER", "KEY", "SOURCE", "MODEL")))
    if active.provider.is_byok and not active.key.present:
        warn(no_key_warning(active.provider))
    for row in report.providers:
        winner = row.key.source
        if overriding_env(row) and winner is not None:
            warn(
                f"{winner.label} overrides the stored {row.provider.value} key; to use the "
                f"stored one: {winner.unset_hint}"
            )


def no_key_warning(provider: Provider) -> str:
    """The warning for an active BYOK provider without a key (status and billing alike)."""
    fix = MissingKeyError(provider.value, provider.spec.env_vars).fix
    return f"{provider.value} is active but has no key, so AI requests will fail; fix: {fix}"
