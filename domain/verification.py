"""Verifying a key with its own provider: the endpoints and how their answers read (pure).

``GET <base>/v1/models`` (Anthropic, OpenAI) or ``<base>/v1beta/models`` (Gemini), with
the key in a header (never in the URL, so no log or proxy line ever holds it). The
base URLs can be pointed elsewhere (a proxy, a test stub) with ``TRACE_<PROVIDER>_BASE_URL``;
the same transport rule as the Trace backend applies: https, or http to a loopback address.
"""

from __future__ import annotations

import enum

import attrs

from domain.credential import KeySource
from domain.errors import KeyRejectedError, ProviderUnreachableError, TraceError
from domain.provider import Provider
from domain.value import Value

VERIFY_TIMEOUT = 10.0  # seconds for the whole check: connect, answer


class Verdict(enum.Enum):
    """What the provider said about a key."""

    VALID = "valid"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"


@attrs.frozen(eq=False, repr=False)
class ProviderEndpoint(Value):
    """Where a provider lists its models, and how it takes a key."""

    default_base_url: str
    base_url_env: str
    path: str
    key_header: str
    key_prefix: str = ""  # e.g. "Bearer "
    extra_headers: tuple[tuple[str, str], ...] = ()


ENDPOINTS: dict[Provider, ProviderEndpoint] = {
    Provider.ANTHROPIC: ProviderEndpoint(
        "https://api.anthropic.com",
        "TRACE_ANTHROPIC_BASE_URL",
        "/v1/models",
        "x-api-key",
        extra_headers=(("anthropic-version", "2023-06-01"),),
    ),
    Provider.OPENAI: ProviderEndpoint(
        "https://api.openai.com", "TRACE_OPENAI_BASE_URL", "/v1/models", "Authorization", "Bearer "
    ),
    Provider.GEMINI: ProviderEndpoint(
        "https://generativelanguage.googleapis.com",
        "TRACE_GEMINI_BASE_URL",
        "/v1beta/models",
        "x-goog-api-key",
    ),
}
BASE_URL_VARIABLES = tuple(endpoint.base_url_env for endpoint in ENDPOINTS.values())


@attrs.frozen(eq=False, repr=False)
class KeyVerification(Value):
    """The provider's verdict on a key, with the HTTP status and a short reason."""

    provider: Provider
    verdict: Verdict
    status: int | None
    detail: str
    masked_key: str | None = None
    source: KeySource | None = None  # where the checked key came from (set by the use-case)

    @property
    def valid(self) -> bool:
        """True when the provider accepted the key."""
        return self.verdict is Verdict.VALID

    @property
    def failure(self) -> TraceError | None:
        """The error a rejected or unchecked key means for ``byok verify`` (its exit code)."""
        if self.verdict is Verdict.REJECTED:
            return KeyRejectedError(self.provider.value, self.status or 401, stored=True)
        if self.verdict is Verdict.UNREACHABLE:
            return ProviderUnreachableError(self.provider.value, self.detail)
        return None


def classify(provider: Provider, status: int, body: bytes) -> Verdict:
    """The verdict for an HTTP answer of ``provider``'s models endpoint.

    2xx valid; 401 and 403 rejected; Gemini answers an unknown key with 400 and the
    reason ``API_KEY_INVALID``, which is rejected too; anything else says nothing about
    the key (unreachable, with the status as the reason).
    """
    if 200 <= status < 300:
        return Verdict.VALID
    if status in (401, 403):
        return Verdict.REJECTED
    if provider is Provider.GEMINI and status == 400 and b"API_KEY_INVALID" in body[:65536]:
        return Verdict.REJECTED
    return Verdict.UNREACHABLE


def verdict_detail(verdict: Verdict, status: int) -> str:
    """A few words for a verdict reached from an HTTP status."""
    if verdict is Verdict.VALID:
        return f"the models endpoint accepted the key (HTTP {status})"
    if verdict is Verdict.REJECTED:
        return f"the provider rejected the key (HTTP {status})"
    return f"the models endpoint answered HTTP {status}, which says nothing about the key"
