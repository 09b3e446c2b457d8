"""`buildwithtrace byok ...`: store, switch, verify, inspect and remove provider keys.

Each command parses (click types give domain values), runs one use-case, renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import click

from domain.keys import HelperCommand
from domain.model_id import ModelId
from domain.provider import Provider
from domain.secret import Secret
from domain.verification import Verdict
from entrypoints.cli.app import json_option, state
from entrypoints.cli.output import emit_result, note, say, tell, warn
from entrypoints.cli.params import ANY_PROVIDER, BYOK_PROVIDER, KEY_NAME, MODEL_ID
from entrypoints.cli.status_view import render_status
from entrypoints.errors import exit_code_for

if TYPE_CHECKING:
    # Types only: byok status and use load this module and never set a key.
    from application.set_key import SetKeyResult
    from domain.verification import KeyVerification

_NAME_HELP = "A named key of yours (e.g. work, client-a); default: the provider's default key."


@click.group()
def byok() -> None:
    """Use your own Anthropic, OpenAI or Gemini key instead of Trace-hosted models."""


@byok.command("set")
@click.argument("provider", type=BYOK_PROVIDER)
@click.option("--name", "name", type=KEY_NAME, help=_NAME_HELP)
@click.option("--key-stdin", is_flag=True, help="Read the key from standard input.")
@click.option(
    "--key", "key_arg", metavar="KEY", help="The key itself (visible to other processes)."
)
@click.option(
    "--helper",
    metavar="COMMAND",
    help="A command that prints the key (e.g. 'op read op://Work/Anthropic/credential'); "
    "stored in config.toml and run when a request needs the key.",
)
@click.option("--shell", is_flag=True, help="Run the --helper command through /bin/sh -c.")
@click.option("--verify", is_flag=True, help="Ask the provider whether the key works first.")
@click.option("--force", is_flag=True, help="With --verify: store a rejected key anyway.")
@json_option
def set_key(
    provider: Provider,
    name: str | None,
    key_stdin: bool,
    key_arg: str | None,
    helper: str | None,
    shell: bool,
    verify: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Store PROVIDER's key (hidden prompt by default), or a --helper command, and make it
    active."""
    if helper is not None and (key_stdin or key_arg is not None):
        raise click.UsageError("give a key or a --helper command, not both")
    if shell and helper is None:
        raise click.UsageError("--shell applies to a --helper command")
    if force and not verify:
        raise click.UsageError("--force applies with --verify")
    source: Secret | HelperCommand
    given_warnings: tuple[str, ...] = ()
    if helper is not None:
        source = HelperCommand.parse(helper, shell=shell)
    else:
        from entrypoints.cli.key_input import read_secret  # only set reads a key

        given = read_secret(
            f"{provider.spec.label} API key",
            from_stdin=key_stdin,
            from_argv=key_arg,
            flag="--key",
            provider=provider.value,
        )
        source, given_warnings = given.secret, given.warnings
    result = (
        state()
        .runtime.use_cases.set_key()
        .execute(provider, source, name=name, verify=verify, force=force)
    )
    for text in result.warnings:
        warn(text)
    # --json lists every warning printed, the argv one (printed while reading) included.
    result = attrs.evolve(result, warnings=(*given_warnings, *result.warnings))
    if emit_result(result, as_json):
        return
    _say_set(result)


def _say_set(result: SetKeyResult) -> None:
    label = result.provider.spec.label
    named = f" ({result.key_name})" if result.key_name else ""
    which = f"key {result.key_name}" if result.key_name else "its default key"
    active = (
        f"{result.provider.value} is now active with {which}: AI requests are billed to "
        f"{result.provider.payer}."
    )
    if result.stored is not None:
        say(
            f"Stored the {label} key{named} {result.stored.secret.masked()} in "
            f"{result.stored.source.place}; {active}"
        )
    elif result.helper is not None:
        say(
            f"Stored the helper command for the {label} key{named} in config.toml (not the "
            f"key: `{result.helper.program}` runs when a request needs it); {active}"
        )
    verification = result.verification
    if verification is not None and verification.valid:
        masked = f" {verification.masked_key}" if verification.masked_key else ""
        say(f"{label} accepted the key{masked}.")
    if result.overridden_by:
        env = result.overridden_by
        note(
            f"{env.label} is set and overrides the stored key; to use the stored one: "
            f"{env.unset_hint}"
        )


@byok.command("verify")
@click.argument("provider", type=BYOK_PROVIDER)
@click.option("--name", "name", type=KEY_NAME, help="Verify this named key.")
@json_option
def verify_key(provider: Provider, name: str | None, as_json: bool) -> None:
    """Ask PROVIDER's own models endpoint whether the key in use works (the key goes there only).

    Exit 0 when valid, 2 when rejected, 4 when the provider could not be reached.
    """
    result = (
        state().runtime.use_cases.verify_key().execute(provider, name, project_dir=str(Path.cwd()))
    )
    if not emit_result(result, as_json):
        _say_verification(result)
    failure = result.failure
    if failure is not None:
        if not as_json:
            tell(f"error: {failure.message}")
        raise SystemExit(exit_code_for(failure))


def _say_verification(result: KeyVerification) -> None:
    label = result.provider.spec.label
    key = f"the key {result.masked_key}" if result.masked_key else "the key"
    source = f" from {result.source.label}" if result.source else ""
    if result.verdict is Verdict.VALID:
        say(f"valid: {label} accepted {key}{source}.")
    elif result.verdict is Verdict.REJECTED:
        say(f"rejected: {label} rejected {key}{source} (HTTP {result.status}).")
    else:
        say(f"unreachable: could not check {key}{source} with {label}: {result.detail}.")


@byok.command("use")
@click.argument("provider", type=ANY_PROVIDER)
@click.option("--name", "name", type=KEY_NAME, help="Use this named key of PROVIDER.")
@json_option
def use_provider(provider: Provider, name: str | None, as_json: bool) -> None:
    """Make PROVIDER active (`trace` returns to Trace-hosted models)."""
    if name is not None and not provider.is_byok:
        raise click.UsageError("Trace-hosted models have no named keys")
    result = state().runtime.use_cases.use_provider().execute(provider, name)
    if emit_result(result, as_json):
        return
    credential = result.credential
    source = ""
    if credential is not None:
        source = f" with key {credential.secret.masked()} from {credential.source.label}"
    elif result.source is not None:
        source = f" with the key from {result.source.label} (fetched when a request needs it)"
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
@click.option("--name", "name", type=KEY_NAME, help="Remove this named key.")
@json_option
def remove_key(provider: Provider, name: str | None, as_json: bool) -> None:
    """Delete PROVIDER's stored key or helper (if it was in use, Trace-hosted becomes active)."""
    result = state().runtime.use_cases.remove_key().execute(provider, name)
    if emit_result(result, as_json):
        return
    what = f"{result.provider.value} key" + (f" {result.key_name}" if result.key_name else "")
    say(f"Removed the stored {what}." if result.removed else f"No stored {what}.")
    if result.reverted_to_trace:
        say(f"The active provider is now trace: AI requests are billed to {Provider.TRACE.payer}.")
    still = result.still_from
    if still:
        how = f"; to remove that one too: {still.unset_hint}" if still.unset_hint else ""
        note(f"{still.label} still supplies a key for {result.provider.value}{how}")


byok.add_command(remove_key, "remove")
byok.add_command(remove_key, "clear")


@byok.command("status")
@click.option("--run-helpers", is_flag=True, help="Run key helpers to show their keys (masked).")
@click.option(
    "--project",
    "project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    help="Where to look for a project file (trace.toml); default: here.",
)
@json_option
def status(run_helpers: bool, project: Path, as_json: bool) -> None:
    """Show each provider's key (masked), where it comes from, model, and who pays."""
    report = (
        state()
        .runtime.use_cases.show_status()
        .execute(project_dir=str(project.resolve()), run_helpers=run_helpers)
    )
    render_status(report, as_json)
