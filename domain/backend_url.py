"""Where the Trace backend lives, and where a credential may be sent (DESIGN section 5).

Pure rules over URL strings (no I/O, no resolver): the backend URLs by ``backend.env``,
what a valid base URL and API version look like, which hosts count as loopback, where
a key or token may be sent, and what may be opened in the user's browser. The one rule
that needs the resolver (pinning ``localhost``) lives in the HTTP adapter.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from domain.errors import InsecureTransportError, InvalidSettingError

if TYPE_CHECKING:
    from urllib.parse import SplitResult

PRODUCTION_URL = "https://api.buildwithtrace.com"
LOCAL_URL = "http://localhost:8000"
BACKEND_URLS = {"production": PRODUCTION_URL, "local": LOCAL_URL}
# Patterns are compiled (and cached by ``re``) where they are first used, and urllib and
# ipaddress imported there: every command imports this module, few check a URL.
_VERSION = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_URL_FIX = "set TRACE_BASE_URL to an https:// URL (or unset it to use production)"


def _split(url: str) -> SplitResult:
    from urllib.parse import urlsplit

    return urlsplit(url)


def normalize_base_url(url: str) -> str:
    """``url`` without surrounding blanks or trailing slash; raises for a non-http(s) URL."""
    cleaned = url.strip().rstrip("/")
    try:
        parts = _split(cleaned)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidSettingError("the Trace base URL is not a valid URL", _URL_FIX) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSettingError(
            f"the Trace base URL must be http(s)://host[:port], got {redact_url(cleaned)!r}",
            _URL_FIX,
        )
    if not _plain_netloc(parts.netloc.rpartition("@")[2]):
        raise InvalidSettingError(
            "the Trace base URL's host is not a plain host name or [IPv6] address "
            "(only host[:port] may follow the scheme)",
            _URL_FIX,
        )
    return cleaned


# host[:port] and nothing else: a DNS name (ASCII; IDNs in their xn-- form) or a
# bracketed IPv6 literal. urlsplit accepts more than HTTP clients do ("[::1]evil.com"),
# and a URL the client then refuses would fail with its words ("unexpected InvalidURL").
_NETLOC = (
    r"(?:(?P<name>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?)"
    r"|\[(?P<v6>[0-9A-Fa-f:.]+)\])(?::[0-9]{1,5})?"
)


def _plain_netloc(netloc: str) -> bool:
    match = re.fullmatch(_NETLOC, netloc)
    if match is None:
        return False
    if match["v6"] is not None:
        import ipaddress

        try:
            ipaddress.IPv6Address(match["v6"])
        except ValueError:
            return False
    return True


def check_api_version(version: str) -> str:
    """``version`` when it is a safe path segment (``latest``, ``v1``...); raises otherwise."""
    if not re.fullmatch(_VERSION, version):
        raise InvalidSettingError(
            f"invalid API version {version[:40]!r}",
            "set TRACE_API_VERSION to a version such as latest or v1",
        )
    return version


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and the literal loopback addresses (127.0.0.0/8, ``::1``).

    Nothing else: ``localhost.`` (with the root dot) skips /etc/hosts and asks DNS, and
    spellings such as ``127.1`` or ``2130706433`` are left to resolvers that differ.
    ``localhost`` itself is pinned to a loopback address by the HTTP adapter
    (``adapters.backend.http.urls.pin_localhost``).
    """
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_transport(url: str) -> None:
    """Raise InsecureTransportError unless ``url`` is https, or http to a loopback host."""
    try:
        parts = _split(url)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if parts is not None and host:
        if parts.scheme == "https":
            return
        if parts.scheme == "http" and is_loopback_host(host):
            return
    raise InsecureTransportError(redact_url(url))


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment, so an error message never shows a secret."""
    try:
        parts = _split(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable URL)"
    if ":" in host:
        host = f"[{host}]"
    scheme = f"{parts.scheme}://" if parts.scheme else ""
    return f"{scheme}{host}{port}{parts.path}"[:200]


# RFC 3986's characters only: no blanks, controls, backslashes or non-ASCII, so what we
# print is what the browser opens (browsers read "\" as "/", and an IDN host would show
# one thing and open another).
_URI_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]{1,2048}"
_USER_CODE = r"[A-Za-z0-9](?:[A-Za-z0-9-]{2,30})[A-Za-z0-9]"


def is_safe_browser_url(url: str) -> bool:
    """True for a URL we may open in the user's browser: https, or http to a loopback host.

    Nothing else: no ``file:``, ``javascript:`` or custom schemes (which would start an
    arbitrary program), no user info (``https://trace.com@evil.example``), no characters
    outside RFC 3986.
    """
    if not re.fullmatch(_URI_CHARS, url):
        return False
    try:
        parts = _split(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        return False
    if not host or "@" in parts.netloc:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback_host(host)


def is_valid_user_code(code: str) -> bool:
    """True for a user code we may print: 4 to 32 letters, digits and inner dashes."""
    return re.fullmatch(_USER_CODE, code) is not None
