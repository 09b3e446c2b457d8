"""ResolveKey: what a chat request would use (provider, key and its source, model), sent nowhere."""

from __future__ import annotations

from application.services.key_resolution import KeyResolution
from domain.account import ClientKind
from domain.keys import HelperReason
from domain.resolution import LlmChoice, Resolution


class ResolveKey:
    """Answer "which key, from where, who pays" for a request without sending it."""

    def __init__(self, *, key_resolution: KeyResolution) -> None:
        self._key_resolution = key_resolution

    def execute(
        self,
        call: LlmChoice | None = None,
        client: LlmChoice | None = None,
        *,
        client_kind: ClientKind = ClientKind.SDK,
        project_dir: str | None = None,
    ) -> Resolution:
        """The SDK order (the CLI skips ``TRACE_LLM_*``); raises ``MissingKeyError`` and the
        parse errors of the winning source, as a chat would. A key helper that supplies
        the key runs (reason ``sdk``/``chat``), as for a chat; ``project_dir``: where a
        project file may apply."""
        reason = HelperReason.SDK if client_kind is ClientKind.SDK else HelperReason.CHAT
        return self._key_resolution.for_request(
            call,
            client,
            use_sdk_environment=client_kind is ClientKind.SDK,
            project_dir=project_dir,
            reason=reason,
        )
