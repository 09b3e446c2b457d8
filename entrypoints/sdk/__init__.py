"""The embedded Python API: the same use-cases as the CLI, with keyword arguments.

    from entrypoints.sdk import Trace

    with Trace() as trace:
        reply = trace.chat("Add a 100nF cap on VCC", mode="agent", project_dir="./board")
        print(reply.text, reply.conversation_id, reply.billing, reply.usage)

``Trace`` is for scripts and CI, ``AsyncTrace`` the same surface for asyncio: ``chat``,
``stream``, ``resolve``, and ``byok``, ``auth``, ``billing`` like the CLI's commands.
Both read the same config dir, secret store and settings as the ``buildwithtrace`` CLI
(so ``buildwithtrace byok set`` in a shell works from code), unless the caller passes
its own adapters (``secrets=``, ``settings=``, ``backend=``, ``env=``...).

BYOK precedence per call (DESIGN section 3; the rules live in ``KeyResolution``):
per-call ``llm_*`` arguments, then ``TRACE_LLM_PROVIDER`` / ``TRACE_LLM_API_KEY`` /
``TRACE_LLM_MODEL``, then the constructor's ``llm_*`` defaults, then what ``byok set`` /
``byok use`` stored (the Node SDK follows the same table). The Trace token: ``token=``,
then ``TRACE_API_TOKEN``, then the stored login.

``to_dict(result)`` gives any result or event the JSON shape the CLI's ``--json``
prints. Errors are the typed exceptions of ``domain.errors`` (re-exported here), never
``SystemExit`` and never an httpx exception; each message ends with the fix and none
carries a key. See docs/sdk.md.
"""

from __future__ import annotations

from typing import Any

from application.auth_status import AuthReport
from application.billing_status import BillingReport
from application.chat import ChatFinished, ChatOutput, ChatReply, ToolFinished, ToolRun
from application.login import LoginResult
from application.remove_key import RemoveKeyResult
from application.select_model import SelectModelResult
from application.set_key import SetKeyResult
from application.show_status import StatusReport
from application.use_provider import UseProviderResult
from domain.billing import BillingMode
from domain.chat import (
    FileEdit,
    StatusUpdate,
    StreamError,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
    Usage,
)
from domain.errors import (
    AmbiguousCredentialError,
    AuthenticationRejectedError,
    BackendError,
    BackendUnavailableError,
    CorruptFileError,
    DeviceLoginUnavailableError,
    EnvOverrideError,
    InsecurePermissionsError,
    InsecureTransportError,
    InvalidInputError,
    InvalidKeyError,
    InvalidModelError,
    InvalidSettingError,
    InvalidTokenError,
    KeychainUnavailableError,
    KeyHelperError,
    KeyRejectedError,
    LoginFailedError,
    MissingConfigurationError,
    MissingKeyError,
    MissingNamedKeyError,
    NotLoggedInError,
    PlanRestrictionError,
    ProjectFileError,
    ProtocolError,
    ProviderUnreachableError,
    QuotaExhaustedError,
    StorageError,
    TraceError,
    UnknownProviderError,
    UnreadableFileError,
    UntrustedLocationError,
)
from domain.notices import Notice, NoticeCode
from domain.resolution import Resolution
from domain.verification import KeyVerification, Verdict
from entrypoints.sdk.aio import AsyncTrace
from entrypoints.sdk.client import Trace, TraceNotice
from entrypoints.sdk.options import ChatOptions, TraceOptions

__all__ = [
    "AmbiguousCredentialError",
    "AsyncTrace",
    "AuthReport",
    "AuthenticationRejectedError",
    "BackendError",
    "BackendUnavailableError",
    "BillingMode",
    "BillingReport",
    "ChatFinished",
    "ChatOptions",
    "ChatOutput",
    "ChatReply",
    "CorruptFileError",
    "DeviceLoginUnavailableError",
    "EnvOverrideError",
    "FileEdit",
    "InsecurePermissionsError",
    "InsecureTransportError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidModelError",
    "InvalidSettingError",
    "InvalidTokenError",
    "KeyHelperError",
    "KeyRejectedError",
    "KeyVerification",
    "KeychainUnavailableError",
    "LoginFailedError",
    "LoginResult",
    "MissingConfigurationError",
    "MissingKeyError",
    "MissingNamedKeyError",
    "NotLoggedInError",
    "Notice",
    "NoticeCode",
    "PlanRestrictionError",
    "ProjectFileError",
    "ProtocolError",
    "ProviderUnreachableError",
    "QuotaExhaustedError",
    "RemoveKeyResult",
    "Resolution",
    "SelectModelResult",
    "SetKeyResult",
    "StatusReport",
    "StatusUpdate",
    "StorageError",
    "StreamError",
    "TextDelta",
    "Thinking",
    "ToolCall",
    "ToolFinished",
    "ToolResult",
    "ToolRun",
    "Trace",
    "TraceError",
    "TraceNotice",
    "TraceOptions",
    "UnknownProviderError",
    "UnreadableFileError",
    "UntrustedLocationError",
    "Usage",
    "UseProviderResult",
    "Verdict",
    "to_dict",
]


def to_dict(result: object) -> Any:
    """``result`` (any result or event of this SDK) as the JSON data the CLI's ``--json`` prints."""
    from entrypoints.presentation import to_data

    return to_data(result)
