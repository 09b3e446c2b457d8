"""The JSON shapes of DESIGN section 5: request bodies out, profile/quota in, errors by status."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from domain.chat import ChatRequest, Profile, Quota, ToolResult
from domain.errors import (
    AuthenticationRejectedError,
    BackendError,
    PlanRestrictionError,
    ProtocolError,
    QuotaExhaustedError,
)
from domain.masking import SecretMasker

_EXCERPT_CHARS = 160
_OPTIONAL = ("conversation_id", "project_dir", "file_path", "schematic_content", "pcb_content")


def chat_body(request: ChatRequest) -> dict[str, object]:
    """The body of ``POST /chat/stream``: None fields left out, BYOK fields only for BYOK."""
    body: dict[str, object] = {
        "message": request.message,
        "session_id": request.session_id,
        "mode": request.mode.value,
        "app_type": request.app_type.value,
        "client": request.client.value,
    }
    for name in _OPTIONAL:
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if request.llm is not None:
        body["llm_provider"] = request.llm.provider
        body["llm_api_key"] = request.llm.api_key.reveal()  # the one place the key leaves
        if request.llm.model_id is not None:
            body["llm_model_id"] = request.llm.model_id
    return body


def tool_result_body(session_id: str, result: ToolResult) -> dict[str, object]:
    """The JSON body of ``POST /tools/result``; ``is_error`` only when the tool failed."""
    body: dict[str, object] = {
        "session_id": session_id,
        "tool_call_id": result.tool_call_id,
        "result": result.result,
    }
    if result.is_error:
        body["is_error"] = True
    return body


def parse_profile(data: object) -> Profile:
    """A Profile from ``GET /user/profile``; fields of the wrong type read as unknown."""
    obj = _object(data, "profile")
    return Profile(email=_str(obj.get("email")), plan=_str(obj.get("plan")))


def parse_quota(data: object) -> Quota:
    """A Quota from ``GET /user/quota``; numbers may arrive as JSON numbers or decimal strings."""
    obj = _object(data, "quota")
    return Quota(
        plan=_str(obj.get("plan")),
        monthly_cost_used=_number(obj.get("monthly_cost_used")),
        monthly_cost_cap=_number(obj.get("monthly_cost_cap")),
        credits_remaining=_number(obj.get("credits_remaining")),
    )


def status_error(
    status: int,
    body: bytes,
    secrets: Iterable[str],
    *,
    mode: str | None = None,
    byok_active: bool | None = None,
) -> BackendError:
    """The error for a non-retryable, non-2xx status; ``secrets`` are masked in the excerpt."""
    if status == 401:
        return AuthenticationRejectedError()
    if status == 402 and byok_active is not None:
        return QuotaExhaustedError(byok_active=byok_active)
    if status == 403 and mode is not None:
        return PlanRestrictionError(mode)
    excerpt = body_excerpt(body, secrets)
    detail = f": {excerpt}" if excerpt else ""
    return BackendError(
        f"the Trace backend answered HTTP {status}{detail}",
        "try again later; if it persists, run again with TRACE_DEBUG=1 and report it",
    )


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every run of 8+ characters of a secret (raw or JSON-escaped) as ``***``."""
    return SecretMasker(secrets).mask(text)


def body_excerpt(body: bytes, secrets: Iterable[str]) -> str:
    """A short printable excerpt of an error body (its ``detail`` when JSON), secrets masked.

    Servers may echo the request back (validation errors do), so every secret is masked
    in the whole text before it is shortened: cutting first could leave half a key.
    """
    text = body[:16384].decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("detail"), str):
        text = parsed["detail"]
    text = mask_secrets(text, secrets)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"


def _object(data: object, what: str) -> Mapping[str, object]:
    if not isinstance(data, dict):
        raise ProtocolError(f"the Trace backend's {what} answer is not a JSON object")
    return data


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None
