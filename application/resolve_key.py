"""ResolveKey: what a chat request would use (provider, key and its source, model), sent nowhere."""

from __future__ import annotations

from application.services.key_resolution import KeyResolution
from domain.account import ClientKind
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
    ) -> Resolution:
        """The SDK order (the CLI skips ``TRACE_LLM_*``); raises ``MissingKeyError`` and the
        parse errors of the winning source, as a chat would."""
        return self._key_resolution.for_request(
            call, client, use_sdk_environment=client_kind is ClientKind.SDK
        )
