"""`buildwithtrace byok ...`: store, switch, inspect and remove provider keys.

Each command parses (click types give domain values), runs one use-case, renders.
"""

from __future__ import annotations

import attrs
import click

from domain.model_id import ModelId
from domain.provider import Provider
from entrypoints.cli.app import json_option, state
from entrypoints.cli.key_input import read_secret
from entrypoints.cli.output import emit_result, note, say, warn
from entrypoints.cli.params import ANY_PROVIDER, BYOK_PROVIDER, MODEL_ID
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
def set_key(provider: Provider, key_stdin: bool, key_arg: str | None, as_json: bool) -> None:
    """Store PROVIDER's key (hidden prompt by default) and make PROVIDER active."""
    label = provider.spec.label
    given = read_secret(
        f"{label} API key",
        from_stdin=key_stdin,
        from_argv=key_arg,
        flag="--key",
        provider=provider.value,
    )
    result = state().runtime.use_cases.set_key().execute(provider, given.secret)
    for text in result.warnings:
        warn(text)
    # --json lists every warning printed, the argv one (printed while reading) included.
    result = attrs.evolve(result, warnings=(*given.warnings, *result.warnings))
    if emit_result(result, as_json):
        return
    say(
        f"Stored the {label} key {result.stored.secret.masked()} in "
        f"{result.stored.source.place}; {result.provider.value} is now active: AI requests "
        f"are billed to {result.provider.payer}."
    )
    if result.overridden_by:
        env = result.overridden_by
        note(
            f"{env.label} is set and overrides the stored key; to use the stored one: "
            f"{env.unset_hint}"
        )


@byok.command("use")
@click.argument("provider", type=ANY_PROVIDER)
@json_option
def use_provider(provider: Provider, as_json: bool) -> None:
    """Make PROVIDER active (`trace` returns to Trace-hosted models)."""
    result = state().runtime.use_cases.use_provider().execute(provider)
    if emit_result(result, as_json):
        return
    credential = result.credential
    source = (
        f" with key {credential.secret.masked()} from {credential.source.label}"
        if credential
        else ""
    )
    say(
        f"Active provider: {result.provider.value}{source}. AI requests are billed to "
        f"{result.provider.payer}."
    )


@byok.command("model")
@click.argument("model", required=False, type=MODEL_ID)
@click.option(
    "--provider",
    type=BYOK_PROVIDER,
    help="The provider whose model to set (default: the active one).",
)
@click.option("--reset", is_flag=True, help="Go back to the provider's default model.")
@json_option
def select_model(
    model: ModelId | None, provider: Provider | None, reset: bool, as_json: bool
) -> None:
    """Set the model used with a provider (remembered per provider)."""
    if reset == (model is not None):
        raise click.UsageError("give a MODEL or --reset (exactly one)")
    result = state().runtime.use_cases.select_model().execute(model, provider)
    if emit_result(result, as_json):
        return
    suffix = " (default)" if reset else ""
    say(f"{result.provider.value} will use model {result.model}{suffix}.")


@click.command("remove")
@click.argument("provider", type=BYOK_PROVIDER)
@json_option
def remove_key(provider: Provider, as_json: bool) -> None:
    """Delete PROVIDER's stored key (if it was active, Trace-hosted becomes active)."""
    result = state().runtime.use_cases.remove_key().execute(provider)
    if emit_result(result, as_json):
        return
    name = result.provider.value
    say(f"Removed the stored {name} key." if result.removed else f"No stored {name} key.")
    if result.reverted_to_trace:
        say(f"The active provider is now trace: AI requests are billed to {Provider.TRACE.payer}.")
    still = result.still_from
    if still:
        how = f"; to remove that one too: {still.unset_hint}" if still.unset_hint else ""
        note(f"{still.label} still supplies a key for {name}{how}")


byok.add_command(remove_key, "remove")
byok.add_command(remove_key, "clear")


@byok.command("status")
@json_option
def status(as_json: bool) -> None:
    """Show each provider's key (masked), where it comes from, model, and who pays."""
    report = state().runtime.use_cases.show_status().execute()
    render_status(report, as_json)
