"""Generate tests/shared/resolution-cases.json: the SDK resolution table both SDKs run.

    python -m tests.shared.resolution_cases          # rewrite the file
    python -m tests.shared.resolution_cases --check  # exit 1 when the file is stale

The Python and Node SDKs follow one precedence table (DESIGN section 3). This module
is its single source: the inputs are written here, every expectation is computed by
the Python domain and application (``ResolveKey.for_request`` over in-memory
adapters), and the policy and provider facts are read from ``domain``. Both SDKs' test
suites then run every case through their own ``resolve`` (tests/unit/
test_shared_resolution_cases.py and node/test/resolution-cases.test.ts); a Python test
also fails when the committed file differs from what this module produces.

Inputs follow the SDK's argument rule: a blank call or constructor value counts as
not given (``entrypoints.sdk._overrides``; Node's ``new Trace({...})`` does the same).
Stored keys live in the in-memory store, whose source label is ``memory``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from adapters.environment import MappingEnvironment
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from application.services.key_resolution import KeyResolution
from domain.errors import TraceError
from domain.provider import Provider
from domain.resolution import DEFAULT_POLICY, SDK_KEY_ENV, SDK_MODEL_ENV, SDK_PROVIDER_ENV
from domain.secret import Secret
from domain.settings import Settings
from entrypoints.errors import exit_code_for
from tests.support.choices import Given, parsed

OUTPUT = Path(__file__).with_name("resolution-cases.json")
FORMAT_VERSION = 1
STORE_LABEL = "memory"

ANTHROPIC, OPENAI, GEMINI, TRACE = (
    Provider.ANTHROPIC,
    Provider.OPENAI,
    Provider.GEMINI,
    Provider.TRACE,
)


@attrs.frozen
class Source:
    """What the call or the constructor says: provider, key and model (each optional)."""

    provider: str | None = None
    key: str | None = None
    model: str | None = None

    def to_json(self) -> dict[str, str]:
        """Only the parts given."""
        parts = (("provider", self.provider), ("key", self.key), ("model", self.model))
        return {name: value for name, value in parts if value is not None}

    def overrides(self) -> Given | None:
        """As the SDK passes it on: blank parts dropped, None when nothing is left."""
        kept = [v if v is not None and v.strip() else None for v in attrs.astuple(self)]
        if all(v is None for v in kept):
            return None
        return Given(*kept)


@attrs.frozen
class Case:
    """The sources present; the expectation is computed, never written by hand.

    ``world`` names an entry of ``WORLDS`` (its env, keys and settings, with this case's
    ``env`` laid over its env) so the grid's thousand cases do not repeat them.
    """

    name: str
    world: str | None = None
    env: Mapping[str, str] = attrs.field(factory=dict)
    stored: Mapping[Provider, str] = attrs.field(factory=dict)
    active: Provider | None = None
    remembered: Mapping[Provider, str] = attrs.field(factory=dict)
    client: Source = Source()
    call: Source = Source()


def _byok(provider: Provider, key: str | None = None, model: str | None = None) -> Source:
    return Source(provider.value, key, model)


def _sdk_env(
    provider: str | None = None, key: str | None = None, model: str | None = None
) -> dict[str, str]:
    names = ((SDK_PROVIDER_ENV, provider), (SDK_KEY_ENV, key), (SDK_MODEL_ENV, model))
    return {name: value for name, value in names if value is not None}


STORED = {
    ANTHROPIC: "sk-ant-stored-in-store-ASTO",
    OPENAI: "sk-openai-stored-in-store-OSTO",
    GEMINI: "AIza-gemini-stored-in-store-GSTO",
}
CALL_KEY = "sk-call-argument-key-CALL"
CLIENT_KEY = "sk-client-default-key-CLNT"
SDK_ENV_KEY = "sk-trace-llm-env-key-SENV"

# The cases a person reads to learn the rules (the grid below covers the rest).
NAMED: tuple[Case, ...] = (
    Case("nothing set: Trace-hosted"),
    Case("store: active provider, stored key", stored=STORED, active=ANTHROPIC),
    Case(
        "store: remembered model of the active provider only",
        stored=STORED,
        active=ANTHROPIC,
        remembered={ANTHROPIC: "claude-opus-4-1", OPENAI: "gpt-4.1"},
    ),
    Case(
        "store: the provider's env var beats its stored key",
        stored=STORED,
        active=ANTHROPIC,
        env={"ANTHROPIC_API_KEY": "sk-ant-env-variable-key-AENV"},
    ),
    Case(
        "store: GEMINI_API_KEY before GOOGLE_API_KEY",
        active=GEMINI,
        env={"GEMINI_API_KEY": "AIza-gemini-env-GENV", "GOOGLE_API_KEY": "AIza-google-env-GOOG"},
    ),
    Case(
        "store: blank GEMINI_API_KEY falls to GOOGLE_API_KEY",
        active=GEMINI,
        env={"GEMINI_API_KEY": "  ", "GOOGLE_API_KEY": "AIza-google-env-GOOG"},
    ),
    Case(
        "store: active provider without a key is an error",
        stored={OPENAI: STORED[OPENAI]},
        active=ANTHROPIC,
    ),
    Case("store: byok use trace ignores stored keys", stored=STORED, active=TRACE),
    Case(
        "env: TRACE_LLM_* beat the store",
        stored=STORED,
        active=ANTHROPIC,
        env=_sdk_env("openai", SDK_ENV_KEY),
    ),
    Case(
        "env: TRACE_LLM_MODEL is the env provider's model",
        env=_sdk_env("openai", SDK_ENV_KEY, "gpt-4.1-mini"),
        remembered={OPENAI: "gpt-4.1"},
    ),
    Case(
        "env: provider without key takes its env var",
        stored=STORED,
        env={**_sdk_env("openai"), "OPENAI_API_KEY": "sk-openai-env-variable-OENV"},
    ),
    Case("env: provider without key takes its stored key", stored=STORED, env=_sdk_env("openai")),
    Case(
        "env: provider without any key is an error",
        stored={ANTHROPIC: STORED[ANTHROPIC]},
        active=ANTHROPIC,
        env=_sdk_env("gemini"),
    ),
    Case(
        "env: key without provider is ambiguous",
        stored=STORED,
        active=ANTHROPIC,
        env=_sdk_env(key=SDK_ENV_KEY),
    ),
    Case(
        "env: blank TRACE_LLM_* count as unset",
        stored=STORED,
        active=ANTHROPIC,
        env={SDK_PROVIDER_ENV: " ", SDK_KEY_ENV: "", SDK_MODEL_ENV: "\t"},
    ),
    Case(
        "env: values are trimmed and case-insensitive",
        env=_sdk_env("  OpenAI ", f"\t{SDK_ENV_KEY}\n", " gpt-4.1 "),
    ),
    Case("env: unknown TRACE_LLM_PROVIDER is an error", env=_sdk_env("mistral", SDK_ENV_KEY)),
    Case(
        "env: TRACE_LLM_PROVIDER=trace beats a BYOK store",
        stored=STORED,
        active=ANTHROPIC,
        env=_sdk_env("trace", None, "gpt-4o"),
    ),
    Case(
        "env: TRACE_LLM_* beat the constructor's defaults",
        env=_sdk_env("openai", SDK_ENV_KEY),
        client=_byok(GEMINI, CLIENT_KEY, "gemini-2.5-pro"),
    ),
    Case(
        "env: a winning env provider leaves an ambiguous constructor key unread",
        env=_sdk_env("openai", SDK_ENV_KEY),
        client=Source(key=CLIENT_KEY),
    ),
    Case(
        "env: a key without provider is ambiguous even with constructor defaults",
        env=_sdk_env(key=SDK_ENV_KEY),
        client=_byok(GEMINI, CLIENT_KEY),
    ),
    Case(
        "client: defaults apply when the environment names no provider",
        env=_sdk_env(model="gpt-4.1"),
        client=_byok(GEMINI, CLIENT_KEY),
    ),
    Case(
        "client: defaults beat the store",
        stored=STORED,
        active=ANTHROPIC,
        client=_byok(OPENAI, CLIENT_KEY),
    ),
    Case(
        "client: provider without key takes its key by the CLI order",
        stored=STORED,
        env={"GEMINI_API_KEY": "AIza-gemini-env-GENV"},
        client=_byok(GEMINI),
    ),
    Case(
        "client: the constructor's model beats the remembered one",
        remembered={ANTHROPIC: "claude-opus-4-1"},
        client=_byok(ANTHROPIC, CLIENT_KEY, "claude-haiku-4-5"),
    ),
    Case(
        "client: key without provider is ambiguous",
        stored=STORED,
        active=ANTHROPIC,
        client=Source(key=CLIENT_KEY),
    ),
    Case(
        "client: provider trace beats a BYOK store",
        stored=STORED,
        active=ANTHROPIC,
        client=_byok(TRACE),
    ),
    Case(
        "client: a model alone does not change the store's model",
        stored=STORED,
        active=ANTHROPIC,
        client=Source(model="claude-opus-4-1"),
    ),
    Case(
        "client: blank values count as not given",
        stored=STORED,
        active=OPENAI,
        client=Source(" ", "", "\t"),
    ),
    Case(
        "call: per-call arguments beat every other source",
        stored=STORED,
        active=ANTHROPIC,
        env=_sdk_env("gemini", SDK_ENV_KEY, "gemini-2.5-pro"),
        client=_byok(GEMINI, CLIENT_KEY, "gemini-2.5-pro"),
        call=_byok(OPENAI, CALL_KEY),
    ),
    Case(
        "call: a per-call model with the env's provider and key",
        env=_sdk_env("openai", SDK_ENV_KEY, "o3-mini"),
        call=Source(model="gpt-4o-mini"),
    ),
    Case(
        "call: a per-call model with the stored provider and key",
        stored=STORED,
        active=ANTHROPIC,
        remembered={ANTHROPIC: "claude-opus-4-1"},
        call=Source(model="claude-haiku-4-5"),
    ),
    Case(
        "call: provider without key never takes the constructor's key",
        stored={OPENAI: STORED[OPENAI]},
        client=_byok(ANTHROPIC, CLIENT_KEY),
        call=_byok(OPENAI),
    ),
    Case(
        "call: provider without key never takes TRACE_LLM_API_KEY",
        env={**_sdk_env("openai", SDK_ENV_KEY), "OPENAI_API_KEY": "sk-openai-env-variable-OENV"},
        call=_byok(OPENAI),
    ),
    Case(
        "call: switching provider never sends another provider's model",
        stored=STORED,
        active=ANTHROPIC,
        remembered={ANTHROPIC: "claude-opus-4-1"},
        call=_byok(OPENAI, CALL_KEY),
    ),
    Case(
        "call: provider trace beats every BYOK source and drops the model",
        stored=STORED,
        active=ANTHROPIC,
        env=_sdk_env("openai", SDK_ENV_KEY),
        client=_byok(GEMINI, CLIENT_KEY),
        call=Source("trace", None, "claude-opus-4-1"),
    ),
    Case(
        "call: a bad TRACE_LLM_PROVIDER is not read when the call decides",
        env=_sdk_env("mistral", SDK_ENV_KEY),
        call=_byok(OPENAI, CALL_KEY),
    ),
    Case(
        "call: key without provider is ambiguous, even with defaults",
        env=_sdk_env("openai", SDK_ENV_KEY),
        client=_byok(ANTHROPIC, CLIENT_KEY),
        call=Source(key=CALL_KEY),
    ),
    Case(
        "call: provider with no key anywhere is an error",
        stored={ANTHROPIC: STORED[ANTHROPIC]},
        active=ANTHROPIC,
        client=_byok(ANTHROPIC, CLIENT_KEY),
        call=_byok(GEMINI),
    ),
    Case(
        "call: blank arguments count as not given",
        stored=STORED,
        active=ANTHROPIC,
        call=Source("", " ", ""),
    ),
    Case("call: unknown provider is refused", call=Source("mistral", "k-123")),
    Case("call: a key with inner whitespace is refused", call=Source("openai", "sk bad key")),
    Case("call: a model with whitespace is refused", call=Source("openai", CALL_KEY, "gpt 4")),
    Case("call: a short key is masked entirely", call=Source("openai", "sk-short")),
    Case(
        "call: a long unknown provider is not echoed",
        call=Source("sk-ant-this-looks-like-a-key-0000", "sk-ant-0000000000000"),
    ),
)

# The grid: each of call, constructor and environment carries any subset of
# {provider, key, model} (8 shapes each, 512 combinations), each naming a different
# provider so a key paired with the wrong provider cannot go unnoticed, in three
# persisted worlds chosen so every branch of the rules is taken.
_GRID_SOURCES = {
    "call": (OPENAI, "call-key-0001", "call-model"),
    "client": (GEMINI, "client-key-0002", "client-model"),
    "env": (ANTHROPIC, "sdk-env-key-0003", "env-model"),
}
WORLDS: dict[str, dict[str, Any]] = {
    "empty": {},
    "rich": {
        "active": OPENAI,
        "stored": {p: f"{p.value}-stored-key-8888" for p in Provider.byok()},
        "env": {"ANTHROPIC_API_KEY": "anthropic-env-key-7777"},
        "remembered": {p: f"{p.value}-remembered" for p in Provider.byok()},
    },
    "openai-only": {
        "active": OPENAI,
        "stored": {OPENAI: "openai-stored-key-8888"},
        "remembered": {GEMINI: "gemini-remembered"},
    },
}


def _grid() -> Iterator[Case]:
    shapes = list(itertools.product((False, True), repeat=3))
    for world in WORLDS:
        for call_shape, client_shape, env_shape in itertools.product(shapes, repeat=3):
            picked = {}
            for name, shape in (("call", call_shape), ("client", client_shape), ("env", env_shape)):
                provider, key, model = _GRID_SOURCES[name]
                picked[name] = Source(
                    provider.value if shape[0] else None,
                    key if shape[1] else None,
                    model if shape[2] else None,
                )
            label = "-".join(
                "".join(c if on else "-" for c, on in zip("PKM", shape, strict=True))
                for shape in (call_shape, env_shape, client_shape)
            )
            yield Case(
                f"grid {world}: call/env/client {label}",
                world=world,
                env=_sdk_env(picked["env"].provider, picked["env"].key, picked["env"].model),
                client=picked["client"],
                call=picked["call"],
            )


def effective(case: Case) -> Case:
    """``case`` with its world's env, keys and settings filled in."""
    if case.world is None:
        return case
    world = WORLDS[case.world]
    return attrs.evolve(
        case,
        world=None,
        env={**world.get("env", {}), **case.env},
        stored=case.stored or world.get("stored", {}),
        active=case.active or world.get("active"),
        remembered=case.remembered or world.get("remembered", {}),
    )


def error_json(error: TraceError) -> dict[str, Any]:
    """An error as both SDKs must report it: class, exit-code family, words and fix."""
    return {
        "name": type(error).__name__,
        "exit_code": exit_code_for(error),
        "problem": error.problem,
        "fix": error.fix,
    }


def expectation(case: Case) -> dict[str, Any]:
    """What the Python domain resolves ``case`` to (a result or an error)."""
    case = effective(case)
    resolver = KeyResolution(
        secrets=InMemorySecretStore({p.account: Secret(k) for p, k in case.stored.items()}),
        settings=InMemorySettingsStore(
            Settings(active_provider=case.active, models=case.remembered)
        ),
        environment=MappingEnvironment(dict(case.env)),
    )
    try:
        resolution = resolver.for_request(
            parsed(case.call.overrides()), parsed(case.client.overrides())
        )
    except TraceError as exc:
        return {"error": error_json(exc)}
    credential = resolution.credential
    return {
        "expect": {
            "provider": resolution.provider.value,
            "key": credential.secret.reveal() if credential else None,
            "key_source": credential.source.label if credential else None,
            "masked_key": credential.secret.masked() if credential else None,
            "model": resolution.model,
            "model_source": resolution.model_source.value,
            "origin": resolution.origin.value,
            "billing": resolution.billing.value,
        }
    }


def case_json(case: Case) -> dict[str, Any]:
    """One case, inputs then the computed expectation; empty inputs left out."""
    out: dict[str, Any] = {"name": case.name}
    if case.world is not None:
        out["world"] = case.world
    if case.env:
        out["env"] = dict(case.env)
    if case.stored:
        out["stored"] = {p.value: k for p, k in case.stored.items()}
    if case.active is not None:
        out["active"] = case.active.value
    if case.remembered:
        out["remembered"] = {p.value: m for p, m in case.remembered.items()}
    if case.client != Source():
        out["client"] = case.client.to_json()
    if case.call != Source():
        out["call"] = case.call.to_json()
    out.update(expectation(case))
    return out


def _world_json(world: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if world.get("env"):
        out["env"] = dict(world["env"])
    if world.get("stored"):
        out["stored"] = {p.value: k for p, k in world["stored"].items()}
    if world.get("active") is not None:
        out["active"] = world["active"].value
    if world.get("remembered"):
        out["remembered"] = {p.value: m for p, m in world["remembered"].items()}
    return out


def document() -> dict[str, Any]:
    """The whole file: the policy and provider facts, then every case."""
    return {
        "generated_by": "python -m tests.shared.resolution_cases (do not edit by hand)",
        "version": FORMAT_VERSION,
        "policy": {
            "cli_order": [tier.value for tier in DEFAULT_POLICY.cli_order],
            "sdk_order": [origin.value for origin in DEFAULT_POLICY.sdk_order],
        },
        "sdk_env": {"provider": SDK_PROVIDER_ENV, "key": SDK_KEY_ENV, "model": SDK_MODEL_ENV},
        "store_label": STORE_LABEL,
        "worlds": {name: _world_json(world) for name, world in WORLDS.items()},
        "providers": [
            {
                "name": p.value,
                "label": p.spec.label,
                "account": p.account,
                "env_vars": list(p.spec.env_vars),
                "default_model": p.spec.default_model,
                "billing": p.spec.billing.value,
                "payer": p.payer,
            }
            for p in Provider
        ],
        "cases": [case_json(case) for case in (*NAMED, *_grid())],
    }


def render() -> str:
    """The file's text: one case per line, so a change shows as a readable diff."""
    doc = document()
    cases = doc.pop("cases")
    head = json.dumps(doc, indent=2, ensure_ascii=False)
    lines = ",\n".join("    " + json.dumps(c, ensure_ascii=False) for c in cases)
    return head[:-2] + ',\n  "cases": [\n' + lines + "\n  ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    """Write the file, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(
                f"{OUTPUT} is stale: run python -m tests.shared.resolution_cases", file=sys.stderr
            )
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
