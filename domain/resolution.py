"""Which key, from where, for which provider and model: the resolution rules as data.

Everything here is pure: callers read the candidates (environment, settings, secret
store) and hand them in. DESIGN section 3 is the specification; the unit tests hold
the full table of cases.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import attrs

from domain.billing import BillingMode
from domain.credential import Credential, KeySource, SourceKind, StoredSecret
from domain.errors import AmbiguousCredentialError, MissingKeyError, MissingNamedKeyError
from domain.keys import HelperCommand, KeyRef
from domain.model_id import ModelId, ModelSource, parse_model_id
from domain.project import ProjectUse
from domain.provider import Provider
from domain.secret import Secret
from domain.value import Value


class KeyTier(enum.Enum):
    """A place the CLI looks for a provider's key.

    ``HELPER`` and ``STORE`` look at the chosen key only: the named key a project file
    or ``byok use --name`` chose, else the provider's default key. A chosen name that
    has neither is an error, never a silent fall back to another key (another bill).
    """

    ENV = "env"
    HELPER = "helper"
    STORE = "store"


class SelectionOrigin(enum.Enum):
    """A source that may name the provider (and key, model) for an SDK call."""

    ARGUMENTS = "argument"  # per-call llm_provider= / llm_api_key= / llm_model_id=
    ENVIRONMENT = "env"  # TRACE_LLM_PROVIDER / TRACE_LLM_API_KEY / TRACE_LLM_MODEL
    CLIENT = "client"  # Trace(llm_provider=...) constructor defaults
    PROJECT = "project"  # the project file (trace.toml) the user allowed
    PERSISTED = "config"  # the active provider written by `byok use` / `byok set`


SDK_KEY_ENV = "TRACE_LLM_API_KEY"
SDK_PROVIDER_ENV = "TRACE_LLM_PROVIDER"
SDK_MODEL_ENV = "TRACE_LLM_MODEL"


@attrs.frozen(eq=False, repr=False)
class ResolutionPolicy(Value):
    """The resolution orders, first wins.

    The SDK's constructor values are *defaults*: they sit below the environment
    (``TRACE_LLM_*``), so a deployment can redirect a program without editing it, and
    the Python and Node SDKs share this one order (tests/shared/resolution-cases.json).
    """

    cli_order: tuple[KeyTier, ...] = (KeyTier.ENV, KeyTier.HELPER, KeyTier.STORE)
    sdk_order: tuple[SelectionOrigin, ...] = (
        SelectionOrigin.ARGUMENTS,
        SelectionOrigin.ENVIRONMENT,
        SelectionOrigin.CLIENT,
        SelectionOrigin.PROJECT,
        SelectionOrigin.PERSISTED,
    )
    # Which sources may choose a named key for a provider, first wins: the project file
    # (for the provider it names), then the name remembered per provider by
    # `byok use PROVIDER --name NAME`. A name applies to lookups of its provider only.
    key_name_order: tuple[SelectionOrigin, ...] = (
        SelectionOrigin.PROJECT,
        SelectionOrigin.PERSISTED,
    )


DEFAULT_POLICY = ResolutionPolicy()


@attrs.frozen(eq=False, repr=False)
class PendingKey(Value):
    """A helper command wins for this key but has not run: its key is not known yet."""

    ref: KeyRef
    helper: HelperCommand

    @property
    def source(self) -> KeySource:
        """``helper`` or ``helper:NAME``."""
        return KeySource(SourceKind.HELPER, key_name=self.ref.name)


@attrs.frozen(eq=False, repr=False)
class KeyLookup(Value):
    """The outcome of the CLI order for one provider: the winner and what it shadows.

    ``pending``: a helper wins but was not run (``byok status`` without
    ``--run-helpers``); ``winner`` is then None. ``key_name``: the named key looked
    at, and ``chosen_by`` who chose it (a project file's path, ``byok use``).
    """

    provider: Provider
    winner: Credential | None
    shadowed: tuple[KeySource, ...]
    pending: PendingKey | None = None
    key_name: str | None = None
    chosen_by: str | None = None

    @property
    def found(self) -> bool:
        """True when a key is available (known, or from a helper not run yet)."""
        return self.winner is not None or self.pending is not None

    @property
    def source(self) -> KeySource | None:
        """Where the winning key comes from, run or not."""
        if self.winner is not None:
            return self.winner.source
        return self.pending.source if self.pending is not None else None

    def missing(self) -> MissingKeyError:
        """The error for a lookup that found nothing."""
        if self.key_name is not None:
            return MissingNamedKeyError(
                self.provider.value, self.key_name, self.chosen_by or "byok use"
            )
        return MissingKeyError(self.provider.value, self.provider.spec.env_vars)


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, or None when unset, blank or whitespace-only."""
    value = env.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def key_candidates(
    provider: Provider,
    env: Mapping[str, str],
    stored: StoredSecret | None,
    policy: ResolutionPolicy = DEFAULT_POLICY,
    *,
    helper: HelperCommand | None = None,
    key_name: str | None = None,
) -> tuple[Credential | PendingKey, ...]:
    """Every key available for ``provider``, in the CLI order (env vars, helper, store).

    ``stored`` and ``helper`` are those of the chosen key (``key_name``, else the default).
    """
    found: list[Credential | PendingKey] = []
    for tier in policy.cli_order:
        if tier is KeyTier.ENV:
            for name in provider.spec.env_vars:
                value = env_value(env, name)
                if value is not None:
                    found.append(Credential(provider, Secret(value), KeySource.env(name)))
        elif tier is KeyTier.HELPER:
            if helper is not None:
                found.append(PendingKey(KeyRef(provider, key_name), helper))
        elif stored is not None:
            source = attrs.evolve(stored.source, key_name=key_name)
            found.append(Credential(provider, stored.secret, source))
    return tuple(found)


def resolve_key(
    provider: Provider,
    env: Mapping[str, str],
    stored: StoredSecret | None,
    policy: ResolutionPolicy = DEFAULT_POLICY,
    *,
    helper: HelperCommand | None = None,
    key_name: str | None = None,
    chosen_by: str | None = None,
) -> KeyLookup:
    """The CLI order for one provider: the first candidate wins, the rest are shadowed."""
    found = key_candidates(provider, env, stored, policy, helper=helper, key_name=key_name)
    if not found:
        return KeyLookup(provider, None, (), key_name=key_name, chosen_by=chosen_by)
    first, rest = found[0], tuple(c.source for c in found[1:])
    if isinstance(first, PendingKey):
        return KeyLookup(provider, None, rest, first, key_name, chosen_by)
    return KeyLookup(provider, first, rest, None, key_name, chosen_by)


@attrs.frozen(eq=False, repr=False)
class LlmChoice(Value):
    """Provider, key and model stated for a request, already parsed (each may be absent).

    What a call passes (``llm_provider=``...), what a client's constructor holds, and
    what ``chat --provider/--model`` says: parsed once where they come in, by
    :meth:`parse`, then carried as domain values.
    """

    provider: Provider | None = None
    api_key: Secret | None = None
    model: ModelId | None = None

    @classmethod
    def parse(
        cls,
        provider: str | Provider | None = None,
        api_key: str | Secret | None = None,
        model: str | None = None,
    ) -> LlmChoice | None:
        """Parse what a caller gave; a blank value counts as not given; None when nothing is.

        Raises ``UnknownProviderError``, ``InvalidKeyError`` or ``InvalidModelError``.
        """
        if isinstance(provider, str):
            provider = Provider.parse(provider) if provider.strip() else None
        if isinstance(api_key, str):
            named = provider.value if provider else None
            api_key = Secret.parse(api_key, named) if api_key.strip() else None
        parsed_model = parse_model_id(model) if model is not None and model.strip() else None
        if provider is None and api_key is None and parsed_model is None:
            return None
        return cls(provider, api_key, parsed_model)

    def selection(self, origin: SelectionOrigin) -> Selection:
        """This choice as one source of the SDK order."""
        return Selection(origin, self.provider, self.api_key, self.model)


@attrs.frozen(eq=False, repr=False)
class Selection(Value):
    """What one SDK source says: a provider, a key and a model, each possibly absent.

    ``key_name`` (project file, stored settings only): the named key to use for
    ``provider``; ``chosen_by`` says who chose it, for messages.
    """

    origin: SelectionOrigin
    provider: Provider | None = None
    key: Secret | None = None
    model: str | None = None
    key_name: str | None = None
    chosen_by: str | None = None

    @property
    def key_source(self) -> KeySource:
        """Where a key carried by this selection came from."""
        if self.origin is SelectionOrigin.ENVIRONMENT:
            return KeySource.env(SDK_KEY_ENV)
        return KeySource(SourceKind.ARGUMENT)


_PROVIDER_HINT = {
    SelectionOrigin.ARGUMENTS: "llm_provider=",
    SelectionOrigin.CLIENT: "llm_provider= in Trace(...)",
    SelectionOrigin.ENVIRONMENT: SDK_PROVIDER_ENV,
    SelectionOrigin.PROJECT: "provider in trace.toml",
    SelectionOrigin.PERSISTED: "buildwithtrace byok use",
}
_WHERE = {
    SelectionOrigin.ARGUMENTS: "the call",
    SelectionOrigin.CLIENT: "the client's defaults",
    SelectionOrigin.ENVIRONMENT: SDK_KEY_ENV,
    SelectionOrigin.PROJECT: "the project file",
    SelectionOrigin.PERSISTED: "the stored settings",
}


def choose_selection(
    selections: Sequence[Selection], policy: ResolutionPolicy = DEFAULT_POLICY
) -> Selection:
    """The winning source: the first, in the SDK order, that names a provider.

    A source that carries a key but no provider is an error rather than a guess:
    pairing it with another source's provider is exactly what DESIGN forbids.
    With no source naming a provider the result is Trace-hosted.
    """
    by_origin = {s.origin: s for s in selections}
    for origin in policy.sdk_order:
        selection = by_origin.get(origin)
        if selection is None:
            continue
        if selection.key is not None and selection.provider is None:
            raise AmbiguousCredentialError(_WHERE[origin], _PROVIDER_HINT[origin])
        if selection.provider is not None:
            return selection
    return Selection(SelectionOrigin.PERSISTED, Provider.TRACE)


def choose_key_name(
    provider: Provider,
    selections: Sequence[Selection],
    remembered: Mapping[Provider, str],
    policy: ResolutionPolicy = DEFAULT_POLICY,
) -> tuple[str | None, str | None]:
    """(name, chosen_by): the named key for ``provider``, from the first source that names one.

    In ``policy.key_name_order``: the project file's ``key_name``, for the provider it
    names only; then the name remembered for ``provider`` (``byok use PROVIDER --name``,
    kept per provider like models). Neither: the provider's default key.
    """
    by_origin = {s.origin: s for s in selections}
    for origin in policy.key_name_order:
        if origin is SelectionOrigin.PERSISTED:
            name = remembered.get(provider)
            if name:
                return name, f"byok use {provider.value} --name {name}"
            continue
        selection = by_origin.get(origin)
        if selection is not None and selection.provider is provider and selection.key_name:
            return selection.key_name, selection.chosen_by
    return None, None


def resolve_model(
    provider: Provider,
    per_call_model: str | None,
    winner: Selection,
    remembered: str | None,
) -> tuple[str | None, ModelSource]:
    """A per-call model, else the winning source's, else the remembered one, else the default."""
    if not provider.is_byok:
        return None, ModelSource.DEFAULT
    if per_call_model is not None:
        return per_call_model, ModelSource.ARGUMENT
    if winner.model is not None and winner.origin is not SelectionOrigin.PERSISTED:
        return winner.model, _MODEL_SOURCES.get(winner.origin, ModelSource.ARGUMENT)
    if remembered is not None:
        return remembered, ModelSource.CONFIG
    return provider.spec.default_model, ModelSource.DEFAULT


_MODEL_SOURCES = {
    SelectionOrigin.ENVIRONMENT: ModelSource.ENV,
    SelectionOrigin.PROJECT: ModelSource.PROJECT,
}


@attrs.frozen(eq=False, repr=False)
class Resolution(Value):
    """The provider, key and model a request will use, and where each came from.

    ``pending``: the helper that will supply the key (``credential`` is then None until
    the resolution service runs it). ``project``: the project file found for the
    request's directory and what became of it. ``overrides``: the user's own key (stored
    or from a helper) that an environment variable's key displaced, if any.
    """

    provider: Provider
    credential: Credential | None
    model: str | None
    model_source: ModelSource
    origin: SelectionOrigin
    pending: PendingKey | None = None
    project: ProjectUse | None = None
    overrides: KeySource | None = None

    @property
    def billing(self) -> BillingMode:
        """Who pays for this request."""
        return self.provider.spec.billing


def complete_selection(
    winner: Selection,
    lookup: KeyLookup | None,
    model: tuple[str | None, ModelSource],
) -> Resolution:
    """Pair the winning source with its key: its own, else the CLI order's for its provider.

    Never falls back to Trace-hosted billing: a BYOK provider without a key raises
    :class:`MissingKeyError`.
    """
    provider = winner.provider or Provider.TRACE
    credential: Credential | None = None
    pending: PendingKey | None = None
    if provider.is_byok:
        if winner.key is not None:
            credential = Credential(provider, winner.key, winner.key_source)
        elif lookup is not None and lookup.found:
            credential, pending = lookup.winner, lookup.pending
        elif lookup is not None:
            raise lookup.missing()
        else:
            raise MissingKeyError(provider.value, provider.spec.env_vars)
    return Resolution(provider, credential, model[0], model[1], winner.origin, pending)
