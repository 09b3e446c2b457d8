"""The shared resolution table (tests/shared/resolution-cases.json) through the Python SDK.

The Node suite runs the same file through ``new Trace({...}).resolve(...)``
(node/test/resolution-cases.test.ts), so the two SDKs cannot drift apart. Here: the
committed file is exactly what its generator writes from the domain today, and every
case gives the recorded answer through ``Trace(...).resolve(...)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.helpers.scripted import ScriptedKeyHelper
from adapters.project.files import InMemoryProjectFiles
from adapters.secrets.memory import InMemorySecretStore
from adapters.settings.memory import InMemorySettingsStore
from domain.errors import TraceError
from domain.keys import HelperCommand
from domain.notices import resolution_notices
from domain.project import ProjectFile, ProjectSelection, ProjectState
from domain.provider import Provider
from domain.secret import Secret
from domain.settings import EnvOverride, Settings
from entrypoints.errors import exit_code_for
from entrypoints.sdk import Trace
from tests.shared import error_cases, resolution_cases


def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resolution_cases.OUTPUT.read_text(encoding="utf-8"))
    return data


class _World:
    """One ``Trace`` per constructor configuration, over a live env and in-memory stores.

    Building a client per case would take most of a minute for the whole table; the
    SDK reads its environment mapping and the stores it is given on every call, so one
    client serves every case that shares its constructor arguments.
    """

    def __init__(self, client: dict[str, str], helpers: dict[str, Any] | None = None) -> None:
        self.env: dict[str, str] = {}
        self.secrets = InMemorySecretStore()
        self.settings = InMemorySettingsStore()
        # A helper's key is held per client: a case with helpers gets a client of its own.
        self.helper = ScriptedKeyHelper(
            {h["command"]: h["prints"] for h in (helpers or {}).values()}
        )
        self.projects = InMemoryProjectFiles()
        self.accounts: list[str] = []
        self.trace: Trace | None = None
        self.refused: dict[str, Any] | None = None
        try:
            self.trace = Trace(
                env=self.env,
                secrets=self.secrets,
                settings=self.settings,
                key_helper=self.helper,
                project_files=self.projects,
                llm_provider=client.get("provider"),
                llm_api_key=client.get("key"),
                llm_model_id=client.get("model"),
            )
        except TraceError as exc:
            self.refused = _error(exc)

    def resolve(self, case: dict[str, Any], worlds: dict[str, Any]) -> dict[str, Any]:
        """The case's answer through ``Trace.resolve`` after loading its world."""
        if self.trace is None:
            assert self.refused is not None
            return self.refused
        world = worlds.get(case.get("world", ""), {})
        self.env.clear()
        self.env.update({**world.get("env", {}), **case.get("env", {})})
        for account in self.accounts:
            self.secrets.delete(account)
        self.accounts = [
            resolution_cases.ref_of(label).account
            for label in case.get("stored", world.get("stored", {}))
        ]
        for label, key in case.get("stored", world.get("stored", {})).items():
            self.secrets.set(resolution_cases.ref_of(label).account, Secret(key))
        self.settings.update(lambda _: _settings(case, world))
        self.projects.put(str(Path.cwd()), _project(case.get("project")))
        call: dict[str, str] = case.get("call", {})
        try:
            resolution = self.trace.resolve(
                llm_provider=call.get("provider"),
                llm_api_key=call.get("key"),
                llm_model_id=call.get("model"),
            )
        except TraceError as exc:
            return _error(exc)
        credential = resolution.credential
        project = resolution.project
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
                "overrides": resolution.overrides.label if resolution.overrides else None,
                "project": {"path": project.path, "state": project.state.value}
                if project
                else None,
                "notices": [
                    {"code": n.code.value, "message": n.message}
                    for n in resolution_notices(resolution)
                ],
                "helper_runs": [
                    {"key": label, "reason": reason.value} for _, label, reason in self.helper.runs
                ],
            }
        }


def _settings(case: dict[str, Any], world: dict[str, Any]) -> Settings:
    """The stored settings a case describes: the table's inputs, read like a new SDK would."""
    active = case.get("active", world.get("active"))
    remembered = case.get("remembered", world.get("remembered", {}))
    policy = case.get("env_override")
    project = case.get("project")
    settings = Settings(
        active_provider=Provider(active) if active else None,
        models={Provider(p): m for p, m in remembered.items()},
        key_names={Provider(p): n for p, n in case.get("key_names", {}).items()},
        env_override=EnvOverride(policy) if policy else None,
        allowed_projects=(
            {}
            if project is None or project["state"] == "not_allowed"
            else {resolution_cases.PROJECT_PATH: resolution_cases.PROJECT_DIGEST}
        ),
    )
    for label, helper in case.get("helpers", {}).items():
        settings = settings.with_key(
            resolution_cases.ref_of(label), HelperCommand(helper["command"], helper["shell"])
        )
    return settings


def _project(project: dict[str, Any] | None) -> ProjectFile | None:
    if project is None:
        return None
    selection = ProjectSelection(
        Provider(project["provider"]) if "provider" in project else None,
        project.get("key_name"),
        project.get("model"),
    )
    changed = project["state"] == ProjectState.CHANGED.value
    digest = resolution_cases.CHANGED_DIGEST if changed else resolution_cases.PROJECT_DIGEST
    return ProjectFile(resolution_cases.PROJECT_PATH, digest, selection)


def _error(exc: TraceError) -> dict[str, Any]:
    return {
        "error": {
            "name": type(exc).__name__,
            "exit_code": exit_code_for(exc),
            "problem": exc.problem,
            "fix": exc.fix,
        }
    }


def test_committed_table_is_what_the_generator_writes() -> None:
    """A stale file means the domain changed without regenerating the shared table."""
    current = resolution_cases.OUTPUT.read_text(encoding="utf-8")
    assert current == resolution_cases.render(), (
        "tests/shared/resolution-cases.json is stale: run python -m tests.shared.resolution_cases"
    )


def test_every_shared_case_resolves_as_recorded_through_the_python_sdk() -> None:
    """Each case's call, constructor, environment and store through ``Trace.resolve``."""
    data = _load()
    cases = data["cases"]
    assert len(cases) > 1500
    clients: dict[str, _World] = {}
    mismatches = []
    for case in cases:
        recorded = {k: case[k] for k in ("expect", "error") if k in case}
        client: dict[str, str] = case.get("client", {})
        if "helpers" in case:
            world = _World(client, case["helpers"])
        else:
            world = clients.setdefault(json.dumps(client, sort_keys=True), _World(client))
        actual = world.resolve(case, data["worlds"])
        if actual != recorded:
            mismatches.append((case["name"], recorded, actual))
    assert mismatches == [], f"{len(mismatches)} cases differ; first: {mismatches[0]}"


def test_table_covers_every_outcome_kind() -> None:
    """The table exercises each origin, key source kind and error the SDKs can give."""
    cases = _load()["cases"]
    origins = {c["expect"]["origin"] for c in cases if "expect" in c}
    sources = {c["expect"]["key_source"] for c in cases if "expect" in c}
    errors = {c["error"]["name"] for c in cases if "error" in c}
    assert origins == {"argument", "env", "client", "project", "config"}
    assert {"argument", "env:TRACE_LLM_API_KEY", "memory", "env:ANTHROPIC_API_KEY"} <= sources
    assert {"env:GEMINI_API_KEY", "env:GOOGLE_API_KEY", "env:OPENAI_API_KEY"} <= sources
    assert {"memory:work", "memory:client-a", "helper", "helper:client-a"} <= sources
    assert errors == {
        "AmbiguousCredentialError",
        "MissingKeyError",
        "MissingNamedKeyError",
        "KeyHelperError",
        "EnvOverrideError",
        "UnknownProviderError",
        "InvalidKeyError",
        "InvalidModelError",
    }
    notices = {n["code"] for c in cases if "expect" in c for n in c["expect"]["notices"]}
    assert notices == {"env_override", "project_ignored"}
    states = {c["expect"]["project"]["state"] for c in cases if c.get("expect", {}).get("project")}
    assert states == {"allowed", "not_allowed", "changed"}


def test_committed_error_table_is_what_the_generator_writes() -> None:
    """tests/shared/errors.json (the error tree Node mirrors) matches domain.errors today."""
    current = error_cases.OUTPUT.read_text(encoding="utf-8")
    assert current == error_cases.render(), (
        "tests/shared/errors.json is stale: run python -m tests.shared.error_cases"
    )
