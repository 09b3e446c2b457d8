"""One serialization of each result type: the CLI's ``--json``, the SDK's ``to_dict``, the panel.

Every use-case result and chat event has exactly one JSON-ready shape, defined here
as a cattrs unstructure hook and documented in docs/cli.md (the e2e tests pin them).
A secret is never more than its mask, a key source is its label (``env:NAME``,
``keychain``, ``file``...), an enum is its value. cattrs is imported when the first
result is serialised, not when a command starts.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from application.allow_project import ProjectResult
from application.auth_status import AuthReport
from application.billing_status import BillingReport
from application.chat import ChatFinished, ChatReply, ToolFinished, ToolRun
from application.doctor import DoctorReport
from application.login import LoginResult
from application.remove_key import RemoveKeyResult
from application.select_model import SelectModelResult
from application.set_key import SetKeyResult
from application.use_provider import UseProviderResult
from domain.chat import FileEdit, StatusUpdate, StreamError, TextDelta, Thinking, ToolCall, Usage
from domain.credential import KeySource
from domain.notices import Notice
from domain.secret import Secret
from domain.verification import KeyVerification

if TYPE_CHECKING:
    import cattrs


def to_data(value: object) -> Any:
    """The JSON-ready data of a result, an event, or a tuple/list of them."""
    return converter().unstructure(value)


@functools.cache
def converter() -> cattrs.Converter:
    """The converter, built once with every hook below."""
    import cattrs

    conv = cattrs.Converter()
    conv.register_unstructure_hook(enum.Enum, lambda member: member.value)
    # A secret never reaches output in plain text, even by accident.
    conv.register_unstructure_hook(Secret, lambda secret: secret.masked())
    conv.register_unstructure_hook(KeySource, lambda source: source.label)
    for kind, hook in _HOOKS.items():
        conv.register_unstructure_hook(kind, hook)
    return conv


def _label(source: KeySource | None) -> str | None:
    return None if source is None else source.label


def _set_key(result: SetKeyResult) -> dict[str, object]:
    stored = result.stored
    verification = result.verification
    masked = stored.secret.masked() if stored else None
    if masked is None and verification is not None:
        masked = verification.masked_key
    return {
        "provider": result.provider.value,
        "key_name": result.key_name,
        "active": True,
        # A helper's command goes to config.toml; the key it prints is never stored.
        "stored_in": stored.source.label if stored else "config",
        "masked": masked,
        "helper": result.helper.command if result.helper else None,
        "shell": result.helper.shell if result.helper else False,
        "verification": _verification(verification) if verification else None,
        "overridden_by": _label(result.overridden_by),
        "warnings": list(result.warnings),
    }


def _verification(result: KeyVerification) -> dict[str, object]:
    return {
        "provider": result.provider.value,
        "verdict": result.verdict.value,
        "status": result.status,
        "detail": result.detail,
        "masked": result.masked_key,
        "source": _label(result.source),
    }


def _project(result: ProjectResult) -> dict[str, object]:
    chosen = result.selection
    return {
        "project": {
            "path": result.path,
            "digest": result.digest,
            "state": result.state.value,
            "provider": chosen.provider.value if chosen.provider else None,
            "key_name": chosen.key_name,
            "model": chosen.model,
            "changed": result.changed,
        }
    }


def _use_provider(result: UseProviderResult) -> dict[str, object]:
    credential = result.credential
    source = result.source or (credential.source if credential else None)
    key = (
        {
            "source": source.label,
            "masked": credential.secret.masked() if credential else None,
        }
        if source
        else None
    )
    return {
        "active_provider": result.provider.value,
        "key_name": result.key_name,
        "billing": result.provider.spec.billing.value,
        "key": key,
    }


def _select_model(result: SelectModelResult) -> dict[str, object]:
    return {
        "provider": result.provider.value,
        "model": result.model,
        "model_source": result.source.value,
    }


def _remove_key(result: RemoveKeyResult) -> dict[str, object]:
    return {
        "provider": result.provider.value,
        "key_name": result.key_name,
        "removed": result.removed,
        "reverted_to_trace": result.reverted_to_trace,
        "still_available_from": _label(result.still_from),
    }


def _doctor(report: DoctorReport) -> dict[str, object]:
    return {
        "ok": report.failure is None,
        "checks": [
            {"name": c.name, "verdict": c.verdict.value, "detail": c.detail, "fix": c.fix}
            for c in report.checks
        ],
    }


def _login(result: LoginResult) -> dict[str, object]:
    profile = result.profile
    return {
        "logged_in": True,
        "stored_in": result.stored.source.label,
        "masked": result.stored.secret.masked(),
        "verified": result.verified,
        "account": profile.email if profile and profile.email else None,
        "plan": profile.plan if profile else None,
        "overridden_by": _label(result.overridden_by),
    }


def _auth(report: AuthReport) -> dict[str, object]:
    return {
        "logged_in": report.logged_in,
        "source": _label(report.source),
        "masked": report.masked,
        "checked": report.checked,
        "valid": report.valid,
        "account": report.profile.email if report.profile else None,
        "plan": report.profile.plan if report.profile else None,
        "problem": report.problem,
    }


def _billing(report: BillingReport) -> dict[str, object]:
    quota = report.quota
    return {
        "plan": report.plan,
        "monthly_cost_used": quota.monthly_cost_used,
        "monthly_cost_cap": quota.monthly_cost_cap,
        "credits_remaining": quota.credits_remaining,
        "active_provider": report.active_provider.value,
        "billing": report.billing.value,
        "payer": report.payer,
        "key_ready": report.key_ready,
    }


# --- chat: each event is one JSON line of `chat --json`, and the SDK's to_dict ----------


def _content(kind: str) -> Callable[[Any], dict[str, object]]:
    def hook(event: Any) -> dict[str, object]:
        return {"type": kind, "content": event.content}

    return hook


def _stream_error(error: StreamError) -> dict[str, object]:
    found: dict[str, object] = {"type": "error", "content": error.content}
    if error.code is not None:  # additive: only errors that carry a code show one
        found["code"] = error.code
    if error.provider_status is not None:
        found["provider_status"] = error.provider_status
    return found


def _tool_call(call: ToolCall) -> dict[str, object]:
    return {
        "type": "tool_call",
        "tool_call_id": call.tool_call_id,
        "tool_name": call.tool_name,
        "tool_args": dict(call.tool_args),
    }


def _tool_finished(item: ToolFinished) -> dict[str, object]:
    return {
        "type": "tool_result",
        "tool_call_id": item.call.tool_call_id,
        "tool_name": item.call.tool_name,
        "is_error": item.result.is_error,
        "result": item.result.result,
    }


def _tool_run(run: ToolRun) -> dict[str, object]:
    return {
        "tool_call_id": run.tool_call_id,
        "tool_name": run.tool_name,
        "is_error": run.is_error,
        "result_chars": run.result_chars,
        "target": run.target,
    }


def _reply(reply: ChatReply) -> dict[str, object]:
    return {
        "type": "done",
        "conversation_id": reply.conversation_id,
        "provider": reply.provider.value,
        "model": reply.model,
        "key_source": _label(reply.key_source),
        "masked_key": reply.masked_key,
        "billing": reply.billing.value,
        "usage": dict(reply.usage) if reply.usage else None,
        "tool_calls": len(reply.tool_runs),
        "errors": list(reply.errors),
        "project_file": reply.project_file,
    }


_HOOKS: dict[type[Any], Callable[[Any], Any]] = {
    SetKeyResult: _set_key,
    KeyVerification: _verification,
    ProjectResult: _project,
    Notice: lambda notice: {
        "type": "notice",
        "code": notice.code.value,
        "message": notice.message,
    },
    UseProviderResult: _use_provider,
    SelectModelResult: _select_model,
    RemoveKeyResult: _remove_key,
    DoctorReport: _doctor,
    LoginResult: _login,
    AuthReport: _auth,
    BillingReport: _billing,
    TextDelta: _content("text_delta"),
    Thinking: _content("thinking"),
    StatusUpdate: _content("status"),
    StreamError: _stream_error,
    ToolCall: _tool_call,
    ToolFinished: _tool_finished,
    ToolRun: _tool_run,
    FileEdit: lambda edit: {"type": "file_edit", "data": dict(edit.data)},
    Usage: lambda usage: {"type": "metrics", "data": dict(usage.data)},
    ChatReply: _reply,
    ChatFinished: lambda finished: _reply(finished.reply),
}
