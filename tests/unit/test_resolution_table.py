"""The resolution table of DESIGN section 3, both orders, as cases.

Two layers of cases for each order:

- a hand-written table of the cases a person reads to learn the rules;
- a generated table: every combination of sources, checked against an oracle written
  plainly from the DESIGN text (not from the implementation), so a rule that breaks
  for some combination nobody thought to write down still fails a test.

The CLI order runs through ``ResolveKey.for_provider`` and the SDK order through
``ResolveKey.for_request``, both over the in-memory adapters.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

import attrs
import pytest

from adapters.environment import MappingEnvironment
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from application.services.key_resolution import KeyResolution
from domain.errors import (
    AmbiguousCredentialError,
    InvalidKeyError,
    MissingKeyError,
    TraceError,
    UnknownProviderError,
)
from domain.model_id import ModelSource
from domain.provider import Provider
from domain.resolution import SelectionOrigin
from domain.secret import Secret
from domain.settings import Settings
from tests.support.choices import Given, parsed

ANTHROPIC, OPENAI, GEMINI, TRACE = (
    Provider.ANTHROPIC,
    Provider.OPENAI,
    Provider.GEMINI,
    Provider.TRACE,
)
BYOK = (ANTHROPIC, OPENAI, GEMINI)

# DESIGN section 1, copied by hand so the tests do not trust the code's own table.
ENV_VARS: dict[Provider, tuple[str, ...]] = {
    ANTHROPIC: ("ANTHROPIC_API_KEY",),
    OPENAI: ("OPENAI_API_KEY",),
    GEMINI: ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    TRACE: (),
}
DEFAULT_MODEL: dict[Provider, str | None] = {
    ANTHROPIC: "claude-sonnet-4-6",
    OPENAI: "gpt-4o",
    GEMINI: "gemini-2.5-flash",
    TRACE: None,
}
STORE = "memory"  # the source label InMemorySecretStore gives the keys it holds
SDK_KEY_LABEL = "env:TRACE_LLM_API_KEY"
BLANKS = ("", "   ", "\t\n")


@attrs.frozen
class World:
    """Everything ``ResolveKey`` reads: environment, stored keys, persisted settings."""

    env: Mapping[str, str] = attrs.field(factory=dict)
    stored: Mapping[Provider, str] = attrs.field(factory=dict)
    active: Provider | None = None
    remembered: Mapping[Provider, str] = attrs.field(factory=dict)

    def resolver(self) -> KeyResolution:
        """A ``ResolveKey`` over in-memory adapters holding this world."""
        settings = Settings(active_provider=self.active, models=self.remembered)
        return KeyResolution(
            secrets=InMemorySecretStore({p.account: Secret(k) for p, k in self.stored.items()}),
            settings=InMemorySettingsStore(settings),
            environment=MappingEnvironment(dict(self.env)),
        )


# --- CLI order ------------------------------------------------------------------------


@attrs.frozen
class Found:
    """An expected CLI-order outcome: the winning source and key, and what it shadows."""

    source: str
    key: str
    shadowed: tuple[str, ...] = ()


def cli_outcome(provider: Provider, world: World) -> Found | None:
    """What ``ResolveKey.for_provider`` found, in the shape of :class:`Found`."""
    lookup = world.resolver().for_provider(provider)
    assert lookup.provider is provider
    if lookup.winner is None:
        assert lookup.shadowed == ()
        return None
    assert lookup.winner.provider is provider
    return Found(
        lookup.winner.source.label,
        lookup.winner.secret.reveal(),
        tuple(s.label for s in lookup.shadowed),
    )


def cli_param(
    id: str,
    provider: Provider,
    expected: Found | None,
    env: Mapping[str, str] | None = None,
    stored: str | None = None,
) -> object:
    """One hand-written row of the CLI table."""
    world = World(env=env or {}, stored={provider: stored} if stored else {})
    return pytest.param(provider, world, expected, id=id)


CLI_TABLE = [
    # anthropic: one env var, then the store.
    cli_param(
        "anthropic-env-alone",
        ANTHROPIC,
        Found("env:ANTHROPIC_API_KEY", "sk-ant-from-env"),
        env={"ANTHROPIC_API_KEY": "sk-ant-from-env"},
    ),
    cli_param(
        "anthropic-env-value-is-trimmed",
        ANTHROPIC,
        Found("env:ANTHROPIC_API_KEY", "sk-ant-from-env"),
        env={"ANTHROPIC_API_KEY": "  sk-ant-from-env\n"},
    ),
    cli_param("anthropic-env-empty-is-unset", ANTHROPIC, None, env={"ANTHROPIC_API_KEY": ""}),
    cli_param(
        "anthropic-env-whitespace-is-unset", ANTHROPIC, None, env={"ANTHROPIC_API_KEY": " \t "}
    ),
    cli_param(
        "anthropic-blank-env-falls-to-store",
        ANTHROPIC,
        Found(STORE, "sk-ant-stored"),
        env={"ANTHROPIC_API_KEY": "  "},
        stored="sk-ant-stored",
    ),
    cli_param(
        "anthropic-env-beats-store",
        ANTHROPIC,
        Found("env:ANTHROPIC_API_KEY", "sk-ant-from-env", (STORE,)),
        env={"ANTHROPIC_API_KEY": "sk-ant-from-env"},
        stored="sk-ant-stored",
    ),
    cli_param(
        "anthropic-store-alone", ANTHROPIC, Found(STORE, "sk-ant-stored"), stored="sk-ant-stored"
    ),
    cli_param("anthropic-none", ANTHROPIC, None),
    cli_param(
        "anthropic-ignores-other-providers-env",
        ANTHROPIC,
        None,
        env={
            "OPENAI_API_KEY": "sk-openai",
            "GEMINI_API_KEY": "AIza-g",
            "GOOGLE_API_KEY": "AIza-go",
        },
    ),
    cli_param(
        "anthropic-ignores-sdk-env-key",
        ANTHROPIC,
        None,
        env={"TRACE_LLM_PROVIDER": "anthropic", "TRACE_LLM_API_KEY": "sk-ant-sdk"},
    ),
    # openai: one env var, then the store.
    cli_param(
        "openai-env-alone",
        OPENAI,
        Found("env:OPENAI_API_KEY", "sk-openai-env"),
        env={"OPENAI_API_KEY": "sk-openai-env"},
    ),
    cli_param("openai-env-empty-is-unset", OPENAI, None, env={"OPENAI_API_KEY": ""}),
    cli_param("openai-env-whitespace-is-unset", OPENAI, None, env={"OPENAI_API_KEY": "\n"}),
    cli_param(
        "openai-env-beats-store",
        OPENAI,
        Found("env:OPENAI_API_KEY", "sk-openai-env", (STORE,)),
        env={"OPENAI_API_KEY": "sk-openai-env"},
        stored="sk-openai-stored",
    ),
    cli_param(
        "openai-store-alone", OPENAI, Found(STORE, "sk-openai-stored"), stored="sk-openai-stored"
    ),
    cli_param("openai-none", OPENAI, None),
    cli_param("openai-ignores-anthropic-env", OPENAI, None, env={"ANTHROPIC_API_KEY": "sk-ant-x"}),
    # gemini: GEMINI_API_KEY, then GOOGLE_API_KEY, then the store.
    cli_param(
        "gemini-gemini-env-alone",
        GEMINI,
        Found("env:GEMINI_API_KEY", "AIza-gemini"),
        env={"GEMINI_API_KEY": "AIza-gemini"},
    ),
    cli_param(
        "gemini-google-env-alone",
        GEMINI,
        Found("env:GOOGLE_API_KEY", "AIza-google"),
        env={"GOOGLE_API_KEY": "AIza-google"},
    ),
    cli_param(
        "gemini-gemini-env-before-google-env",
        GEMINI,
        Found("env:GEMINI_API_KEY", "AIza-gemini", ("env:GOOGLE_API_KEY",)),
        env={"GEMINI_API_KEY": "AIza-gemini", "GOOGLE_API_KEY": "AIza-google"},
    ),
    cli_param(
        "gemini-both-env-and-store-shadowed-in-order",
        GEMINI,
        Found("env:GEMINI_API_KEY", "AIza-gemini", ("env:GOOGLE_API_KEY", STORE)),
        env={"GEMINI_API_KEY": "AIza-gemini", "GOOGLE_API_KEY": "AIza-google"},
        stored="AIza-stored",
    ),
    cli_param(
        "gemini-google-env-beats-store",
        GEMINI,
        Found("env:GOOGLE_API_KEY", "AIza-google", (STORE,)),
        env={"GOOGLE_API_KEY": "AIza-google"},
        stored="AIza-stored",
    ),
    cli_param(
        "gemini-blank-gemini-env-falls-to-google",
        GEMINI,
        Found("env:GOOGLE_API_KEY", "AIza-google"),
        env={"GEMINI_API_KEY": " ", "GOOGLE_API_KEY": "AIza-google"},
    ),
    cli_param(
        "gemini-blank-env-vars-fall-to-store",
        GEMINI,
        Found(STORE, "AIza-stored"),
        env={"GEMINI_API_KEY": "", "GOOGLE_API_KEY": "\t"},
        stored="AIza-stored",
    ),
    cli_param("gemini-store-alone", GEMINI, Found(STORE, "AIza-stored"), stored="AIza-stored"),
    cli_param("gemini-none", GEMINI, None),
    # trace: Trace-hosted models have no key at all.
    cli_param(
        "trace-never-has-a-key",
        TRACE,
        None,
        env={
            "ANTHROPIC_API_KEY": "sk-ant-x",
            "OPENAI_API_KEY": "sk-x",
            "GEMINI_API_KEY": "AIza-x",
            "TRACE_LLM_API_KEY": "sk-x",
        },
    ),
]


@pytest.mark.parametrize(("provider", "world", "expected"), CLI_TABLE)
def test_cli_order_table(provider: Provider, world: World, expected: Found | None) -> None:
    assert cli_outcome(provider, world) == expected


def expected_cli(provider: Provider, world: World) -> Found | None:
    """The oracle for the CLI order, from DESIGN section 3.

    The first of: the provider's env vars in the table's order (blank counts as
    unset), then the secret store. Every later source that also holds a key is shadowed.
    """
    candidates: list[tuple[str, str]] = []
    for name in ENV_VARS[provider]:
        value = world.env.get(name)
        if value is not None and value.strip() != "":
            candidates.append((f"env:{name}", value.strip()))
    if provider in world.stored:
        candidates.append((STORE, world.stored[provider]))
    if not candidates:
        return None
    (source, key), *rest = candidates
    return Found(source, key, tuple(label for label, _ in rest))


def _env_var_states(name: str) -> Iterator[tuple[str, str | None]]:
    """Each state one env var can be in: unset, the blank spellings, or a key."""
    yield "unset", None
    for i, blank in enumerate(BLANKS):
        yield f"blank{i}", blank
    yield "set", f"{name.lower()}-value-1234"


def generated_cli_cases() -> Iterator[object]:
    """Every combination of env-var states and store presence, for every provider."""
    for provider in Provider:
        # Trace has no variables of its own; give it the others' to prove they are ignored.
        names = ENV_VARS[provider] or ("ANTHROPIC_API_KEY", "GEMINI_API_KEY")
        per_var = [list(_env_var_states(name)) for name in names]
        for states in itertools.product(*per_var):
            for stored in (False, True):
                env = {n: v for n, (_, v) in zip(names, states, strict=True) if v is not None}
                world = World(
                    env=env, stored={provider: f"{provider.value}-stored-5678"} if stored else {}
                )
                label = ",".join(f"{n}={s}" for n, (s, _) in zip(names, states, strict=True)) + (
                    ",store" if stored else ""
                )
                yield pytest.param(provider, world, id=f"{provider.value}:{label}")


@pytest.mark.parametrize(("provider", "world"), list(generated_cli_cases()))
def test_cli_order_matches_design_for_every_combination(provider: Provider, world: World) -> None:
    expected = expected_cli(provider, world) if provider.is_byok else None
    assert cli_outcome(provider, world) == expected


# --- SDK order ------------------------------------------------------------------------


@attrs.frozen
class Outcome:
    """What a request resolves to, with every ``where from`` as its stable label."""

    provider: Provider
    key: str | None
    key_source: str | None
    model: str | None
    model_source: ModelSource
    origin: SelectionOrigin


Expected = Outcome | type[TraceError]


def sdk_outcome(
    world: World,
    call: Given | None = None,
    client: Given | None = None,
    *,
    use_sdk_environment: bool = True,
) -> Expected:
    """Resolve through ``ResolveKey.for_request``; an error becomes its type."""
    try:
        resolution = world.resolver().for_request(
            call=parsed(call), client=parsed(client), use_sdk_environment=use_sdk_environment
        )
    except TraceError as exc:
        return type(exc)
    credential = resolution.credential
    if credential is not None:
        # A credential never belongs to another provider than the one resolved.
        assert credential.provider is resolution.provider
    return Outcome(
        provider=resolution.provider,
        key=credential.secret.reveal() if credential else None,
        key_source=credential.source.label if credential else None,
        model=resolution.model,
        model_source=resolution.model_source,
        origin=resolution.origin,
    )


@attrs.frozen
class SdkCase:
    """One hand-written row of the SDK table."""

    expected: Expected
    world: World = World()
    call: Given | None = None
    client: Given | None = None
    use_sdk_environment: bool = True


def sdk_param(id: str, case: SdkCase) -> object:
    """Wrap a row for ``parametrize``."""
    return pytest.param(case, id=id)


def byok(
    provider: Provider,
    key: str,
    source: str,
    origin: SelectionOrigin,
    model: str | None = None,
    model_source: ModelSource = ModelSource.DEFAULT,
) -> Outcome:
    """An expected BYOK outcome; the model defaults to the provider's default."""
    return Outcome(provider, key, source, model or DEFAULT_MODEL[provider], model_source, origin)


def hosted(origin: SelectionOrigin = SelectionOrigin.PERSISTED) -> Outcome:
    """The expected Trace-hosted outcome: no credential, no model."""
    return Outcome(TRACE, None, None, None, ModelSource.DEFAULT, origin)


ARG, CLIENT, ENV, PERSISTED = (
    SelectionOrigin.ARGUMENTS,
    SelectionOrigin.CLIENT,
    SelectionOrigin.ENVIRONMENT,
    SelectionOrigin.PERSISTED,
)
SDK_ENV_OPENAI = {"TRACE_LLM_PROVIDER": "openai", "TRACE_LLM_API_KEY": "sk-sdk-env"}

SDK_TABLE = [
    # Nothing configured: Trace-hosted.
    sdk_param("nothing-anywhere-is-trace-hosted", SdkCase(hosted())),
    sdk_param("persisted-trace-is-trace-hosted", SdkCase(hosted(), World(active=TRACE))),
    # The persisted store: active provider, key by the CLI order, remembered model.
    sdk_param(
        "persisted-provider-with-stored-key",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-stored", STORE, PERSISTED),
            World(active=ANTHROPIC, stored={ANTHROPIC: "sk-ant-stored"}),
        ),
    ),
    sdk_param(
        "persisted-provider-env-key-beats-stored-key",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-env", "env:ANTHROPIC_API_KEY", PERSISTED),
            World(
                env={"ANTHROPIC_API_KEY": "sk-ant-env"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
        ),
    ),
    sdk_param(
        "persisted-gemini-key-from-google-env",
        SdkCase(
            byok(GEMINI, "AIza-google", "env:GOOGLE_API_KEY", PERSISTED),
            World(env={"GOOGLE_API_KEY": "AIza-google"}, active=GEMINI),
        ),
    ),
    sdk_param(
        "persisted-provider-remembered-model",
        SdkCase(
            byok(
                ANTHROPIC, "sk-ant-stored", STORE, PERSISTED, "claude-opus-4-1", ModelSource.CONFIG
            ),
            World(
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
                remembered={ANTHROPIC: "claude-opus-4-1"},
            ),
        ),
    ),
    sdk_param(
        "persisted-provider-without-key-is-missing-key-never-trace",
        SdkCase(MissingKeyError, World(active=OPENAI, stored={ANTHROPIC: "sk-ant-stored"})),
    ),
    sdk_param(
        "persisted-provider-blank-env-key-is-missing-key",
        SdkCase(MissingKeyError, World(env={"OPENAI_API_KEY": "  "}, active=OPENAI)),
    ),
    # Environment TRACE_LLM_*.
    sdk_param(
        "env-provider-and-key-beat-persisted",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV),
            World(env=SDK_ENV_OPENAI, active=ANTHROPIC, stored={ANTHROPIC: "sk-ant-stored"}),
        ),
    ),
    sdk_param(
        "env-provider-and-key-beat-provider-env-var",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV),
            World(env={**SDK_ENV_OPENAI, "OPENAI_API_KEY": "sk-openai-env"}),
        ),
    ),
    sdk_param(
        "env-provider-without-key-takes-provider-env-var",
        SdkCase(
            byok(OPENAI, "sk-openai-env", "env:OPENAI_API_KEY", ENV),
            World(env={"TRACE_LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-openai-env"}),
        ),
    ),
    sdk_param(
        "env-provider-without-key-takes-stored-key",
        SdkCase(
            byok(OPENAI, "sk-openai-stored", STORE, ENV),
            World(env={"TRACE_LLM_PROVIDER": "openai"}, stored={OPENAI: "sk-openai-stored"}),
        ),
    ),
    sdk_param(
        "env-provider-case-insensitive",
        SdkCase(
            byok(GEMINI, "AIza-gemini", "env:GEMINI_API_KEY", ENV),
            World(env={"TRACE_LLM_PROVIDER": " Gemini ", "GEMINI_API_KEY": "AIza-gemini"}),
        ),
    ),
    sdk_param(
        "env-provider-without-any-key-is-missing-not-persisted",
        SdkCase(
            MissingKeyError,
            World(
                env={"TRACE_LLM_PROVIDER": "openai"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
        ),
    ),
    sdk_param(
        "env-key-without-provider-is-ambiguous",
        SdkCase(
            AmbiguousCredentialError,
            World(
                env={"TRACE_LLM_API_KEY": "sk-sdk-env"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
        ),
    ),
    sdk_param(
        "env-blank-sdk-variables-count-as-unset",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-stored", STORE, PERSISTED),
            World(
                env={"TRACE_LLM_PROVIDER": " ", "TRACE_LLM_API_KEY": "", "TRACE_LLM_MODEL": "\t"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
        ),
    ),
    sdk_param(
        "env-provider-trace-overrides-persisted-byok",
        SdkCase(
            hosted(ENV),
            World(
                env={"TRACE_LLM_PROVIDER": "trace", "TRACE_LLM_MODEL": "gpt-4o"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
        ),
    ),
    sdk_param(
        "env-model-with-env-provider",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV, "o3-mini", ModelSource.ENV),
            World(
                env={**SDK_ENV_OPENAI, "TRACE_LLM_MODEL": "o3-mini"}, remembered={OPENAI: "gpt-4.1"}
            ),
        ),
    ),
    sdk_param(
        "env-provider-uses-its-remembered-model",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV, "gpt-4.1", ModelSource.CONFIG),
            World(env=SDK_ENV_OPENAI, remembered={OPENAI: "gpt-4.1"}),
        ),
    ),
    sdk_param(
        "env-provider-never-gets-another-providers-remembered-model",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV),
            World(env=SDK_ENV_OPENAI, active=ANTHROPIC, remembered={ANTHROPIC: "claude-opus-4-1"}),
        ),
    ),
    # DESIGN: "else the winning source's model": a model from a source that did not win
    # (TRACE_LLM_MODEL without TRACE_LLM_PROVIDER) is not used.
    sdk_param(
        "env-model-without-env-provider-is-not-the-winners-model",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-stored", STORE, PERSISTED),
            World(
                env={"TRACE_LLM_MODEL": "gpt-4o"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
        ),
    ),
    sdk_param(
        "cli-path-ignores-sdk-environment",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-stored", STORE, PERSISTED),
            World(
                env={**SDK_ENV_OPENAI, "TRACE_LLM_MODEL": "o3-mini"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
            use_sdk_environment=False,
        ),
    ),
    # Per-call arguments.
    sdk_param(
        "call-provider-and-key-beat-everything",
        SdkCase(
            byok(GEMINI, "AIza-call", "argument", ARG),
            World(
                env={**SDK_ENV_OPENAI, "GEMINI_API_KEY": "AIza-env"},
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored", GEMINI: "AIza-stored"},
            ),
            call=Given(provider="gemini", api_key="AIza-call"),
        ),
    ),
    sdk_param(
        "call-provider-and-key-are-normalised",
        SdkCase(
            byok(OPENAI, "sk-call", "argument", ARG),
            call=Given(provider="  OpenAI ", api_key="\tsk-call \n"),
        ),
    ),
    sdk_param(
        "call-provider-enum-and-secret-accepted",
        SdkCase(
            byok(OPENAI, "sk-call", "argument", ARG),
            call=Given(provider=OPENAI, api_key=Secret("sk-call")),
        ),
    ),
    sdk_param(
        "call-provider-without-key-takes-provider-env-var-not-sdk-env-key",
        SdkCase(
            byok(OPENAI, "sk-openai-env", "env:OPENAI_API_KEY", ARG),
            World(env={**SDK_ENV_OPENAI, "OPENAI_API_KEY": "sk-openai-env"}),
            call=Given(provider="openai"),
        ),
    ),
    sdk_param(
        "call-provider-without-key-takes-stored-key",
        SdkCase(
            byok(GEMINI, "AIza-stored", STORE, ARG),
            World(active=ANTHROPIC, stored={GEMINI: "AIza-stored"}),
            call=Given(provider="gemini"),
        ),
    ),
    sdk_param(
        "call-provider-without-any-key-is-missing-not-env",
        SdkCase(
            MissingKeyError,
            World(env=SDK_ENV_OPENAI, active=ANTHROPIC, stored={ANTHROPIC: "sk-ant-stored"}),
            call=Given(provider="openai"),
        ),
    ),
    sdk_param(
        "call-provider-without-key-never-takes-the-clients-key",
        SdkCase(
            MissingKeyError,
            client=Given(provider="openai", api_key="sk-client"),
            call=Given(provider="openai"),
        ),
    ),
    sdk_param(
        "call-key-without-provider-is-ambiguous",
        SdkCase(
            AmbiguousCredentialError,
            World(active=OPENAI, stored={OPENAI: "sk-openai-stored"}),
            call=Given(api_key="sk-call"),
        ),
    ),
    sdk_param(
        "call-key-without-provider-is-ambiguous-even-with-env-provider",
        SdkCase(
            AmbiguousCredentialError,
            World(env={"TRACE_LLM_PROVIDER": "openai"}),
            call=Given(api_key="sk-call"),
        ),
    ),
    sdk_param(
        "call-winning-ignores-ambiguous-env-key-below-it",
        SdkCase(
            byok(OPENAI, "sk-call", "argument", ARG),
            World(env={"TRACE_LLM_API_KEY": "sk-sdk-env"}),
            call=Given(provider="openai", api_key="sk-call"),
        ),
    ),
    sdk_param(
        "call-model-alone-applies-to-persisted-provider",
        SdkCase(
            byok(
                ANTHROPIC,
                "sk-ant-stored",
                STORE,
                PERSISTED,
                "claude-haiku-4-5",
                ModelSource.ARGUMENT,
            ),
            World(
                active=ANTHROPIC,
                stored={ANTHROPIC: "sk-ant-stored"},
                remembered={ANTHROPIC: "claude-opus-4-1"},
            ),
            call=Given(model="claude-haiku-4-5"),
        ),
    ),
    sdk_param(
        "call-model-beats-env-model-and-remembered",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV, "gpt-4o-mini", ModelSource.ARGUMENT),
            World(
                env={**SDK_ENV_OPENAI, "TRACE_LLM_MODEL": "o3-mini"},
                remembered={OPENAI: "gpt-4.1"},
            ),
            call=Given(model="gpt-4o-mini"),
        ),
    ),
    sdk_param(
        "call-model-beats-client-model",
        SdkCase(
            byok(GEMINI, "AIza-client", "argument", CLIENT, "gemini-2.5-pro", ModelSource.ARGUMENT),
            client=Given(provider="gemini", api_key="AIza-client", model="gemini-1.5"),
            call=Given(model="gemini-2.5-pro"),
        ),
    ),
    sdk_param(
        "call-provider-trace-is-hosted-and-drops-the-model",
        SdkCase(
            hosted(ARG),
            World(active=ANTHROPIC, stored={ANTHROPIC: "sk-ant-stored"}),
            call=Given(provider="trace", model="claude-opus-4-1"),
        ),
    ),
    sdk_param(
        "call-unknown-provider-is-refused",
        SdkCase(UnknownProviderError, call=Given(provider="mistral", api_key="k-123")),
    ),
    sdk_param(
        "call-invalid-key-is-refused",
        SdkCase(InvalidKeyError, call=Given(provider="openai", api_key="sk bad")),
    ),
    # Parsed at the edge: a blank argument counts as not given, like a blank variable,
    # so the provider named with it finds its key by the CLI order.
    sdk_param(
        "call-blank-key-counts-as-not-given",
        SdkCase(
            byok(OPENAI, "sk-openai-env", "env:OPENAI_API_KEY", ARG),
            World(env={"OPENAI_API_KEY": "sk-openai-env"}),
            call=Given(provider="openai", api_key="   "),
        ),
    ),
    # Client defaults (the SDK's Trace(...) constructor) are defaults: below the call and
    # TRACE_LLM_*, above the persisted store.
    sdk_param(
        "env-beats-client-provider-and-key",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV),
            World(env=SDK_ENV_OPENAI),
            client=Given(provider="gemini", api_key="AIza-client"),
        ),
    ),
    sdk_param(
        "client-provider-and-key-beat-the-store",
        SdkCase(
            byok(GEMINI, "AIza-client", "argument", CLIENT),
            World(active=ANTHROPIC, stored={ANTHROPIC: "sk-ant-stored"}),
            client=Given(provider="gemini", api_key="AIza-client"),
        ),
    ),
    sdk_param(
        "env-model-alone-names-no-provider-so-the-client-decides",
        SdkCase(
            byok(GEMINI, "AIza-client", "argument", CLIENT),
            World(env={"TRACE_LLM_MODEL": "o3-mini"}),
            client=Given(provider="gemini", api_key="AIza-client"),
        ),
    ),
    sdk_param(
        "client-model-is-the-winners-model",
        SdkCase(
            byok(GEMINI, "AIza-client", "argument", CLIENT, "gemini-2.5-pro", ModelSource.ARGUMENT),
            World(remembered={GEMINI: "gemini-2.0-flash"}),
            client=Given(provider="gemini", api_key="AIza-client", model="gemini-2.5-pro"),
        ),
    ),
    sdk_param(
        "call-provider-beats-client",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-call", "argument", ARG),
            client=Given(provider="gemini", api_key="AIza-client", model="gemini-2.5-pro"),
            call=Given(provider="anthropic", api_key="sk-ant-call"),
        ),
    ),
    sdk_param(
        "client-key-without-provider-is-ambiguous",
        SdkCase(
            AmbiguousCredentialError,
            World(active=OPENAI, stored={OPENAI: "sk-openai-stored"}),
            client=Given(api_key="sk-client"),
        ),
    ),
    sdk_param(
        "env-provider-beats-an-ambiguous-client-key-below-it",
        SdkCase(
            byok(OPENAI, "sk-sdk-env", SDK_KEY_LABEL, ENV),
            World(env=SDK_ENV_OPENAI),
            client=Given(api_key="sk-client"),
        ),
    ),
    sdk_param(
        "env-key-without-provider-is-ambiguous-even-with-client-provider",
        SdkCase(
            AmbiguousCredentialError,
            World(env={"TRACE_LLM_API_KEY": "sk-sdk-env"}),
            client=Given(provider="openai", api_key="sk-client"),
        ),
    ),
    sdk_param(
        "client-provider-without-key-takes-cli-order",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-stored", STORE, CLIENT),
            World(
                env={"TRACE_LLM_MODEL": "o3-mini"},
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
            client=Given(provider="anthropic"),
        ),
    ),
    sdk_param(
        "env-provider-without-key-beats-client-and-takes-cli-order",
        SdkCase(
            byok(ANTHROPIC, "sk-ant-stored", STORE, ENV),
            World(
                env={"TRACE_LLM_PROVIDER": "anthropic"},
                stored={ANTHROPIC: "sk-ant-stored"},
            ),
            client=Given(provider="openai", api_key="sk-client"),
        ),
    ),
]


@pytest.mark.parametrize("case", SDK_TABLE)
def test_sdk_order_table(case: SdkCase) -> None:
    outcome = sdk_outcome(
        case.world, case.call, case.client, use_sdk_environment=case.use_sdk_environment
    )
    assert outcome == case.expected


def test_missing_key_error_names_the_provider_and_the_fix() -> None:
    with pytest.raises(MissingKeyError) as raised:
        World(active=GEMINI).resolver().for_request()
    assert raised.value.provider == "gemini"
    assert "GEMINI_API_KEY" in raised.value.message
    assert "GOOGLE_API_KEY" in raised.value.message
    assert "buildwithtrace byok set gemini" in raised.value.message
    assert "byok use trace" in raised.value.message


# --- SDK order, generated ---------------------------------------------------------------
#
# Each SDK source (call, client, env) may carry a provider, a key and a model: 8 shapes
# each, 512 combinations. Each source names a different provider so pairing one source's
# provider with another's key cannot go unnoticed, and every key and model is distinct.
# Each combination runs against every "world": persisted active provider, the CLI-order
# keys each provider has (none, stored, or an env var over a stored one), and remembered
# models. (An env var alone resolves like env-over-store; the CLI tables cover it.)


@attrs.frozen
class Source:
    """What one SDK source carries."""

    provider: Provider | None = None
    key: str | None = None
    model: str | None = None


SOURCE_VALUES = {
    "call": Source(OPENAI, "call-key-0001", "call-model"),
    "client": Source(GEMINI, "client-key-0002", "client-model"),
    "env": Source(ANTHROPIC, "sdk-env-key-0003", "env-model"),
}
Shape = tuple[bool, bool, bool]
SHAPES: list[Shape] = [(p, k, m) for p, k, m in itertools.product((False, True), repeat=3)]


def shaped(name: str, shape: Shape) -> Source:
    """The source ``name`` carrying only the parts ``shape`` selects."""
    full = SOURCE_VALUES[name]
    has_provider, has_key, has_model = shape
    return Source(
        full.provider if has_provider else None,
        full.key if has_key else None,
        full.model if has_model else None,
    )


def shape_id(shape: Shape) -> str:
    """``PKM`` with ``-`` for the absent parts."""
    return "".join(c if on else "-" for c, on in zip("PKM", shape, strict=True))


def cli_env_key(provider: Provider) -> str:
    """The key a world puts in the provider's first env var."""
    return f"{provider.value}-env-key-7777"


def cli_stored_key(provider: Provider) -> str:
    """The key a world puts in the secret store for the provider."""
    return f"{provider.value}-stored-key-8888"


def worlds(env_source: Source) -> Iterator[World]:
    """Every persisted state around one TRACE_LLM_* environment source."""
    sdk_env = {
        name: value
        for name, value in (
            ("TRACE_LLM_PROVIDER", env_source.provider.value if env_source.provider else None),
            ("TRACE_LLM_API_KEY", env_source.key),
            ("TRACE_LLM_MODEL", env_source.model),
        )
        if value is not None
    }
    key_states = ("none", "store", "both")
    for active in (None, *Provider):
        for states in itertools.product(key_states, repeat=len(BYOK)):
            env = dict(sdk_env)
            stored: dict[Provider, str] = {}
            for provider, state in zip(BYOK, states, strict=True):
                if state == "both":
                    env[ENV_VARS[provider][0]] = cli_env_key(provider)
                if state != "none":
                    stored[provider] = cli_stored_key(provider)
            for remembered in ({}, {p: f"{p.value}-remembered" for p in BYOK}):
                yield World(env=env, stored=stored, active=active, remembered=remembered)


def expected_sdk(call: Source, client: Source, env: Source, world: World) -> Expected:
    """The oracle for the SDK order, from DESIGN section 3.

    The first source (call, env, client, persisted store) that names a provider wins,
    with its own key; a source that gives a key but no provider is an error rather than
    a guess. A provider named without a key gets its key by the CLI order for that
    provider. Model: per call, else the winner's, else remembered, else default. The
    Trace-hosted provider has no key and no model. A BYOK provider without a key is an
    error, never a silent fall back to Trace.
    """
    ordered = ((call, ARG, "argument"), (env, ENV, SDK_KEY_LABEL), (client, CLIENT, "argument"))
    winner, origin, key_label = Source(world.active or TRACE), PERSISTED, ""
    for source, source_origin, label in ordered:
        if source.key is not None and source.provider is None:
            return AmbiguousCredentialError
        if source.provider is not None:
            winner, origin, key_label = source, source_origin, label
            break
    provider = winner.provider
    assert provider is not None
    if provider is TRACE:
        return hosted(origin)

    key: str | None
    model: str | None
    if winner.key is not None:
        key, source_label = winner.key, key_label
    else:
        found = expected_cli(provider, world)
        if found is None:
            return MissingKeyError
        key, source_label = found.key, found.source

    if call.model is not None:
        model, model_source = call.model, ModelSource.ARGUMENT
    elif winner.model is not None:
        model = winner.model
        model_source = ModelSource.ENV if origin is ENV else ModelSource.ARGUMENT
    elif provider in world.remembered:
        model, model_source = world.remembered[provider], ModelSource.CONFIG
    else:
        model, model_source = DEFAULT_MODEL[provider], ModelSource.DEFAULT
    return Outcome(provider, key, source_label, model, model_source, origin)


def overrides(source: Source) -> Given | None:
    """The source as ``Given``, or None when it carries nothing."""
    if source == Source():
        return None
    return Given(
        provider=source.provider.value if source.provider else None,
        api_key=source.key,
        model=source.model,
    )


@pytest.mark.parametrize(
    ("call_shape", "client_shape", "env_shape"),
    [
        pytest.param(a, b, c, id=f"call={shape_id(a)}-client={shape_id(b)}-env={shape_id(c)}")
        for a, b, c in itertools.product(SHAPES, repeat=3)
    ],
)
def test_sdk_order_matches_design_for_every_combination(
    call_shape: Shape,
    client_shape: Shape,
    env_shape: Shape,
) -> None:
    call, client, env = (
        shaped("call", call_shape),
        shaped("client", client_shape),
        shaped("env", env_shape),
    )
    mismatches = []
    for world in worlds(env):
        expected = expected_sdk(call, client, env, world)
        actual = sdk_outcome(world, overrides(call), overrides(client))
        if actual != expected:
            mismatches.append((world, expected, actual))
    assert mismatches == [], f"{len(mismatches)} worlds disagree; first: {mismatches[0]}"
