"""The panel's words: plain sentences built from use-case results (no Qt, no rules).

Every function here only phrases what a use-case already decided. A key appears
only in its masked form (at most its last four characters).
"""

from __future__ import annotations

from application.ports import StoreInfo
from application.remove_key import RemoveKeyResult
from application.select_model import SelectModelResult
from application.set_key import SetKeyResult
from application.show_status import ProviderStatus, StatusReport
from application.use_provider import UseProviderResult
from domain.credential import KeySource, SourceKind
from domain.errors import InvalidKeyError, InvalidTokenError, MissingKeyError, TraceError
from domain.model_id import ModelSource
from domain.project import ProjectState
from domain.provider import Provider
from domain.verification import KeyVerification, Verdict

TITLE = "AI Provider"
WINDOW_TITLE = "Trace settings — AI Provider"
INTRO = (
    "Trace answers with Trace-hosted models by default. Add your own Anthropic, OpenAI "
    "or Gemini key to use that provider's models on your own account."
)
WORKING = "Working… (waiting for the secret store)"
NO_KEY_NEEDED = "Trace-hosted models need no key."


def source_words(source: KeySource) -> str:
    """Where a key comes from, for the list: the CLI's label (``env:NAME``, ``keychain``...)."""
    return source.label


def store_words(source: KeySource) -> str:
    """The store a key went to, inside a sentence: ``the OS keychain``, ``the credentials file``."""
    return source.place


def env_override(row: ProviderStatus) -> str | None:
    """The environment variable supplying this provider's key, if one does."""
    source = row.key.source
    return source.name if source is not None and source.kind is SourceKind.ENV else None


def env_override_reason(row: ProviderStatus) -> str | None:
    """Why the key field is read-only, when an environment variable supplies the key."""
    name = env_override(row)
    if name is None:
        return None
    return (
        f"{name} is set in the environment and overrides any stored key; to edit the key "
        f"here: unset {name} and reopen this window."
    )


def has_stored_key(row: ProviderStatus) -> bool:
    """True when the secret store holds a key for this row (winning or shadowed)."""
    sources = [*((row.key.source,) if row.key.source else ()), *row.shadowed]
    return any(source.kind is not SourceKind.ENV for source in sources)


def provider_line(row: ProviderStatus) -> str:
    """One entry of the provider list: name, key state and source, whether active."""
    spec = row.provider.spec
    if not row.provider.is_byok:
        parts = [f"{spec.label} (default)", "no key needed"]
    elif row.key.present and row.key.masked is None and row.key.helper:
        parts = [spec.label, helper_words(row)]
    elif row.key.present:
        parts = [
            spec.label,
            f"key {row.key.masked or '…'}"
            + (f" ({source_words(row.key.source)})" if row.key.source else ""),
        ]
    else:
        parts = [spec.label, "no key"]
    if row.key_name and row.chosen_by:
        parts.append(f"chosen by {row.chosen_by}")
    if row.active:
        parts.append("active")
    return " — ".join(parts)


def who_pays(report: StatusReport) -> str:
    """Who pays for AI requests with the current choice, in plain words."""
    active = report.active
    provider = active.provider
    if not provider.is_byok:
        return f"AI requests are billed to {provider.payer}."
    label = provider.spec.label
    text = f"AI requests are billed to {provider.payer}; model {active.model}."
    if not active.key.present:
        text += (
            f" No {label} key is available, so requests will fail: paste a key and click "
            f"Save, or select Trace-hosted and click Use Trace-hosted."
        )
    return text


def store_line(info: StoreInfo) -> str:
    """Which secret store keeps the keys: ``Keys are kept in the OS keychain (Secret Service).``"""
    place = KeySource(SourceKind(info.kind.value)).place
    return f"Keys are kept in {place} ({info.detail})."


def key_placeholder(row: ProviderStatus) -> str:
    """The key field's placeholder: what to type, or why nothing can be typed."""
    if not row.provider.is_byok:
        return NO_KEY_NEEDED
    name = env_override(row)
    if name is not None:
        return f"Set by {name}"
    if row.key.present:
        return f"Enter a new key to replace {row.key.masked or '…'}"
    return f"Paste your {row.provider.spec.label} API key"


def use_label(row: ProviderStatus) -> str:
    """The Use button: ``Use Anthropic``."""
    return f"Use {row.provider.spec.label}"


def model_placeholder(row: ProviderStatus) -> str:
    """The model field's placeholder: the provider's default model."""
    default = row.provider.spec.default_model
    return f"{default} (default)" if default else "chosen by Trace"


def saved(result: SetKeyResult) -> str:
    """After SetKey."""
    label = result.provider.spec.label
    if result.stored is not None:
        text = (
            f"Saved the {label} key {result.stored.secret.masked()} in "
            f"{store_words(result.stored.source)}; {label} is now active."
        )
    else:
        text = helper_saved(result)
    env = result.overridden_by
    if env:
        text += (
            f" {env.label} is set and overrides the stored key; to use the stored one: "
            f"{env.unset_hint} and reopen this window."
        )
    # The CLI's warning words, as sentences of their own.
    return " ".join([text, *(f"{w[:1].upper()}{w[1:]}." for w in result.warnings)])


def used(result: UseProviderResult) -> str:
    """After UseProvider."""
    spec = result.provider.spec
    key = result.credential
    suffix = f" with key {key.secret.masked()} ({source_words(key.source)})" if key else ""
    return f"{spec.label} is now active{suffix}."


def model_set(result: SelectModelResult) -> str:
    """After SelectModel."""
    default = " (its default)" if result.source is ModelSource.DEFAULT else ""
    return f"{result.provider.spec.label} will use model {result.model}{default}."


def removed(result: RemoveKeyResult) -> str:
    """After RemoveKey."""
    label = result.provider.spec.label
    text = f"Removed the stored {label} key." if result.removed else f"No stored {label} key."
    if result.reverted_to_trace:
        text += f" Trace-hosted is active again: AI requests are billed to {Provider.TRACE.payer}."
    still = result.still_from
    if still:
        how = (
            f"; to remove that one too, unset {still.name} and reopen this window"
            if still.name
            else ""
        )
        text += f" {still.label} still supplies a key for {label}{how}."
    return text


def remove_question(label: str) -> str:
    """The confirmation asked before RemoveKey."""
    return f"Remove the stored {label} key from this computer?"


def error_text(error: BaseException) -> tuple[str, str]:
    """(problem, fix) for the error banner; never a traceback, never a secret.

    Where the panel itself has the fix (a key to paste, a provider to use), the fix is
    the click, with the same command for a terminal where there is one.
    """
    if isinstance(error, MissingKeyError):
        label = Provider.parse(error.provider).spec.label
        return error.problem, (
            f"paste a {label} key and click Save, or select Trace-hosted and click Use "
            f"Trace-hosted (in a terminal: buildwithtrace byok set {error.provider})"
        )
    if isinstance(error, InvalidKeyError) and not isinstance(error, InvalidTokenError):
        return error.problem, "paste the key exactly as your provider shows it and click Save"
    if isinstance(error, TraceError):
        return error.problem, error.fix
    return (
        f"unexpected {type(error).__name__}",
        "try again; if it keeps failing, run `buildwithtrace doctor` and report the problem",
    )


# --- where keys come from (issue 13): helpers, named keys, project files, verify -----


def helper_saved(result: SetKeyResult) -> str:
    """After SetKey with a helper command: what was stored (the command, not a key)."""
    label = result.provider.spec.label
    program = result.helper.program if result.helper else "the helper"
    return (
        f"Saved the helper command for {label} in config.toml (not the key: {program} runs "
        f"when a request needs it); {label} is now active."
    )


def verified(result: KeyVerification) -> str:
    """After VerifyKey: the provider's verdict in a sentence."""
    label = result.provider.spec.label
    key = f"the key {result.masked_key}" if result.masked_key else "the key"
    source = f" ({source_words(result.source)})" if result.source else ""
    if result.verdict is Verdict.VALID:
        return f"{label} accepted {key}{source}."
    if result.verdict is Verdict.REJECTED:
        return f"{label} rejected {key}{source} (HTTP {result.status}): save a working key."
    return f"Could not check {key}{source} with {label}: {result.detail}."


def project_line(report: StatusReport) -> str | None:
    """The project file that applies where the panel was opened, if any."""
    project = report.project
    if project is None:
        return None
    if project.state is None:
        return f"Refused {project.path}: {project.problem}"
    if project.state is ProjectState.ALLOWED:
        chosen = project.key_name or "the default key"
        provider = project.provider.spec.label if project.provider else "the active provider"
        return f"{project.path} chooses {provider} with {chosen}."
    directory = project.path.rpartition("/")[0] or "/"
    reason = (
        "changed since you allowed it"
        if project.state is ProjectState.CHANGED
        else ("not allowed yet")
    )
    return f"Ignored {project.path} ({reason}): run buildwithtrace project allow {directory}"


def helper_words(row: ProviderStatus) -> str:
    """A helper's key that has not run: ``key from helper op (fetched when needed)``."""
    program = (row.key.helper or "").split(" ", 1)[0].rsplit("/", 1)[-1] or "a command"
    label = row.key.source.label if row.key.source else "helper"
    return f"key from {label} {program} (fetched when needed)"


def helper_placeholder(row: ProviderStatus) -> str:
    """The helper field's placeholder: the command in use, or an example."""
    if row.key.helper:
        return row.key.helper
    return "e.g. op read op://Private/API/credential"
