"""Key sources through the Python SDK as a script uses it: the real config dir, file store,
protocol server, helper processes and the providers' stub; notices once per client."""

from __future__ import annotations

import asyncio
import sys
import warnings
from pathlib import Path

import pytest

from domain.provider import Provider
from entrypoints.sdk import (
    AsyncTrace,
    KeyRejectedError,
    Notice,
    NoticeCode,
    ProjectFileError,
    Trace,
    TraceNotice,
    Verdict,
    to_dict,
)
from tests.support import protocol_server as ps
from tests.support.protocol_server import ProtocolServer
from tests.support.provider_stub import ProviderStub

STORED = "sk-ant-api03-sdk-stored-key-0001"
ENV = "sk-ant-api03-sdk-env-key-0002"
HELPED = "sk-proj-sdk-printed-by-helper-0003"


def test_an_env_override_is_told_once_per_client_through_on_notice(
    sdk_env: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk_env.load({"turns": [ps.simple_turn("a"), ps.simple_turn("b"), ps.simple_turn("c")]})
    told: list[Notice] = []
    with Trace() as setup:
        setup.byok.set("anthropic", STORED)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ENV)

    with Trace(on_notice=told.append) as trace:
        trace.chat("one")
        trace.chat("two")
    with Trace(on_notice=told.append) as other:
        other.chat("three")

    assert [n.code for n in told] == [NoticeCode.ENV_OVERRIDE] * 2  # once per client
    assert "ANTHROPIC_API_KEY is set" in told[0].message
    assert to_dict(told[0]) == {
        "type": "notice",
        "code": "env_override",
        "message": told[0].message,
    }
    assert [r.body["llm_api_key"] for r in sdk_env.chat_requests] == [ENV] * 3


def test_without_a_callback_the_notice_is_a_warning(
    sdk_env: ProtocolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk_env.load({"turns": [ps.simple_turn("a"), ps.simple_turn("b")]})
    with Trace() as setup:
        setup.byok.set("anthropic", STORED)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ENV)
    with Trace() as trace, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = list(trace.stream("one"))
        trace.chat("two")
    assert [type(w.message) for w in caught] == [TraceNotice]
    assert not any(isinstance(item, Notice) for item in items)  # not in the stream


def test_byok_set_with_a_helper_then_chat_runs_it_with_reason_sdk(
    sdk_env: ProtocolServer, tmp_path: Path
) -> None:
    helper = tmp_path / "helper.py"
    helper.write_text(
        f"import os\nopen({str(tmp_path / 'why')!r}, 'a').write(os.environ"
        f"['TRACE_KEY_HELPER_REASON'])\nprint({HELPED!r})\n",
        encoding="utf-8",
    )
    sdk_env.load({"turns": [ps.simple_turn("a"), ps.simple_turn("b")]})
    with Trace() as trace:
        result = trace.byok.set("openai", helper=f"{sys.executable} {helper}", name="ci")
        assert to_dict(result)["stored_in"] == "config"
        assert trace.resolve().credential is not None  # resolve runs it (then held)
        reply = trace.chat("hello")
        trace.chat("again")
    assert reply.key_source is not None and reply.key_source.label == "helper:ci"
    assert (tmp_path / "why").read_text() == "sdk"
    assert [r.body["llm_api_key"] for r in sdk_env.chat_requests] == [HELPED, HELPED]


def test_byok_verify_and_set_verify_through_the_sdk(
    sdk_env: ProtocolServer, provider_stub: ProviderStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in provider_stub.env().items():
        monkeypatch.setenv(name, value)
    provider_stub.valid[Provider.ANTHROPIC].add(STORED)
    with Trace() as trace:
        stored = trace.byok.set("anthropic", STORED, verify=True)
        assert stored.verification is not None and stored.verification.valid
        found = trace.byok.verify("anthropic")
        assert found.verdict is Verdict.VALID and found.failure is None
        with pytest.raises(KeyRejectedError):
            trace.byok.set("anthropic", ENV, name="bad", verify=True)

    async def in_asyncio() -> Verdict:
        async with AsyncTrace() as trace:
            return (await trace.byok.verify("anthropic")).verdict

    assert asyncio.run(in_asyncio()) is Verdict.VALID


def test_project_dir_finds_the_project_file_and_trace_project_allows_it(
    sdk_env: ProtocolServer, tmp_path: Path
) -> None:
    project = tmp_path / "client-a"
    project.mkdir()
    (project / "trace.toml").write_text(
        '[llm]\nprovider = "anthropic"\nkey_name = "client-a"\n', encoding="utf-8"
    )
    sdk_env.load({"turns": [ps.simple_turn("a"), ps.simple_turn("b")]})
    told: list[Notice] = []
    with Trace(project_dir=str(project), on_notice=told.append) as trace:
        trace.byok.set("anthropic", STORED)
        trace.byok.set("anthropic", ENV, name="client-a")
        trace.byok.use("anthropic")
        first = trace.chat("before allowing")
        assert trace.project.allow() is not None
        second = trace.chat("after allowing")
    assert [n.code for n in told] == [NoticeCode.PROJECT_IGNORED]
    assert first.project_file is None and second.project_file == str(project / "trace.toml")
    assert [r.body["llm_api_key"] for r in sdk_env.chat_requests] == [STORED, ENV]

    (project / "trace.toml").write_text('[llm]\nhelper = "id"\n', encoding="utf-8")
    with Trace(project_dir=str(project)) as trace, pytest.raises(ProjectFileError):
        trace.chat("hostile")
