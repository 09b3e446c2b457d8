"""`buildwithtrace byok ...`: store, switch, inspect and remove provider keys."""

from __future__ import annotations

import click

from domain.provider import Provider
from entrypoints.cli.app import json_option, state
from entrypoints.cli.key_input import read_secret
from entrypoints.cli.output import emit_json, note, say, warn
from entrypoints.cli.params import ANY_PROVIDER, BYOK_PROVIDER
from entrypoints.cli.status_view import render_status


@click.group()
def byok() -> None:
    """Use your own Anthropic, OpenAI or Gemini key instead of Trace-hosted models."""


@byok.command("set")
@click.argument("provider", type=BYOK_PROVIDER)
@click.option("--key-stdin", is_flag=True, help="Read the key from standard input.")
@click.option(
    "--key", "key_arg", metavar="KEY", help="The key itself (visible to other processes)."
)
@json_option
def set_key(provider: str, key_stdin: bool, key_arg: str | None, as_json: bool) -> None:
    """Store PROVIDER's key (hidden prompt by default) and make PROVIDER active."""
    label = Provider.parse(provider).spec.label
    raw = read_secret(f"{label} API key", from_stdin=key_stdin, from_argv=key_arg, flag="--key")
    result = state().container.use_cases.set_key().execute(provider, raw)
    for text in result.warnings:
        warn(text)
    override = result.overridden_by.label if result.overridden_by else None
    if as_json:
        emit_json(
            {
                "provider": result.provider.value,
                "active": True,
                "stored_in": result.stored.source.label,
                "masked": result.stored.secret.masked(),
                "overridden_by": override,
                "warnings": list(result.warnings),
            }
        )
        return
    say(
        f"Stored the {label} key {result.stored.secret.masked()} in the "
        f"{result.stored.source.label}; {result.provider.value} is now active "
        f"(billed to your own {label} account)."
    )
    if override:
        note(f"{override} is set and overrides the stored key; unset it to use the stored one")


@byok.command("use")
@click.argument("provider", type=ANY_PROVIDER)
@json_option
def use_provider(provider: str, as_json: bool) -> None:
    """Make PROVIDER active (`trace` returns to Trace-hosted models)."""
    result = state().container.use_cases.use_provider().execute(provider)
    spec = result.provider.spec
    credential = result.credential
    if as_json:
        emit_json(
            {
                "active_provider": result.provider.value,
                "billing": spec.billing.value,
                "key": (
                    {"source": credential.source.label, "masked": credential.secret.masked()}
                    if credential
                    else None
                ),
            }
        )
        return
    source = (
        f" with key {credential.secret.masked()} from {credential.source.label}"
        if credential
        else ""
    )
    say(
        f"Active provider: {result.provider.value}{source}. AI requests are billed to "
        f"{spec.billing.describe(spec.label)}."
    )


@byok.command("model")
@click.argument("model", required=False)
@click.option("--provider", type=BYOK_PROVIDER, help="Provider to set (default: the active one).")
@click.option("--reset", is_flag=True, help="Go back to the provider's default model.")
@json_option
def select_model(model: str | None, provider: str | None, reset: bool, as_json: bool) -> None:
    """Set the model used with a provider (remembered per provider)."""
    if reset == (model is not None):
        raise click.UsageError("give a MODEL or --reset (exactly one)")
    result = state().container.use_cases.select_model().execute(model, provider)
    if as_json:
        emit_json(
            {
                "provider": result.provider.value,
                "model": result.model,
                "model_source": result.source.value,
            }
        )
        return
    suffix = " (default)" if reset else ""
    say(f"{result.provider.value} will use model {result.model}{suffix}.")


@click.command("remove")
@click.argument("provider", type=BYOK_PROVIDER)
@json_option
def remove_key(provider: str, as_json: bool) -> None:
    """Delete PROVIDER's stored key (if it was active, Trace-hosted becomes active)."""
    result = state().container.use_cases.remove_key().execute(provider)
    still = result.still_from.label if result.still_from else None
    if as_json:
        emit_json(
            {
                "provider": result.provider.value,
                "removed": result.removed,
                "reverted_to_trace": result.reverted_to_trace,
                "still_available_from": still,
            }
        )
        return
    name = result.provider.value
    say(f"Removed the stored {name} key." if result.removed else f"No stored {name} key.")
    if result.reverted_to_trace:
        say("The active provider is now trace: AI requests are billed to your Trace plan.")
    if still:
        note(f"{still} still supplies a {name} key; unset it to remove it completely")


byok.add_command(remove_key, "remove")
byok.add_command(remove_key, "clear")


@byok.command("status")
@json_option
def status(as_json: bool) -> None:
    """Show each provider's key (masked), where it comes from, model, and who pays."""
    report = state().container.use_cases.show_status().execute()
    render_status(report, as_json)
