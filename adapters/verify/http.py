"""``HttpKeyVerifier``: asks a provider's models endpoint whether a key works.

The key goes to that provider only (the base URL of ``domain.verification.ENDPOINTS``
or the ``TRACE_<PROVIDER>_BASE_URL`` the runtime configuration read), in a header,
over https or to a loopback address (``localhost`` pinned like the backend's), with no
redirect followed (a redirect could carry the header elsewhere) and a proxy from the
environment used for https only. Every failure is a verdict, never an exception:
``unreachable`` with the reason. httpx is imported on the first check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.backend.http.urls import pin_localhost
from application.ports import KeyVerifier
from domain.backend_url import check_transport, is_loopback_host
from domain.provider import Provider
from domain.secret import Secret
from domain.verification import (
    ENDPOINTS,
    VERIFY_TIMEOUT,
    KeyVerification,
    Verdict,
    classify,
    verdict_detail,
)

if TYPE_CHECKING:
    import httpx

_BODY_BYTES = 64 * 1024


class HttpKeyVerifier(KeyVerifier):
    """The three providers' models endpoints, at ``base_urls`` (defaults: the real ones)."""

    def __init__(
        self,
        base_urls: Mapping[Provider, str] | None = None,
        *,
        timeout: float = VERIFY_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base_urls = dict(base_urls or {})
        self._timeout = timeout
        self._transport = transport

    def verify(self, provider: Provider, secret: Secret) -> KeyVerification:
        """GET the models list with ``secret``; the verdict (see the port)."""
        endpoint = ENDPOINTS[provider]
        base = self._base_urls.get(provider, endpoint.default_base_url).rstrip("/")
        url = base + endpoint.path
        check_transport(url)  # before anything is sent: https, or http to loopback
        masked = secret.masked()
        key = secret.reveal()
        if not key.isascii():
            return KeyVerification(
                provider,
                Verdict.UNREACHABLE,
                None,
                "the key contains non-ASCII characters and cannot be sent in a header",
                masked,
            )
        connect_url, host_header = pin_localhost(url)
        headers = {endpoint.key_header: endpoint.key_prefix + key, "Accept": "application/json"}
        headers.update(dict(endpoint.extra_headers))
        if host_header is not None:
            headers["Host"] = host_header
        import httpx

        host = httpx.URL(connect_url).host
        try:
            with (
                httpx.Client(
                    timeout=self._timeout,
                    follow_redirects=False,
                    trust_env=not is_loopback_host(host),
                    transport=self._transport,
                ) as client,
                client.stream("GET", connect_url, headers=headers) as response,
            ):
                body = _read_some(response)
                status = response.status_code
        except httpx.TransportError as exc:
            reason = _failure(exc)
            return KeyVerification(provider, Verdict.UNREACHABLE, None, reason, masked)
        except httpx.HTTPError:
            return KeyVerification(
                provider, Verdict.UNREACHABLE, None, "the answer could not be read", masked
            )
        verdict = classify(provider, status, body)
        detail = verdict_detail(verdict, status)
        if 300 <= status < 400:
            detail = f"the models endpoint redirected (HTTP {status}); redirects are not followed"
        return KeyVerification(provider, verdict, status, detail, masked)


def _failure(exc: httpx.TransportError) -> str:
    """A short, key-free reason (httpx messages carry no headers)."""
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return "connecting timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({str(exc)[:120] or 'connection failed'})"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the provider"
    return f"network error ({type(exc).__name__})"


def _read_some(response: httpx.Response) -> bytes:
    found = bytearray()
    for chunk in response.iter_bytes():
        found.extend(chunk)
        if len(found) >= _BODY_BYTES:
            break
    return bytes(found[:_BODY_BYTES])
