"""Named keys, helper keys, project files, verification and notices through the use-cases.

Everything runs on the in-memory runtime (the container's in-memory adapters) with a
scripted key helper, verifier, project files and backend: state in, state out.
"""

from __future__ import annotations

import json

import attrs
import pytest

from adapters.backend.scripted import ScriptedTraceBackend
from adapters.helpers.scripted import ScriptedKeyHelper
from adapters.project.files import InMemoryProjectFiles
from adapters.tools.scripted import ScriptedToolRunner
from adapters.verify.scripted import ScriptedKeyVerifier
from application.chat import ChatCommand, ChatFinished, ChatOutput, ChatReply
from application.services.helper_keys import EXPIRY_MARGIN, HelperKeys
from domain.chat import ChatEvent, ClientKind, Done, StreamError, TextDelta, ToolCall
from domain.credential import SourceKind
from domain.errors import (
    EnvOverrideError,
    KeyHelperError,
    KeyRejectedError,
    MissingNamedKeyError,
    ProjectFileError,
)
from domain.keys import HelperCommand, HelperReason, KeyRef
from domain.notices import Notice, NoticeCode
from domain.project import ProjectFile, ProjectSelection, ProjectState
from domain.provider import Provider
from domain.resolution import PendingKey
from domain.secret import Secret
from domain.settings import EnvOverride
from domain.verification import Verdict
from entrypoints.runtime import Runtime
from tests.support.choices import label_of

ANTHROPIC, OPENAI = Provider.ANTHROPIC, Provider.OPENAI
TOKEN = Secret("trace-token-0123456789")
DEFAULT_KEY = Secret("sk-ant-default-stored-key-D001")
WORK_KEY = Secret("sk-ant-work-named-stored-key-W002")
HELPER_KEY = "sk-ant-printed-by-the-helper-H003"
FRESH_KEY = "sk-ant-fresh-after-rotation-F004"
ENV_KEY = "sk-ant-from-the-environment-E005"
OP = "op read op://Work/Anthropic/credential"
PROJECT = "/work/client-a"
PROJECT_FILE = f"{PROJECT}/trace.toml"
DIGEST = "sha256:" + "ab" * 32


@attrs.define
class World:
    """An in-memory runtime with scripted helper, verifier, project files and backend."""

    env: dict[str, str] = attrs.field(factory=dict)
    helper: ScriptedKeyHelper = attrs.field(factory=ScriptedKeyHelper)
    verifier: ScriptedKeyVerifier = attrs.field(factory=ScriptedKeyVerifier)
    projects: InMemoryProjectFiles = attrs.field(factory=InMemoryProjectFiles)
    backend: ScriptedTraceBackend = attrs.field(factory=ScriptedTraceBackend)
    runtime: Runtime = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.runtime = Runtime(
            self.env,
            in_memory=True,
            token=TOKEN,
            backend=self.backend,
            tool_runner=ScriptedToolRunner({"read_file": "contents"}),
            key_helper=self.helper,
            verifier=self.verifier,
            project_files=self.projects,
        )

    def store(self, ref: KeyRef, secret: Secret) -> None:
        """``byok set`` with a key."""
        self.runtime.use_cases.set_key().execute(ref.provider, secret, name=ref.name)

    def stored(self, ref: KeyRef) -> str | None:
        found = self.runtime.adapters.secrets().get(ref.account)
        return found.secret.reveal() if found else None

    def chat(
        self, *, client: ClientKind = ClientKind.CLI, project_dir: str | None = None
    ) -> tuple[ChatReply, list[ChatOutput]]:
        command = ChatCommand("hello", client=client, project_dir=project_dir)
        items = list(self.runtime.use_cases.chat().stream(command))
        finished = items[-1]
        assert isinstance(finished, ChatFinished)
        return finished.reply, items

    def project_file(self, selection: ProjectSelection, *, allowed: bool = True) -> None:
        self.projects.put(PROJECT, ProjectFile(PROJECT_FILE, DIGEST, selection))
        if allowed:
            self.runtime.adapters.settings().update(lambda s: s.with_allowed(PROJECT_FILE, DIGEST))


def _turn(text: str = "ok") -> list[ChatEvent]:
    return [TextDelta(text), Done("conv")]


def _sent_keys(backend: ScriptedTraceBackend) -> list[str | None]:
    return [r.llm.api_key.reveal() if r.llm else None for r in backend.requests]


def _notices(items: list[ChatOutput]) -> list[Notice]:
    return [item for item in items if isinstance(item, Notice)]


# --- named keys -----------------------------------------------------------------------


def test_a_named_key_is_stored_apart_and_becomes_the_active_key() -> None:
    world = World(backend=ScriptedTraceBackend([_turn(), _turn()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    result = world.runtime.use_cases.set_key().execute(ANTHROPIC, WORK_KEY, name="work")

    assert (result.key_name, label_of(result.stored.source if result.stored else None)) == (
        "work",
        "memory",
    )
    assert world.stored(KeyRef(ANTHROPIC)) == DEFAULT_KEY.reveal()
    assert world.stored(KeyRef(ANTHROPIC, "work")) == WORK_KEY.reveal()
    reply, _ = world.chat()
    assert label_of(reply.key_source) == "memory:work"
    world.runtime.use_cases.use_provider().execute(ANTHROPIC)  # back to the default key
    reply, _ = world.chat()
    assert label_of(reply.key_source) == "memory"
    assert _sent_keys(world.backend) == [WORK_KEY.reveal(), DEFAULT_KEY.reveal()]


def test_status_lists_named_keys_and_which_one_each_provider_uses() -> None:
    world = World()
    world.store(KeyRef(ANTHROPIC, "work"), WORK_KEY)
    world.runtime.use_cases.set_key().execute(
        OPENAI, HelperCommand.parse("pass show openai"), name="client-a"
    )
    world.runtime.use_cases.use_provider().execute(ANTHROPIC, "work")
    report = world.runtime.use_cases.show_status().execute()

    rows = {row.provider: row for row in report.providers}
    assert (rows[ANTHROPIC].key_name, label_of(rows[ANTHROPIC].key.source)) == (
        "work",
        "memory:work",
    )
    assert rows[OPENAI].key_name == "client-a"  # remembered per provider, like models
    assert label_of(rows[OPENAI].key.source) == "helper:client-a"
    named = [(k.provider, k.name, label_of(k.key.source)) for k in report.named_keys]
    assert named == [
        (ANTHROPIC, "work", "memory:work"),
        (OPENAI, "client-a", "helper:client-a"),
    ]
    assert world.helper.runs == []  # status never runs a helper unless asked


def test_removing_the_named_key_in_use_goes_back_to_trace() -> None:
    world = World()
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    world.store(KeyRef(ANTHROPIC, "work"), WORK_KEY)
    removed = world.runtime.use_cases.remove_key().execute(ANTHROPIC, "work")

    assert (removed.removed, removed.reverted_to_trace) == (True, True)
    assert world.stored(KeyRef(ANTHROPIC, "work")) is None
    assert world.stored(KeyRef(ANTHROPIC)) == DEFAULT_KEY.reveal()
    settings = world.runtime.adapters.settings().load()
    assert settings.named_keys == () and settings.key_name_for(ANTHROPIC) is None


def test_a_chosen_named_key_that_is_missing_never_falls_back_to_another_key() -> None:
    """The default key pays for nobody's client work by accident."""
    world = World(backend=ScriptedTraceBackend([_turn()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    world.project_file(ProjectSelection(ANTHROPIC, "client-a"))

    with pytest.raises(MissingNamedKeyError) as caught:
        world.chat(project_dir=PROJECT)

    assert "client-a" in caught.value.problem and PROJECT_FILE in caught.value.problem
    assert caught.value.fix.startswith("buildwithtrace byok set anthropic --name client-a")
    assert world.backend.requests == []


# --- helper keys -------------------------------------------------------------------------


def test_a_helper_command_is_stored_instead_of_a_key_and_runs_only_when_needed() -> None:
    world = World(backend=ScriptedTraceBackend([_turn(), _turn()]))
    world.helper.answer(OP, HELPER_KEY + "\n")
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    result = world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))

    assert result.stored is None and result.helper == HelperCommand(OP)
    assert world.stored(KeyRef(ANTHROPIC)) is None  # one source per key: the helper
    assert world.runtime.adapters.settings().load().helper_for(KeyRef(ANTHROPIC)) == result.helper
    status = world.runtime.use_cases.show_status().execute()
    assert world.helper.runs == []
    assert status.active.key.present and status.active.key.masked is None
    assert status.active.key.helper == OP

    first, _ = world.chat()
    world.chat()

    assert world.helper.runs == [(OP, "anthropic", HelperReason.CHAT)]  # held in memory
    assert _sent_keys(world.backend) == [HELPER_KEY, HELPER_KEY]
    assert label_of(first.key_source) == "helper"
    assert first.masked_key == "…" + HELPER_KEY[-4:]


def test_status_runs_helpers_only_when_asked_and_reports_a_failing_one() -> None:
    world = World()
    world.helper.answer(OP, HELPER_KEY)
    world.helper.answer("pass show bad", KeyHelperError("openai", "it broke", "fix it"))
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))
    world.runtime.use_cases.set_key().execute(OPENAI, HelperCommand.parse("pass show bad"))

    report = world.runtime.use_cases.show_status().execute(run_helpers=True)

    rows = {row.provider: row.key for row in report.providers}
    assert rows[ANTHROPIC].masked == "…" + HELPER_KEY[-4:]
    assert rows[OPENAI].error == "openai: it broke"
    assert {reason for _, _, reason in world.helper.runs} == {HelperReason.STATUS}


def test_the_sdk_tells_the_helper_that_nobody_may_be_there_to_answer() -> None:
    world = World(backend=ScriptedTraceBackend([_turn()]))
    world.helper.answer(OP, HELPER_KEY)
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))
    world.chat(client=ClientKind.SDK)
    assert world.helper.runs == [(OP, "anthropic", HelperReason.SDK)]


def test_a_helper_key_is_held_for_its_ttl_or_until_shortly_before_it_expires() -> None:
    now = [1000.0]
    answers = iter(
        [HELPER_KEY, json.dumps({"key": FRESH_KEY, "expires_at": "1970-01-01T00:25:00Z"})]
    )
    helper = ScriptedKeyHelper({OP: lambda _ref, _reason: next(answers)})
    keys = HelperKeys(runner=helper, clock=lambda: now[0], ttl=300.0)
    pending = PendingKey(KeyRef(ANTHROPIC), HelperCommand(OP))

    assert keys.fetch(pending, HelperReason.SDK).secret.reveal() == HELPER_KEY
    now[0] += 299
    assert keys.fetch(pending, HelperReason.SDK).secret.reveal() == HELPER_KEY
    now[0] += 1  # the TTL is over
    assert keys.fetch(pending, HelperReason.SDK).secret.reveal() == FRESH_KEY
    assert keys.runs == 2
    # That key expires at 1500 s: kept until 30 s before, not for the whole TTL (1600 s).
    now[0] = 1500 - EXPIRY_MARGIN - 1
    assert keys.fetch(pending, HelperReason.SDK).secret.reveal() == FRESH_KEY
    now[0] = 1500 - EXPIRY_MARGIN
    with pytest.raises(StopIteration):  # a third run was asked for: the key was dropped
        keys.fetch(pending, HelperReason.SDK)


def test_an_already_expired_key_is_used_once_and_never_held() -> None:
    world = World(backend=ScriptedTraceBackend([_turn(), _turn()]))
    world.helper.answer(OP, json.dumps({"key": HELPER_KEY, "expires_at": "2001-01-01T00:00:00Z"}))
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))
    world.chat()
    world.chat()
    assert len(world.helper.runs) == 2


def test_a_failing_helper_stops_the_request_with_its_error() -> None:
    world = World(backend=ScriptedTraceBackend([_turn()]))
    world.helper.answer(OP, "this is not a key\n")
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))
    with pytest.raises(KeyHelperError) as caught:
        world.chat()
    assert "more than one word" in caught.value.problem
    assert world.backend.requests == []


# --- the provider rejected the key: helper again, request again, once -------------------


def test_a_rejected_helper_key_is_fetched_again_and_the_request_retried_once() -> None:
    answers = iter([HELPER_KEY, FRESH_KEY])
    world = World(backend=ScriptedTraceBackend([_turn("fresh")], rejected_keys=[HELPER_KEY]))
    world.helper.answer(OP, lambda _ref, _reason: next(answers))
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))

    reply, items = world.chat()

    assert _sent_keys(world.backend) == [HELPER_KEY, FRESH_KEY]
    assert reply.text == "fresh" and not reply.failed
    assert reply.masked_key == "…" + FRESH_KEY[-4:]
    assert [n.code for n in _notices(items)] == [NoticeCode.KEY_REFRESHED]
    assert not any(isinstance(i, StreamError) for i in items)  # the rejection was handled
    assert len(world.helper.runs) == 2


def test_a_key_rejected_twice_is_reported_and_the_helper_runs_no_third_time() -> None:
    world = World(backend=ScriptedTraceBackend(rejected_keys=[HELPER_KEY]))
    world.helper.answer(OP, HELPER_KEY)
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))

    reply, _ = world.chat()

    assert reply.failed and "rejected the API key" in reply.errors[0]
    assert len(world.backend.requests) == 2 and len(world.helper.runs) == 2


def test_a_stored_key_the_provider_rejects_is_not_retried() -> None:
    world = World(backend=ScriptedTraceBackend(rejected_keys=[DEFAULT_KEY.reveal()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    reply, _ = world.chat()
    assert reply.failed and len(world.backend.requests) == 1


def test_no_retry_once_the_turn_has_started() -> None:
    """A tool that ran (or text shown) would be repeated by a retry: never."""
    world = World(
        backend=ScriptedTraceBackend(
            [
                [
                    ToolCall("t1", "read_file", {"target_file": "a.kicad_sch"}),
                    StreamError("anthropic rejected the API key (HTTP 401)", "provider_auth", 401),
                    Done(None),
                ]
            ]
        )
    )
    world.helper.answer(OP, HELPER_KEY)
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))
    reply, _ = world.chat()
    assert reply.failed and len(world.backend.requests) == 1 and len(world.helper.runs) == 1


# --- no surprise bills ---------------------------------------------------------------------


def test_an_env_key_over_a_stored_key_is_announced_before_the_request() -> None:
    world = World(env={"ANTHROPIC_API_KEY": ENV_KEY}, backend=ScriptedTraceBackend([_turn()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)

    reply, items = world.chat()

    assert isinstance(items[0], Notice) and items[0].code is NoticeCode.ENV_OVERRIDE
    assert "ANTHROPIC_API_KEY is set" in items[0].message
    assert "your stored key (memory)" in items[0].message
    assert ENV_KEY not in items[0].message and DEFAULT_KEY.reveal() not in items[0].message
    assert reply.notices == (items[0],)
    assert _sent_keys(world.backend) == [ENV_KEY]


def test_an_env_key_alone_is_not_a_surprise() -> None:
    world = World(env={"ANTHROPIC_API_KEY": ENV_KEY}, backend=ScriptedTraceBackend([_turn()]))
    world.runtime.adapters.settings().update(lambda s: s.with_active(ANTHROPIC))
    _, items = world.chat()
    assert _notices(items) == []


def test_an_env_key_over_a_project_choice_names_the_project_file() -> None:
    world = World(env={"ANTHROPIC_API_KEY": ENV_KEY}, backend=ScriptedTraceBackend([_turn()]))
    world.store(KeyRef(ANTHROPIC, "client-a"), WORK_KEY)
    world.project_file(ProjectSelection(ANTHROPIC, "client-a"))
    _, items = world.chat(project_dir=PROJECT)
    (notice,) = _notices(items)
    assert f"memory:client-a, chosen by {PROJECT_FILE}" in notice.message


def test_the_override_setting_makes_it_an_error_before_anything_is_sent() -> None:
    world = World(env={"ANTHROPIC_API_KEY": ENV_KEY}, backend=ScriptedTraceBackend([_turn()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    world.runtime.adapters.settings().update(
        lambda s: attrs.evolve(s, env_override=EnvOverride.ERROR)
    )
    with pytest.raises(EnvOverrideError) as caught:
        world.chat()
    assert caught.value.fix.startswith("unset ANTHROPIC_API_KEY")
    assert "config set keys.env_override warn" in caught.value.fix
    assert world.backend.requests == []


# --- project files --------------------------------------------------------------------------


def test_a_project_file_applies_only_once_allowed() -> None:
    world = World(backend=ScriptedTraceBackend([_turn(), _turn()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    world.store(KeyRef(OPENAI, "client-a"), Secret("sk-proj-client-a-key-C006"))
    world.runtime.use_cases.use_provider().execute(ANTHROPIC)
    world.project_file(ProjectSelection(OPENAI, "client-a", "gpt-4.1"), allowed=False)

    ignored, items = world.chat(project_dir=PROJECT)
    assert ignored.provider is ANTHROPIC and ignored.project_file is None
    (notice,) = _notices(items)
    assert notice.code is NoticeCode.PROJECT_IGNORED
    assert notice.message == (
        f"ignored {PROJECT_FILE} (not allowed yet): run buildwithtrace project allow {PROJECT}"
    )

    allowed = world.runtime.use_cases.allow_project().execute(PROJECT)
    assert allowed.state is ProjectState.ALLOWED
    used, items = world.chat(project_dir=PROJECT)
    assert (used.provider, used.model, label_of(used.key_source)) == (
        OPENAI,
        "gpt-4.1",
        "memory:client-a",
    )
    assert used.project_file == PROJECT_FILE and _notices(items) == []


def test_a_changed_project_file_is_ignored_until_allowed_again() -> None:
    world = World(backend=ScriptedTraceBackend([_turn()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    world.project_file(ProjectSelection(OPENAI))
    world.projects.put(
        PROJECT, ProjectFile(PROJECT_FILE, "sha256:" + "cd" * 32, ProjectSelection(OPENAI))
    )
    reply, items = world.chat(project_dir=PROJECT)
    assert reply.provider is ANTHROPIC
    assert "(changed since you allowed it)" in _notices(items)[0].message


def test_a_hostile_project_file_stops_the_request_with_its_error() -> None:
    world = World(backend=ScriptedTraceBackend([_turn()]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    world.projects.put(PROJECT, ProjectFileError(PROJECT_FILE, "llm.helper looks like a command"))
    with pytest.raises(ProjectFileError):
        world.chat(project_dir=PROJECT)
    assert world.backend.requests == []
    status = world.runtime.use_cases.show_status().execute(project_dir=PROJECT)
    assert status.project is not None and status.project.state is None
    assert status.project.problem is not None and "command" in status.project.problem


# --- verification --------------------------------------------------------------------------


def test_set_with_verify_stores_a_valid_key_and_refuses_a_rejected_one() -> None:
    world = World(verifier=ScriptedKeyVerifier([WORK_KEY.reveal()]))
    use_case = world.runtime.use_cases.set_key()

    good = use_case.execute(ANTHROPIC, WORK_KEY, verify=True)
    assert good.verification is not None and good.verification.verdict is Verdict.VALID
    with pytest.raises(KeyRejectedError) as caught:
        use_case.execute(ANTHROPIC, DEFAULT_KEY, name="bad", verify=True)
    assert "was not stored" in caught.value.problem and "--force" in caught.value.fix
    assert world.stored(KeyRef(ANTHROPIC, "bad")) is None
    forced = use_case.execute(ANTHROPIC, DEFAULT_KEY, name="bad", verify=True, force=True)
    assert world.stored(KeyRef(ANTHROPIC, "bad")) == DEFAULT_KEY.reveal()
    assert "stored anyway" in forced.warnings[-1]


def test_set_with_verify_runs_the_helper_and_an_unreachable_provider_only_warns() -> None:
    world = World(verifier=ScriptedKeyVerifier(unreachable=True))
    world.helper.answer(OP, HELPER_KEY)
    result = world.runtime.use_cases.set_key().execute(
        ANTHROPIC, HelperCommand.parse(OP), verify=True
    )
    assert world.helper.runs == [(OP, "anthropic", HelperReason.VERIFY)]
    assert result.verification is not None
    assert result.verification.verdict is Verdict.UNREACHABLE
    assert "stored it unverified" in result.warnings[-1]
    assert world.verifier.checked == [(ANTHROPIC, "…" + HELPER_KEY[-4:])]


def test_verify_checks_the_key_in_use_and_says_where_it_came_from() -> None:
    world = World(env={"ANTHROPIC_API_KEY": ENV_KEY}, verifier=ScriptedKeyVerifier([ENV_KEY]))
    world.store(KeyRef(ANTHROPIC), DEFAULT_KEY)
    found = world.runtime.use_cases.verify_key().execute(ANTHROPIC)
    assert found.valid and label_of(found.source) == "env:ANTHROPIC_API_KEY"
    world.env.clear()
    rejected = world.runtime.use_cases.verify_key().execute(ANTHROPIC)
    assert rejected.verdict is Verdict.REJECTED and rejected.failure is not None
    assert rejected.source is not None and rejected.source.kind is SourceKind.MEMORY


def test_billing_counts_a_helper_as_a_ready_key_without_running_it() -> None:
    world = World()
    world.runtime.use_cases.set_key().execute(ANTHROPIC, HelperCommand.parse(OP))
    report = world.runtime.use_cases.billing_status().execute()
    assert report.key_ready and world.helper.runs == []
