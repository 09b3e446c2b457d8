"""Rendering `byok status`: a glanceable table, or the documented JSON shape."""

from __future__ import annotations

from application.show_status import (
    KeyStatus,
    ProjectStatus,
    ProviderStatus,
    StatusReport,
    overriding_env,
)
from domain.credential import SourceKind
from domain.errors import MissingKeyError
from domain.provider import Provider
from entrypoints.cli.output import emit_result, say, table, warn


def _source(key: KeyStatus) -> str:
    source = key.source.label if key.source else ""
    if key.source is not None and key.source.kind is SourceKind.HELPER:
        program = (key.helper or "").split(" ", 1)[0].rsplit("/", 1)[-1]
        if key.error:
            source += f" ({program}: failed)"
        elif key.masked is None:
            source += f" ({program}, not run)"
    return source


def _key_cell(row: ProviderStatus) -> tuple[str, str]:
    if not row.provider.is_byok:
        return "", "no key needed"
    if not row.key.present:
        missing = f"not set ({row.key_name})" if row.key_name else "not set"
        return "-", missing
    source = _source(row.key)
    if row.shadowed:
        source += f" (overrides {', '.join(s.label for s in row.shadowed)})"
    if row.chosen_by and row.key_name:
        source += f" [chosen by {row.chosen_by}]"
    return _masked(row.key), source


def _masked(key: KeyStatus) -> str:
    """The masked key; ``?`` for a helper that has not run (its key is not known)."""
    if key.masked is None and key.source is not None and key.source.kind is SourceKind.HELPER:
        return "?"
    return key.masked or "…"


def _project_line(project: ProjectStatus) -> str:
    if project.state is None:
        return f"refused {project.path}: {project.problem}"
    chosen = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("provider", project.provider.value if project.provider else None),
            ("key", project.key_name),
            ("model", project.model),
        )
        if value
    )
    if project.state.value == "allowed":
        return f"{project.path} (allowed): {chosen or 'selects nothing'}"
    reason = (
        "changed since you allowed it" if project.state.value == "changed" else "not allowed yet"
    )
    directory = project.path.rpartition("/")[0] or "/"
    return f"ignored {project.path} ({reason}): run buildwithtrace project allow {directory}"


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
    if report.project is not None:
        say(f"Project file:    {_project_line(report.project)}")
        effective = report.effective_provider
        if effective is not None and effective is not active.provider:
            say(f"Here, chat uses: {effective.value} (chosen by the project file)")
    say("")
    rows = []
    for row in report.providers:
        masked, source = _key_cell(row)
        model = row.model or "chosen by Trace"
        if row.provider.is_byok:
            model += f" ({row.model_source.value})"
        rows.append(("*" if row.active else "", row.provider.value, masked, source, model))
    say(table(rows, ("", "PROVIDER", "KEY", "SOURCE", "MODEL")))
    if report.named_keys:
        say("")
        named = [
            (
                f"{key.provider.value}:{key.name}",
                _masked(key.key) if key.key.present else "-",
                _source(key.key) if key.key.present else "not set",
            )
            for key in report.named_keys
        ]
        say(table(named, ("NAMED KEY", "KEY", "SOURCE")))
    if active.provider.is_byok and not active.key.present:
        warn(no_key_warning(active.provider))
    errors = [r.key.error for r in report.providers] + [k.key.error for k in report.named_keys]
    for error in dict.fromkeys(e for e in errors if e):  # a named key in use shows twice
        warn(error)
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
