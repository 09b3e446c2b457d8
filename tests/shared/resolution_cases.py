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

Format 2 (issue 13) adds, per case, where keys come from besides env and store:

- ``stored`` keys may be named: ``"anthropic:work"`` is account ``llm:anthropic:work``;
- ``key_names``: the named key chosen per provider (``byok use P --name N``);
- ``helpers``: ``{"anthropic": {"command": ..., "shell": false, "prints": ...}}``, the
  helper configured for a key and what it prints when run (``prints`` is parsed by
  the rules of tests/shared/key-source-cases.json);
- ``project``: the project file found for the request's directory (``project_path``):
  ``{"provider", "key_name", "model", "state": allowed | not_allowed | changed}``;
- ``env_override``: the ``keys.env_override`` setting (``warn`` when absent).

and to each expectation ``overrides`` (the user's own key an env var displaced),
``project`` (``{"path", "state"}`` or null), ``notices`` (``[{"code", "message"}]``, what
a chat says before the request) and ``helper_runs`` (``[{"key", "reason"}]``; the SDK
runs a helper with reason ``sdk``). NEW_INPUTS lists the input names that are new in
format 2, so a suite that does not have them yet can tell those rows apart.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from adapters.environment import MappingEnvironment
from adapters.helpers.scripted import ScriptedKeyHelper
from adapters.project.files import InMemoryProjectFiles
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from application.services.helper_keys import HelperKeys
from application.services.key_resolution import KeyResolution
from domain.errors import TraceError
from domain.keys import HELPER_REASON_ENV, HelperCommand, HelperReason, KeyRef
from domain.notices import resolution_notices
from domain.project import ProjectFile, ProjectSelection, ProjectState
from domain.provider import Provider
from domain.resolution import (
    DEFAULT_POLICY,
    SDK_KEY_ENV,
    SDK_MODEL_ENV,
    SDK_PROVIDER_ENV,
    Resolution,
)
from domain.secret import Secret
from domain.settings import EnvOverride, Settings
from entrypoints.errors import exit_code_for
from tests.shared.generated import write_or_check
from tests.support.choices import Given, parsed

OUTPUT = Path(__file__).with_name("resolution-cases.json")
FORMAT_VERSION = 2
STORE_LABEL = "memory"
PROJECT_DIR = "/work/client-a"
PROJECT_PATH = f"{PROJECT_DIR}/trace.toml"
PROJECT_DIGEST = "sha256:" + "7" * 64
CHANGED_DIGEST = "sha256:" + "8" * 64
HELPER_CLOCK = 1_700_000_000.0  # the time the table's helpers run at (expires_at compares)
# Inputs that are new in format 2 (issue 13); "stored" with a named key counts too.
NEW_INPUTS = ("helpers", "key_names", "project", "env_override")

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
class Helper:
    """A helper configured for a key, and what it prints when it runs."""

    command: str
    prints: str
    shell: bool = False

    def to_json(self) -> dict[str, Any]:
        """The case's helper entry."""
        return {"command": self.command, "shell": self.shell, "prints": self.prints}


@attrs.frozen
class Project:
    """The project file found for the request's directory."""

    state: ProjectState
    provider: str | None = None
    key_name: str | None = None
    model: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The case's project entry (only the parts given)."""
        parts = (("provider", self.provider), ("key_name", self.key_name), ("model", self.model))
        return {**{k: v for k, v in parts if v is not None}, "state": self.state.value}

    def file(self) -> ProjectFile:
        """The file as the adapter would find it."""
        selection = ProjectSelection(
            Provider.parse(self.provider) if self.provider else None, self.key_name, self.model
        )
        digest = CHANGED_DIGEST if self.state is ProjectState.CHANGED else PROJECT_DIGEST
        return ProjectFile(PROJECT_PATH, digest, selection)

    def allowed(self) -> dict[str, str]:
        """What config.toml records for it."""
        if self.state is ProjectState.NOT_ALLOWED:
            return {}
        return {PROJECT_PATH: PROJECT_DIGEST}


@attrs.frozen
class Case:
    """The sources present; the expectation is computed, never written by hand.

    ``world`` names an entry of ``WORLDS`` (its env, keys and settings, with this case's
    ``env`` laid over its env) so the grid's thousand cases do not repeat them.
    ``stored`` keys are by key label (``anthropic``, ``anthropic:work``).
    """

    name: str
    world: str | None = None
    env: Mapping[str, str] = attrs.field(factory=dict)
    stored: Mapping[Any, str] = attrs.field(factory=dict)  # by Provider or key label
    active: Provider | None = None
    remembered: Mapping[Provider, str] = attrs.field(factory=dict)
    client: Source = Source()
    call: Source = Source()
    helpers: Mapping[str, Helper] = attrs.field(factory=dict)
    key_names: Mapping[Provider, str] = attrs.field(factory=dict)
    project: Project | None = None
    env_override: str | None = None


def _label(ref: Provider | str) -> str:
    return ref.value if isinstance(ref, Provider) else ref


def ref_of(label: str) -> KeyRef:
    """``anthropic:work`` as a key reference."""
    provider, _, name = label.partition(":")
    return KeyRef(Provider(provider), name or None)


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


HELPER_KEY = "sk-ant-from-the-helper-HELP"
NAMED_KEY = "sk-proj-client-a-named-NAMD"
WORK_KEY = "sk-ant-work-named-key-WORK"
OP = "op read op://Work/Anthropic/credential"
VAULT = "vault kv get -field=key secret/client-a/openai"
ANTHROPIC_ENV_KEY = "sk-ant-env-variable-key-AENV"

# Where keys come from (issue 13): named keys, helpers, project files, env overrides.
KEY_SOURCES: tuple[Case, ...] = (
    Case(
        "named: byok use --name picks the named key of the active provider",
        stored={ANTHROPIC: STORED[ANTHROPIC], "anthropic:work": WORK_KEY},
        active=ANTHROPIC,
        key_names={ANTHROPIC: "work"},
    ),
    Case(
        "named: the chosen name applies to its provider only",
        stored={**STORED, "anthropic:work": WORK_KEY},
        active=OPENAI,
        key_names={ANTHROPIC: "work"},
    ),
    Case(
        "named: a call naming the provider takes its remembered named key",
        stored={**STORED, "anthropic:work": WORK_KEY},
        active=OPENAI,
        key_names={ANTHROPIC: "work"},
        call=_byok(ANTHROPIC),
    ),
    Case(
        "named: a chosen name without its key is an error, never the default key",
        stored=STORED,
        active=ANTHROPIC,
        key_names={ANTHROPIC: "work"},
    ),
    Case(
        "named: the env var still comes first, and displaces the named key",
        stored={"anthropic:work": WORK_KEY},
        active=ANTHROPIC,
        key_names={ANTHROPIC: "work"},
        env={"ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
    ),
    Case(
        "helper: the provider's helper prints the key (run with reason sdk)",
        active=ANTHROPIC,
        helpers={"anthropic": Helper(OP, HELPER_KEY + "\n")},
    ),
    Case(
        "helper: a helper comes before a stored key of the same key",
        stored=STORED,
        active=ANTHROPIC,
        helpers={"anthropic": Helper(OP, HELPER_KEY)},
    ),
    Case(
        "helper: JSON output with expires_at",
        active=ANTHROPIC,
        helpers={
            "anthropic": Helper(
                OP, '{"key": "' + HELPER_KEY + '", "expires_at": "2099-01-01T00:00:00Z"}'
            )
        },
    ),
    Case(
        "helper: garbage output is an error",
        active=ANTHROPIC,
        helpers={"anthropic": Helper(OP, "Enter your 1Password account password:")},
    ),
    Case(
        "helper: printing nothing is an error",
        active=ANTHROPIC,
        helpers={"anthropic": Helper(OP, "  \n")},
    ),
    Case(
        "helper: a named key's helper, chosen by byok use --name",
        active=OPENAI,
        key_names={OPENAI: "client-a"},
        helpers={"openai:client-a": Helper(VAULT, NAMED_KEY, shell=True)},  # noqa: S604
    ),
    Case(
        "helper: an env var beats the helper, which does not run",
        active=ANTHROPIC,
        helpers={"anthropic": Helper(OP, HELPER_KEY)},
        env={"ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
    ),
    Case(
        "helper: an argument key needs no helper",
        active=ANTHROPIC,
        helpers={"anthropic": Helper(OP, HELPER_KEY)},
        call=_byok(ANTHROPIC, CALL_KEY),
    ),
    Case(
        "project: an allowed file picks provider, named key and model",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        active=ANTHROPIC,
        project=Project(ProjectState.ALLOWED, "openai", "client-a", "gpt-4.1"),
    ),
    Case(
        "project: a file not allowed yet is ignored, with a notice",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        active=ANTHROPIC,
        project=Project(ProjectState.NOT_ALLOWED, "openai", "client-a", "gpt-4.1"),
    ),
    Case(
        "project: a file changed since it was allowed is ignored",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        active=ANTHROPIC,
        project=Project(ProjectState.CHANGED, "openai", "client-a"),
    ),
    Case(
        "project: a provider alone takes that provider's default key",
        stored=STORED,
        active=ANTHROPIC,
        project=Project(ProjectState.ALLOWED, "gemini"),
    ),
    Case(
        "project: its named key missing is an error naming the file",
        stored=STORED,
        active=ANTHROPIC,
        project=Project(ProjectState.ALLOWED, "openai", "client-a"),
    ),
    Case(
        "project: trace pins Trace-hosted models",
        stored=STORED,
        active=ANTHROPIC,
        project=Project(ProjectState.ALLOWED, "trace"),
    ),
    Case(
        "project: the file's name beats byok use --name for its provider",
        stored={**STORED, "openai:client-a": NAMED_KEY, "openai:personal": "sk-personal-PERS"},
        active=OPENAI,
        key_names={OPENAI: "personal"},
        project=Project(ProjectState.ALLOWED, "openai", "client-a"),
    ),
    Case(
        "project: a per-call provider wins and takes its own remembered name",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        project=Project(ProjectState.ALLOWED, "anthropic", "work"),
        call=_byok(OPENAI),
        key_names={OPENAI: "client-a"},
    ),
    Case(
        "project: a per-call provider equal to the file's takes the file's named key",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        active=ANTHROPIC,
        project=Project(ProjectState.ALLOWED, "openai", "client-a", "gpt-4.1"),
        call=_byok(OPENAI, None, "o3"),
    ),
    Case(
        "project: the file's name never applies to another provider",
        stored={**STORED, "anthropic:work": WORK_KEY},
        project=Project(ProjectState.ALLOWED, "anthropic", "work"),
        call=_byok(OPENAI),
    ),
    Case(
        "project: constructor defaults beat the file",
        stored=STORED,
        project=Project(ProjectState.ALLOWED, "openai", None, "gpt-4.1"),
        client=_byok(GEMINI),
    ),
    Case(
        "project: TRACE_LLM_* beat the file and, with a key, displace its choice",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        project=Project(ProjectState.ALLOWED, "openai", "client-a"),
        env=_sdk_env("openai", SDK_ENV_KEY),
    ),
    Case(
        "project: TRACE_LLM_PROVIDER switching away from the file's key says so",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        project=Project(ProjectState.ALLOWED, "openai", "client-a"),
        env={"TRACE_LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
    ),
    Case(
        "project: TRACE_LLM_PROVIDER switching away from the file's key, refused",
        stored={**STORED, "openai:client-a": NAMED_KEY},
        project=Project(ProjectState.ALLOWED, "openai", "client-a"),
        env={"TRACE_LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
        env_override="error",
    ),
    Case(
        "project: an env var displacing the file's named key says so",
        stored={"anthropic:work": WORK_KEY},
        project=Project(ProjectState.ALLOWED, "anthropic", "work"),
        env={"ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
    ),
    Case(
        "project: a helper for the file's named key runs",
        project=Project(ProjectState.ALLOWED, "openai", "client-a", "gpt-4.1"),
        helpers={"openai:client-a": Helper(VAULT, NAMED_KEY)},
    ),
    Case(
        "override: keys.env_override = error refuses an env key over a stored one",
        stored=STORED,
        active=ANTHROPIC,
        env={"ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
        env_override="error",
    ),
    Case(
        "override: keys.env_override = error with no stored key is no error",
        active=ANTHROPIC,
        env={"ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY},
        env_override="error",
    ),
    Case(
        "override: keys.env_override = error refuses TRACE_LLM_API_KEY over a stored key",
        stored=STORED,
        active=OPENAI,
        env=_sdk_env("openai", SDK_ENV_KEY),
        env_override="error",
    ),
    Case(
        "override: an env var switching to another provider displaces nothing of it",
        stored={ANTHROPIC: STORED[ANTHROPIC]},
        active=ANTHROPIC,
        env=_sdk_env("openai", SDK_ENV_KEY),
        env_override="error",
    ),
)


def _source_grid() -> Iterator[Case]:
    """Project state x env var x helper x override setting, over one stored world."""
    projects: tuple[Project | None, ...] = (
        None,
        *(Project(state, "anthropic", "work", "claude-x") for state in ProjectState),
    )
    for project, env, helper, policy in itertools.product(
        projects, (False, True), (False, True), ("warn", "error")
    ):
        label = (
            f"grid sources: project={project.state.value if project else 'none'} "
            f"env={'y' if env else 'n'} helper={'y' if helper else 'n'} override={policy}"
        )
        yield Case(
            label,
            stored={ANTHROPIC: STORED[ANTHROPIC], "anthropic:work": WORK_KEY},
            active=ANTHROPIC,
            env={"ANTHROPIC_API_KEY": ANTHROPIC_ENV_KEY} if env else {},
            helpers={"anthropic": Helper(OP, HELPER_KEY)} if helper else {},
            project=project,
            env_override=policy,
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


def settings_of(case: Case) -> Settings:
    """The stored settings of ``case`` (helpers, names, allowed project included)."""
    settings = Settings(
        active_provider=case.active,
        models=case.remembered,
        key_names=case.key_names,
        env_override=EnvOverride(case.env_override) if case.env_override else None,
        allowed_projects=case.project.allowed() if case.project else {},
    )
    for label, helper in case.helpers.items():
        settings = settings.with_key(ref_of(label), HelperCommand(helper.command, helper.shell))
    return settings


def helper_of(case: Case) -> ScriptedKeyHelper:
    """A helper that prints what ``case`` says each command prints."""
    return ScriptedKeyHelper({h.command: h.prints for h in case.helpers.values()})


def expect_json(
    resolution: Resolution, runs: list[tuple[str, str, HelperReason]]
) -> dict[str, Any]:
    """What both SDKs must answer for a resolution (and the helpers it ran)."""
    credential = resolution.credential
    project = resolution.project
    return {
        "provider": resolution.provider.value,
        "key": credential.secret.reveal() if credential else None,
        "key_source": credential.source.label if credential else None,
        "masked_key": credential.secret.masked() if credential else None,
        "model": resolution.model,
        "model_source": resolution.model_source.value,
        "origin": resolution.origin.value,
        "billing": resolution.billing.value,
        "overrides": resolution.overrides.label if resolution.overrides else None,
        "project": {"path": project.path, "state": project.state.value} if project else None,
        "notices": [
            {"code": n.code.value, "message": n.message} for n in resolution_notices(resolution)
        ],
        "helper_runs": [{"key": label, "reason": reason.value} for _, label, reason in runs],
    }


def expectation(case: Case) -> dict[str, Any]:
    """What the Python domain resolves ``case`` to (a result or an error)."""
    case = effective(case)
    helper = helper_of(case)
    projects = InMemoryProjectFiles()
    if case.project is not None:
        projects.put(PROJECT_DIR, case.project.file())
    resolver = KeyResolution(
        secrets=InMemorySecretStore(
            {ref_of(_label(r)).account: Secret(k) for r, k in case.stored.items()}
        ),
        settings=InMemorySettingsStore(settings_of(case)),
        environment=MappingEnvironment(dict(case.env)),
        helper_keys=HelperKeys(runner=helper, clock=lambda: HELPER_CLOCK, ttl=300.0),
        project_files=projects,
    )
    try:
        resolution = resolver.for_request(
            parsed(case.call.overrides()),
            parsed(case.client.overrides()),
            project_dir=PROJECT_DIR,
        )
    except TraceError as exc:
        return {"error": error_json(exc)}
    return {"expect": expect_json(resolution, helper.runs)}


def case_json(case: Case) -> dict[str, Any]:
    """One case, inputs then the computed expectation; empty inputs left out."""
    out: dict[str, Any] = {"name": case.name}
    if case.world is not None:
        out["world"] = case.world
    if case.env:
        out["env"] = dict(case.env)
    if case.stored:
        out["stored"] = {_label(r): k for r, k in case.stored.items()}
    if case.active is not None:
        out["active"] = case.active.value
    if case.remembered:
        out["remembered"] = {p.value: m for p, m in case.remembered.items()}
    if case.key_names:
        out["key_names"] = {p.value: n for p, n in case.key_names.items()}
    if case.helpers:
        out["helpers"] = {label: h.to_json() for label, h in case.helpers.items()}
    if case.project is not None:
        out["project"] = case.project.to_json()
    if case.env_override is not None:
        out["env_override"] = case.env_override
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
            "key_name_order": [origin.value for origin in DEFAULT_POLICY.key_name_order],
        },
        "sdk_env": {"provider": SDK_PROVIDER_ENV, "key": SDK_KEY_ENV, "model": SDK_MODEL_ENV},
        "store_label": STORE_LABEL,
        "new_inputs": [*NEW_INPUTS, "stored (a named key: provider:name)"],
        "project_dir": PROJECT_DIR,
        "project_path": PROJECT_PATH,
        "helper_clock": HELPER_CLOCK,
        "helper_reason_env": HELPER_REASON_ENV,
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
        "cases": [case_json(case) for case in (*NAMED, *KEY_SOURCES, *_grid(), *_source_grid())],
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
    return write_or_check(OUTPUT, render, "tests.shared.resolution_cases", argv)


if __name__ == "__main__":
    raise SystemExit(main())
