"""Rendering `byok status`: a glanceable table, or the documented JSON shape."""

from __future__ import annotations

from application.show_status import ProviderStatus, StatusReport, overriding_env
from entrypoints.cli.output import emit_json, say, table, warn


def status_data(report: StatusReport) -> dict[str, object]:
    """The JSON shape of `byok status --json` (documented in docs/cli.md)."""
    from entrypoints.serialize import to_data

    data: dict[str, object] = to_data(report)
    return data


def _key_cell(row: ProviderStatus) -> tuple[str, str]:
    if not row.provider.is_byok:
        return "", "no key needed"
    if not row.key.present:
        return "-", "not set"
    source = row.key.source or ""
    if row.shadowed:
        source += f" (overrides {', '.join(row.shadowed)})"
    return row.key.masked or "…", source


def render_status(report: StatusReport, as_json: bool) -> None:
    """Print the report."""
    if as_json:
        emit_json(status_data(report))
        return
    active = report.active
    label = active.provider.spec.label
    store = report.secret_store
    say(f"Active provider: {active.provider.value}")
    say(f"Billed to:       {active.billing.describe(label)}")
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
        warn(
            f"{active.provider.value} is active but has no key: requests will fail. "
            f"Fix: buildwithtrace byok set {active.provider.value}"
        )
    for row in report.providers:
        if overriding_env(row):
            warn(f"{row.key.source} overrides the stored {row.provider.value} key")
