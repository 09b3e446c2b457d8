"""The desktop panel's words: who pays, each provider's line, why a field is read-only."""

from __future__ import annotations

import pytest

from adapters.settings.memory import InMemorySettingsStore
from application.show_status import StatusReport
from domain.errors import CorruptFileError
from domain.provider import Provider
from domain.secret import Secret
from domain.settings import Settings
from entrypoints.desktop import text
from entrypoints.runtime import Runtime

ANTHROPIC_KEY = "sk-ant-0123456789abcdefWXYZ"
OPENAI_KEY = "sk-proj-0123456789abcdefQRST"


def _report(
    env: dict[str, str] | None = None,
    *,
    store: dict[str, str] | None = None,
    active: str | None = None,
) -> StatusReport:
    use_cases = Runtime(env or {}, in_memory=True).use_cases
    for provider, key in (store or {}).items():
        parsed = Provider.parse(provider)
        use_cases.set_key().execute(parsed, Secret.parse(key, provider))
    if active:
        use_cases.use_provider().execute(Provider.parse(active))
    report: StatusReport = use_cases.show_status().execute()
    return report


def test_who_pays_names_the_trace_plan_or_the_providers_account() -> None:
    assert text.who_pays(_report()) == (
        "AI requests are billed to your Trace plan (monthly budget / credits)."
    )
    assert text.who_pays(_report(store={"openai": OPENAI_KEY})) == (
        "AI requests are billed to your own OpenAI account; model gpt-4o."
    )


def test_who_pays_warns_when_the_active_provider_has_no_key() -> None:
    settings = InMemorySettingsStore(Settings().with_active(Provider.GEMINI))  # key gone since
    runtime = Runtime({}, in_memory=True, settings=settings)
    report: StatusReport = runtime.use_cases.show_status().execute()
    assert text.who_pays(report) == (
        "AI requests are billed to your own Google account (Google AI Studio / Google Cloud); "
        "model gemini-2.5-flash. No Gemini key is available, so requests will fail: paste a "
        "key and click Save, or select Trace-hosted and click Use Trace-hosted."
    )


def test_each_line_shows_the_masked_key_its_source_and_the_active_mark() -> None:
    report = _report({"ANTHROPIC_API_KEY": ANTHROPIC_KEY}, store={"openai": OPENAI_KEY})
    lines = {row.provider: text.provider_line(row) for row in report.providers}
    assert lines == {
        Provider.TRACE: "Trace-hosted (default) — no key needed",
        Provider.ANTHROPIC: "Anthropic — key …WXYZ (env:ANTHROPIC_API_KEY)",
        Provider.OPENAI: "OpenAI — key …QRST (memory) — active",
        Provider.GEMINI: "Gemini — no key",
    }
    assert not any(ANTHROPIC_KEY in line or OPENAI_KEY in line for line in lines.values())


@pytest.mark.parametrize(
    ("env", "stored", "reason", "removable"),
    [
        ({}, {}, None, False),
        ({}, {"anthropic": ANTHROPIC_KEY}, None, True),
        ({"ANTHROPIC_API_KEY": ANTHROPIC_KEY}, {}, "ANTHROPIC_API_KEY is set", False),
        (
            {"ANTHROPIC_API_KEY": ANTHROPIC_KEY},
            {"anthropic": ANTHROPIC_KEY},
            "ANTHROPIC_API_KEY is set",
            True,
        ),
    ],
    ids=["nothing", "stored", "env-only", "env-over-stored"],
)
def test_an_environment_key_makes_the_field_read_only_and_a_stored_one_removable(
    env: dict[str, str], stored: dict[str, str], reason: str | None, removable: bool
) -> None:
    row = next(r for r in _report(env, store=stored).providers if r.provider is Provider.ANTHROPIC)
    got = text.env_override_reason(row)
    if reason is None:
        assert got is None
    else:
        assert got is not None and got.startswith(reason)
        assert got.endswith(
            "overrides any stored key; to edit the key here: unset ANTHROPIC_API_KEY and "
            "reopen this window."
        )
    assert text.has_stored_key(row) is removable


def test_errors_become_problem_and_fix_and_unknown_ones_say_nothing_more() -> None:
    problem, fix = text.error_text(CorruptFileError("/c/credentials.json", "bad JSON"))
    assert "/c/credentials.json is corrupt" in problem and fix.startswith("fix or move")
    problem, fix = text.error_text(RuntimeError(f"boom {ANTHROPIC_KEY}"))
    assert problem == "unexpected RuntimeError" and ANTHROPIC_KEY not in problem + fix
