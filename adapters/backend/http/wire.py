"""The JSON shapes of DESIGN section 5: request bodies out, profile/quota in, errors by status."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping

from domain.backend_url import is_safe_browser_url, is_valid_user_code
from domain.chat import ChatRequest, ClientKind, Profile, Quota, ToolResult
from domain.device_login import DeviceAuthorization, DeviceLoginState, DevicePoll
from domain.errors import (
    REPORT_STEP,
    AuthenticationRejectedError,
    BackendError,
    InvalidKeyError,
    LoginFailedError,
    PlanRestrictionError,
    ProtocolError,
    QuotaExhaustedError,
)
from domain.masking import SecretMasker
from domain.provider import Provider
from domain.secret import Secret

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
        body["llm_provider"] = request.llm.provider.value
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


def device_code_body(client: ClientKind) -> dict[str, object]:
    """The body of ``POST /auth/device/code``."""
    return {"client": client.value}


def device_token_body(device_code: Secret) -> dict[str, object]:
    """The body of ``POST /auth/device/token``: the one place the device code leaves."""
    return {"device_code": device_code.reveal()}


_DEVICE = "device login"
_DEFAULT_INTERVAL = 5.0  # RFC 8628 section 3.2, when the answer names none
_POLL_STATES = {s.value: s for s in DeviceLoginState if s is not DeviceLoginState.APPROVED}
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def parse_device_authorization(data: object) -> DeviceAuthorization:
    """A DeviceAuthorization from ``POST /auth/device/code``; ProtocolError for an unsafe one.

    Nothing of a refused answer is quoted: a hostile backend's text must not reach
    the terminal (control characters) or the browser (file:, javascript: URLs).
    """
    obj = _object(data, _DEVICE)
    raw_code = obj.get("device_code")
    try:
        device_code = Secret.parse(raw_code if isinstance(raw_code, str) else "")
    except InvalidKeyError:
        raise ProtocolError(
            f"the Trace backend's {_DEVICE} answer has no usable device_code"
        ) from None
    user_code = obj.get("user_code")
    if not isinstance(user_code, str) or not is_valid_user_code(user_code):
        raise ProtocolError(
            f"the Trace backend's {_DEVICE} answer has no valid user_code "
            "(4 to 32 letters, digits and dashes)"
        )
    uri = obj.get("verification_uri")
    if not isinstance(uri, str) or not is_safe_browser_url(uri):
        raise ProtocolError(
            f"the Trace backend's {_DEVICE} answer has a verification_uri that is not an "
            "https URL (or http to this machine); nothing was opened"
        )
    expires_in = _number(obj.get("expires_in"))
    if expires_in is None or expires_in <= 0:
        raise ProtocolError(f"the Trace backend's {_DEVICE} answer has no valid expires_in")
    interval = _number(obj.get("interval"))
    if interval is None or interval < 0:
        interval = _DEFAULT_INTERVAL
    return DeviceAuthorization(device_code, user_code, uri, expires_in, interval)


def parse_device_token(data: object) -> DevicePoll:
    """The approved poll of ``POST /auth/device/token`` (HTTP 200 ``{"token": ...}``)."""
    raw = _object(data, _DEVICE).get("token")
    try:
        token = Secret.parse(raw if isinstance(raw, str) else "")
    except InvalidKeyError:
        raise ProtocolError(f"the Trace backend's {_DEVICE} answer has no usable token") from None
    return DevicePoll(DeviceLoginState.APPROVED, token)


def parse_device_refusal(body: bytes) -> DevicePoll:
    """The state a 400 answer of ``POST /auth/device/token`` reports (``{"error": ...}``).

    An error outside RFC 8628's four (e.g. ``invalid_grant``: a device code the
    backend no longer knows) ends the login with LoginFailedError.
    """
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: nesting too deep
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, str):
        raise ProtocolError(f"the Trace backend's {_DEVICE} answer (HTTP 400) has no error code")
    state = _POLL_STATES.get(error)
    if state is None:
        shown = error if _ERROR_CODE.fullmatch(error) else "an unknown error"
        raise LoginFailedError(
            f"the Trace backend ended the {_DEVICE} ({shown})",
            "buildwithtrace auth login   (to start a new login)",
        )
    return DevicePoll(state)


def status_error(
    status: int,
    body: bytes,
    secrets: Iterable[str],
    *,
    mode: str | None = None,
    provider: Provider | None = None,
) -> BackendError:
    """The error for a non-retryable, non-2xx status; ``secrets`` are masked in the excerpt.

    402 and 403 of a chat (``provider`` and ``mode`` known) quote the backend's message
    and say who pays for the provider in effect.
    """
    if status == 401:
        return AuthenticationRejectedError()
    excerpt = body_excerpt(body, secrets)
    if status == 402 and provider is not None:
        return QuotaExhaustedError(provider.value, provider.payer, excerpt)
    if status == 403 and mode is not None:
        return PlanRestrictionError(mode, excerpt)
    detail = f": {excerpt}" if excerpt else ""
    return BackendError(
        f"the Trace backend answered HTTP {status}{detail}",
        f"try again later; {REPORT_STEP}",
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
    except (ValueError, RecursionError):  # RecursionError: nesting too deep
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
    if not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: a JSON integer beyond float range
        return None
    return number if math.isfinite(number) else None
