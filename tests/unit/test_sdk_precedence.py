"""The SDK precedence of DESIGN section 3, as a table of cases run THROUGH the SDK.

Each case builds a ``Trace`` (and an ``AsyncTrace``) over in-memory adapters and the
scripted backend: keys in the secret store, the active provider and remembered
models in the settings, variables in ``env=``, ``llm_*`` constructor defaults and
``llm_*`` call arguments. It then checks the request the backend received (the BYOK
fields, or none) and what the reply says: provider, model, key source, masked key,
and who is billed. The error cases check that nothing was sent.

The orders, from DESIGN (the expectations below are written from it, not the code):
per-call arguments, TRACE_LLM_*, constructor defaults, the persisted store; provider
and key resolve as a unit, a provider named without a key takes its key by the CLI
order (provider env vars, then the store); the model is the per-call one, else the
winning source's, else the provider's remembered one, else its default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import attrs
import pytest

from adapters.backend.scripted import ScriptedTraceBackend
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from application.chat import ChatReply
from domain.billing import BillingMode
from domain.chat import ChatRequest, ClientKind, Done, LlmSelection, TextDelta
from domain.errors import (
    AmbiguousCredentialError,
    BackendError,
    InvalidInputError,
    InvalidKeyError,
    MissingKeyError,
    NotLoggedInError,
    TraceError,
    UnknownProviderError,
)
from domain.provider import TRACE_TOKEN_ACCOUNT, Provider
from domain.resolution import Resolution
from domain.secret import Secret
from domain.settings import Settings
from entrypoints.sdk import AsyncTrace, Trace
from tests.support.choices import label_of

ANTHROPIC, OPENAI, GEMINI, TRACE = (
    Provider.ANTHROPIC,
    Provider.OPENAI,
    Provider.GEMINI,
    Provider.TRACE,
)
DEFAULT_MODEL = {ANTHROPIC: "claude-sonnet-4-6", OPENAI: "gpt-4o", GEMINI: "gemini-2.5-flash"}

TOKEN = "trace-token-unit-0123456789"
CALL_KEY = "sk-call-argument-key-CALL"
CLIENT_KEY = "sk-client-default-key-CLNT"
SDK_ENV_KEY = "sk-trace-llm-env-key-SENV"
ANTHROPIC_ENV_KEY = "sk-ant-env-variable-key-AENV"
OPENAI_ENV_KEY = "sk-openai-env-variable-OENV"
GEMINI_ENV_KEY = "AIza-gemini-env-variable-GENV"
GOOGLE_ENV_KEY = "AIza-google-env-variable-GOOG"
STORED_KEY = {
    ANTHROPIC: "sk-ant-stored-in-store-ASTO",
    OPENAI: "sk-openai-stored-in-store-OSTO",
    GEMINI: "AIza-gemini-stored-in-store-GSTO",
}
STORE = "memory"  # the key source InMemorySecretStore reports
ARGUMENT = "argument"  # per-call arguments and constructor defaults alike

Flavour = Literal["sync", "async"]


@attrs.frozen
class Case:
    """The sources present, and what the request and reply must say."""

    stored: tuple[Provider, ...] = ()  # providers with a key in the secret store
    active: Provider | None = None  # `byok use` / `byok set`
    remembered: Mapping[Provider, str] = attrs.field(factory=dict)  # `byok model`
    env: Mapping[str, str] = attrs.field(factory=dict)
    client: Mapping[str, str] = attrs.field(factory=dict)  # Trace(llm_*=...)
    call: Mapping[str, str] = attrs.field(factory=dict)  # chat(llm_*=...)
    expect: Answer | None = None  # None: Trace-hosted (unless ``error``)
    error: type[TraceError] | None = None


@attrs.frozen
class Answer:
    """The expected BYOK answer."""

    provider: Provider
    key: str
    source: str
    model: str


def by(provider: Provider, key: str, source: str, model: str | None = None) -> Answer:
    """The expected BYOK answer (the provider's default model unless given)."""
    return Answer(provider, key, source, model or DEFAULT_MODEL[provider])


def provider_args(
    provider: Provider | str, key: str | None = None, model: str | None = None
) -> dict[str, str]:
    """``llm_*`` keyword arguments."""
    args = {"llm_provider": provider.value if isinstance(provider, Provider) else provider}
    if key is not None:
        args["llm_api_key"] = key
    if model is not None:
        args["llm_model_id"] = model
    return args


def env_args(
    provider: str | None = None, key: str | None = None, model: str | None = None
) -> dict[str, str]:
    """``TRACE_LLM_*`` variables."""
    names = {"TRACE_LLM_PROVIDER": provider, "TRACE_LLM_API_KEY": key, "TRACE_LLM_MODEL": model}
    return {name: value for name, value in names.items() if value is not None}


CASES: dict[str, Case] = {
    # --- nothing but the persisted store ----------------------------------------------
    "nothing set: Trace-hosted, billed to the plan": Case(),
    "store: the active provider with its stored key": Case(
        stored=(ANTHROPIC,), active=ANTHROPIC, expect=by(ANTHROPIC, STORED_KEY[ANTHROPIC], STORE)
    ),
    "store: the provider's remembered model": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        remembered={ANTHROPIC: "claude-opus-4-1", OPENAI: "gpt-4.1"},
        expect=by(ANTHROPIC, STORED_KEY[ANTHROPIC], STORE, "claude-opus-4-1"),
    ),
    "store: the provider's env var beats its stored key (CLI order)": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        env={"ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
        expect=by(ANTHROPIC, ANTHROPIC_ENV_KEY, "env:ANTHROPIC_API_KEY"),
    ),
    "store: gemini reads GEMINI_API_KEY before GOOGLE_API_KEY": Case(
        stored=(GEMINI,),
        active=GEMINI,
        env={"GEMINI_API_KEY": GEMINI_ENV_KEY, "GOOGLE_API_KEY": GOOGLE_ENV_KEY},
        expect=by(GEMINI, GEMINI_ENV_KEY, "env:GEMINI_API_KEY"),
    ),
    "store: gemini falls back to GOOGLE_API_KEY": Case(
        active=GEMINI,
        env={"GEMINI_API_KEY": "  ", "GOOGLE_API_KEY": GOOGLE_ENV_KEY},
        expect=by(GEMINI, GOOGLE_ENV_KEY, "env:GOOGLE_API_KEY"),
    ),
    "store: the active provider without a key is an error, never Trace-hosted": Case(
        stored=(OPENAI,), active=ANTHROPIC, error=MissingKeyError
    ),
    "store: `byok use trace` is Trace-hosted even with stored keys": Case(
        stored=(ANTHROPIC, OPENAI), active=TRACE
    ),
    # --- TRACE_LLM_* ------------------------------------------------------------------
    "env: TRACE_LLM_* beat the store": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        env=env_args("openai", SDK_ENV_KEY),
        expect=by(OPENAI, SDK_ENV_KEY, "env:TRACE_LLM_API_KEY"),
    ),
    "env: TRACE_LLM_MODEL is the env provider's model": Case(
        env=env_args("openai", SDK_ENV_KEY, "gpt-4.1-mini"),
        remembered={OPENAI: "gpt-4.1"},
        expect=by(OPENAI, SDK_ENV_KEY, "env:TRACE_LLM_API_KEY", "gpt-4.1-mini"),
    ),
    "env: else the env provider's remembered model": Case(
        env=env_args("openai", SDK_ENV_KEY),
        remembered={OPENAI: "gpt-4.1", ANTHROPIC: "claude-opus-4-1"},
        expect=by(OPENAI, SDK_ENV_KEY, "env:TRACE_LLM_API_KEY", "gpt-4.1"),
    ),
    "env: a provider without a key takes the provider's env var": Case(
        stored=(OPENAI,),
        env={**env_args("openai"), "OPENAI_API_KEY": OPENAI_ENV_KEY},
        expect=by(OPENAI, OPENAI_ENV_KEY, "env:OPENAI_API_KEY"),
    ),
    "env: a provider without a key takes its stored key": Case(
        stored=(ANTHROPIC, OPENAI),
        active=ANTHROPIC,
        env=env_args("openai"),
        expect=by(OPENAI, STORED_KEY[OPENAI], STORE),
    ),
    "env: a provider without any key is an error, not the store's provider": Case(
        stored=(ANTHROPIC,), active=ANTHROPIC, env=env_args("gemini"), error=MissingKeyError
    ),
    "env: a key without a provider is refused, never paired with the store's": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        env=env_args(key=SDK_ENV_KEY),
        error=AmbiguousCredentialError,
    ),
    "env: blank TRACE_LLM_* count as unset": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        env={"TRACE_LLM_PROVIDER": " ", "TRACE_LLM_API_KEY": "", "TRACE_LLM_MODEL": "\t"},
        expect=by(ANTHROPIC, STORED_KEY[ANTHROPIC], STORE),
    ),
    "env: an unknown TRACE_LLM_PROVIDER is an error when it is read": Case(
        env=env_args("mistral", SDK_ENV_KEY), error=UnknownProviderError
    ),
    "env: TRACE_LLM_PROVIDER=trace beats a BYOK store": Case(
        stored=(ANTHROPIC,), active=ANTHROPIC, env=env_args("trace")
    ),
    # --- constructor defaults ---------------------------------------------------------
    "client: TRACE_LLM_* beat constructor defaults (they are defaults)": Case(
        env=env_args("openai", SDK_ENV_KEY),
        client=provider_args(GEMINI, CLIENT_KEY),
        expect=by(OPENAI, SDK_ENV_KEY, "env:TRACE_LLM_API_KEY"),
    ),
    "client: constructor defaults apply when TRACE_LLM_PROVIDER is unset": Case(
        env={"TRACE_LLM_MODEL": "gpt-4.1"},
        client=provider_args(GEMINI, CLIENT_KEY),
        expect=by(GEMINI, CLIENT_KEY, ARGUMENT),
    ),
    "client: constructor defaults beat the store": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        client=provider_args(OPENAI, CLIENT_KEY),
        expect=by(OPENAI, CLIENT_KEY, ARGUMENT),
    ),
    "client: a provider without a key takes its key by the CLI order": Case(
        stored=(GEMINI,),
        env={"GEMINI_API_KEY": GEMINI_ENV_KEY},
        client=provider_args(GEMINI),
        expect=by(GEMINI, GEMINI_ENV_KEY, "env:GEMINI_API_KEY"),
    ),
    "client: the constructor's model beats the remembered one": Case(
        remembered={ANTHROPIC: "claude-opus-4-1"},
        client=provider_args(ANTHROPIC, CLIENT_KEY, "claude-haiku-4-5"),
        expect=by(ANTHROPIC, CLIENT_KEY, ARGUMENT, "claude-haiku-4-5"),
    ),
    "client: TRACE_LLM_MODEL does not follow the client's provider": Case(
        env=env_args(model="gpt-4.1"),
        client=provider_args(ANTHROPIC, CLIENT_KEY),
        expect=by(ANTHROPIC, CLIENT_KEY, ARGUMENT),
    ),
    "client: a key without a provider is refused": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        client={"llm_api_key": CLIENT_KEY},
        error=AmbiguousCredentialError,
    ),
    "client: llm_provider='trace' beats a BYOK store": Case(
        stored=(ANTHROPIC,), active=ANTHROPIC, client=provider_args(TRACE)
    ),
    "client: a model alone changes the store's provider's model only": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        client={"llm_model_id": "claude-opus-4-1"},
        expect=by(ANTHROPIC, STORED_KEY[ANTHROPIC], STORE),
    ),
    # --- per-call arguments -----------------------------------------------------------
    "call: per-call arguments beat every other source": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        env=env_args("gemini", SDK_ENV_KEY, "gemini-2.5-pro"),
        client=provider_args(GEMINI, CLIENT_KEY, "gemini-2.5-pro"),
        call=provider_args(OPENAI, CALL_KEY),
        expect=by(OPENAI, CALL_KEY, ARGUMENT),
    ),
    "call: a per-call model with the client's provider and key": Case(
        client=provider_args(ANTHROPIC, CLIENT_KEY, "claude-opus-4-1"),
        call={"llm_model_id": "claude-haiku-4-5"},
        expect=by(ANTHROPIC, CLIENT_KEY, ARGUMENT, "claude-haiku-4-5"),
    ),
    "call: a per-call model with the stored provider and key": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        remembered={ANTHROPIC: "claude-opus-4-1"},
        call={"llm_model_id": "claude-haiku-4-5"},
        expect=by(ANTHROPIC, STORED_KEY[ANTHROPIC], STORE, "claude-haiku-4-5"),
    ),
    "call: a provider without a key never takes the client's key": Case(
        stored=(OPENAI,),
        client=provider_args(ANTHROPIC, CLIENT_KEY),
        call=provider_args(OPENAI),
        expect=by(OPENAI, STORED_KEY[OPENAI], STORE),
    ),
    "call: switching provider never sends the other provider's model": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        remembered={ANTHROPIC: "claude-opus-4-1"},
        call=provider_args(OPENAI, CALL_KEY),
        expect=by(OPENAI, CALL_KEY, ARGUMENT),
    ),
    "call: llm_provider='trace' beats every BYOK source": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        env=env_args("openai", SDK_ENV_KEY),
        client=provider_args(GEMINI, CLIENT_KEY),
        call=provider_args(TRACE),
    ),
    "call: a bad TRACE_LLM_PROVIDER is not read when the call decides": Case(
        env=env_args("mistral", SDK_ENV_KEY),
        call=provider_args(OPENAI, CALL_KEY),
        expect=by(OPENAI, CALL_KEY, ARGUMENT),
    ),
    "call: a key without a provider is refused, even with client defaults": Case(
        client=provider_args(ANTHROPIC, CLIENT_KEY),
        call={"llm_api_key": CALL_KEY},
        error=AmbiguousCredentialError,
    ),
    "call: a provider with no key anywhere is an error": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        client=provider_args(ANTHROPIC, CLIENT_KEY),
        call=provider_args(GEMINI),
        error=MissingKeyError,
    ),
    "call: blank arguments count as not given": Case(
        stored=(ANTHROPIC,),
        active=ANTHROPIC,
        call={"llm_provider": "", "llm_api_key": " ", "llm_model_id": ""},
        expect=by(ANTHROPIC, STORED_KEY[ANTHROPIC], STORE),
    ),
}


def make_secrets(providers: tuple[Provider, ...], token: str | None = TOKEN) -> InMemorySecretStore:
    """A secret store holding the stored keys of ``providers`` (and the login token)."""
    initial = {p.account: Secret(STORED_KEY[p]) for p in providers}
    if token is not None:
        initial[TRACE_TOKEN_ACCOUNT] = Secret(token)
    return InMemorySecretStore(initial)


def one_turn() -> ScriptedTraceBackend:
    """A backend with one scripted answer."""
    return ScriptedTraceBackend([[TextDelta("ok"), Done("conv-1")]])


def run_chat(
    flavour: Flavour,
    backend: ScriptedTraceBackend,
    case: Case,
    **options: str,
) -> tuple[ChatReply, Resolution]:
    """One chat through ``Trace`` or ``AsyncTrace``, and what ``resolve`` says beforehand."""
    adapters = {
        "env": dict(case.env),
        "secrets": make_secrets(case.stored),
        "settings": InMemorySettingsStore(
            Settings(active_provider=case.active, models=case.remembered)
        ),
        "backend": backend,
        # An env var overriding a stored key is announced; these cases test the choice.
        "on_notice": lambda _notice: None,
    }
    if flavour == "sync":
        with Trace(**adapters, **options, **case.client) as trace:  # type: ignore[arg-type]
            resolution = trace.resolve(**case.call)
            return trace.chat("hello", **case.call), resolution

    async def main() -> tuple[ChatReply, Resolution]:
        async with AsyncTrace(**adapters, **options, **case.client) as trace:  # type: ignore[arg-type]
            resolution = await trace.resolve(**case.call)
            return await trace.chat("hello", **case.call), resolution

    return asyncio.run(main())


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in CASES.items()])
def test_sdk_precedence(case: Case, flavour: Flavour) -> None:
    backend = one_turn()

    if case.error is not None:
        with pytest.raises(case.error):
            run_chat(flavour, backend, case)
        assert backend.requests == [], "nothing may be sent when resolution fails"
        return
    reply, resolution = run_chat(flavour, backend, case)

    (request,) = backend.requests
    assert request.client is ClientKind.SDK
    expect = case.expect
    if expect is None:
        assert request.llm is None, "Trace-hosted requests carry no BYOK fields"
        assert (reply.provider, reply.model, label_of(reply.key_source), reply.masked_key) == (
            TRACE,
            None,
            None,
            None,
        )
        assert reply.billing is BillingMode.TRACE_PLAN
    else:
        assert request.llm == LlmSelection(expect.provider, Secret(expect.key), expect.model)
        assert (reply.provider, reply.model, label_of(reply.key_source), reply.masked_key) == (
            expect.provider,
            expect.model,
            expect.source,
            "…" + expect.key[-4:],
        )
        assert reply.billing is BillingMode.PROVIDER
    # resolve() answers what the chat then used.
    assert resolution.provider is reply.provider
    assert resolution.model == reply.model
    assert (resolution.credential.source.label if resolution.credential else None) == (
        label_of(reply.key_source)
    )


# --- the Trace token: token=, then TRACE_API_TOKEN, then the stored login ------------------

TOKEN_ARG = "trace-token-argument-0001"
TOKEN_ENV = "trace-token-environment-02"
TOKEN_STORED = "trace-token-stored-login-03"


@pytest.mark.parametrize(
    ("token", "env", "stored", "expected"),
    [
        pytest.param(TOKEN_ARG, TOKEN_ENV, TOKEN_STORED, TOKEN_ARG, id="argument-first"),
        pytest.param(None, TOKEN_ENV, TOKEN_STORED, TOKEN_ENV, id="then-TRACE_API_TOKEN"),
        pytest.param(None, None, TOKEN_STORED, TOKEN_STORED, id="then-the-stored-login"),
        pytest.param(None, "   ", TOKEN_STORED, TOKEN_STORED, id="blank-env-is-unset"),
    ],
)
def test_trace_token_precedence(
    token: str | None, env: str | None, stored: str | None, expected: str
) -> None:
    backend = ScriptedTraceBackend([[TextDelta("ok"), Done("c")]], valid_token=Secret(expected))
    variables = {"TRACE_API_TOKEN": env} if env is not None else {}
    with Trace(
        token=token,
        env=variables,
        secrets=make_secrets((), token=stored),
        settings=InMemorySettingsStore(),
        backend=backend,
    ) as trace:
        assert trace.chat("hello").text == "ok"  # a wrong token raises AuthenticationRejected
    assert len(backend.requests) == 1


def test_no_token_anywhere_is_not_logged_in_before_any_request() -> None:
    backend = one_turn()
    with (
        Trace(
            env={},
            secrets=make_secrets((), token=None),
            settings=InMemorySettingsStore(),
            backend=backend,
        ) as trace,
        pytest.raises(NotLoggedInError) as caught,
    ):
        trace.chat("hello")
    assert "buildwithtrace auth login" in str(caught.value)
    assert backend.requests == []


# --- input the SDK refuses before building anything --------------------------------------


def quiet_trace(backend: ScriptedTraceBackend, **options: object) -> Trace:
    """A Trace over in-memory adapters with a token."""
    return Trace(
        env={},
        secrets=make_secrets(()),
        settings=InMemorySettingsStore(),
        backend=backend,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({"llm_provider": "mistral"}, UnknownProviderError, id="unknown-provider"),
        pytest.param(
            {"llm_provider": "openai", "llm_api_key": "two words"}, InvalidKeyError, id="bad-key"
        ),
        pytest.param({"token": "has a space"}, InvalidKeyError, id="bad-token"),
        pytest.param({"project_dir": "/nonexistent/board"}, InvalidInputError, id="bad-project"),
    ],
)
def test_constructor_validates_its_arguments(
    options: dict[str, str], error: type[TraceError]
) -> None:
    with pytest.raises(error):
        quiet_trace(one_turn(), **options)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"mode": "yolo"}, id="mode"),
        pytest.param({"app_type": "gerbview"}, id="app_type"),
        pytest.param({"project_dir": "/nonexistent/board"}, id="project_dir"),
    ],
)
def test_bad_chat_options_are_invalid_input_and_send_nothing(options: dict[str, str]) -> None:
    backend = one_turn()
    with quiet_trace(backend) as trace, pytest.raises(InvalidInputError) as caught:
        trace.chat("hello", **options)
    assert caught.value.fix
    assert backend.requests == []


def test_mode_app_type_and_project_dir_reach_the_request(tmp_path: Path) -> None:
    backend = one_turn()
    with quiet_trace(backend) as trace:
        trace.chat(
            "hello",
            mode="Agent",
            app_type="pcbnew",
            project_dir=tmp_path,
            file_path="board.kicad_pcb",
            conversation_id="conv-0",
        )
    (request,) = backend.requests
    assert (request.mode.value, request.app_type.value) == ("agent", "pcbnew")
    assert request.project_dir == str(tmp_path.resolve())
    assert (request.file_path, request.conversation_id) == ("board.kicad_pcb", "conv-0")


def test_a_closed_client_refuses_to_chat() -> None:
    backend = one_turn()
    trace = quiet_trace(backend)
    trace.close()
    trace.close()  # idempotent
    with pytest.raises(BackendError) as caught:
        trace.chat("hello")
    assert "Trace()" in caught.value.fix
    assert backend.requests == []


def test_byok_changes_through_the_sdk_apply_to_the_next_chat() -> None:
    backend = ScriptedTraceBackend([[Done("a")], [Done("b")], [Done("c")], [Done("d")]])
    with quiet_trace(backend) as trace:
        trace.byok.set("openai", "sk-openai-set-through-sdk-0001")
        trace.chat("one")
        trace.byok.model("gpt-4.1")
        trace.chat("two")
        trace.byok.use("trace")
        trace.chat("three")
        trace.byok.use("openai")
        removed = trace.byok.remove("openai")
        trace.chat("four")  # removing the active provider's key reverts to Trace-hosted
        with pytest.raises(MissingKeyError):
            trace.chat("five", llm_provider="openai")
    assert removed.reverted_to_trace
    first, second, third, fourth = backend.requests
    assert first.llm == LlmSelection(
        Provider.OPENAI, Secret("sk-openai-set-through-sdk-0001"), "gpt-4o"
    )
    assert second.llm is not None
    assert second.llm.model_id == "gpt-4.1"
    assert third.llm is None
    assert fourth.llm is None


def test_a_request_the_backend_saw_is_the_one_the_reply_describes() -> None:
    """Guard for the table: the scripted backend records what the use-case sent."""
    backend = one_turn()
    with quiet_trace(backend, llm_provider="openai", llm_api_key=CLIENT_KEY) as trace:
        reply = trace.chat("hello")
    request: ChatRequest = backend.requests[0]
    assert request.llm is not None
    assert request.llm.api_key.masked() == reply.masked_key
