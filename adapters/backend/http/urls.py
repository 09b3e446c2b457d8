"""Where the Trace backend lives, and where a credential may be sent (DESIGN section 5).

No httpx here: the CLI computes the base URL for status output without loading the
HTTP stack.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from domain.errors import InsecureTransportError, InvalidSettingError

PRODUCTION_URL = "https://api.buildwithtrace.com"
LOCAL_URL = "http://localhost:8000"
_BY_ENV = {"production": PRODUCTION_URL, "local": LOCAL_URL}
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_URL_FIX = "set TRACE_BASE_URL to an https:// URL (or unset it to use production)"


def base_url_for(env_base_url: str | None, backend_env: str | None) -> str:
    """The backend's base URL: ``TRACE_BASE_URL`` when set (non-blank), else by ``env`` setting."""
    if env_base_url is not None and env_base_url.strip():
        return normalize_base_url(env_base_url)
    name = (backend_env or "production").strip().lower()
    try:
        return _BY_ENV[name]
    except KeyError:
        raise InvalidSettingError(
            f"unknown backend env {backend_env!r}",
            "buildwithtrace config set backend.env production|local",
        ) from None


def normalize_base_url(url: str) -> str:
    """``url`` without surrounding blanks or trailing slash; raises for a non-http(s) URL."""
    cleaned = url.strip().rstrip("/")
    try:
        parts = urlsplit(cleaned)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidSettingError("the Trace base URL is not a valid URL", _URL_FIX) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSettingError(
            f"the Trace base URL must be http(s)://host[:port], got {redact_url(cleaned)!r}",
            _URL_FIX,
        )
    return cleaned


def check_api_version(version: str) -> str:
    """``version`` when it is a safe path segment (``latest``, ``v1``...); raises otherwise."""
    if not _VERSION.fullmatch(version):
        raise InvalidSettingError(
            f"invalid API version {version[:40]!r}",
            "set TRACE_API_VERSION to a version such as latest or v1",
        )
    return version


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and the literal loopback addresses (127.0.0.0/8, ``::1``).

    Nothing else: ``localhost.`` (with the root dot) skips /etc/hosts and asks DNS, and
    spellings such as ``127.1`` or ``2130706433`` are left to resolvers that differ.
    ``localhost`` itself is pinned to a loopback address by :func:`pin_localhost`.
    """
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_transport(url: str) -> None:
    """Raise InsecureTransportError unless ``url`` is https, or http to a loopback host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if parts is not None and host:
        if parts.scheme == "https":
            return
        if parts.scheme == "http" and is_loopback_host(host):
            return
    raise InsecureTransportError(redact_url(url))


Resolver = Callable[..., Sequence[tuple[Any, ...]]]


def pin_localhost(url: str, resolve: Resolver = socket.getaddrinfo) -> tuple[str, str | None]:
    """``url`` with an http ``localhost`` replaced by the loopback address it resolves to.

    Returns the URL to connect to and the ``Host`` header to send (None when unchanged).
    ``localhost`` is resolved once, here, through the system's resolver (the hosts file
    first), and every address it yields must be loopback; the connection then goes to
    that literal, so no later lookup (a DNS answer, a changed hosts file) can send a key
    in clear text off the machine. https needs none of this: TLS checks the peer.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or (parts.hostname or "").lower() != "localhost":
        return url, None
    port = parts.port or 80
    try:
        found = resolve("localhost", port, type=socket.SOCK_STREAM)
    except OSError:
        found = []
    addresses = [str(info[4][0]) for info in found]
    if not addresses or not all(is_loopback_host(address) for address in addresses):
        shown = ", ".join(sorted(set(addresses))[:4]) or "nothing"
        raise InsecureTransportError(
            f"{redact_url(url)} (localhost resolves to {shown}, not only loopback addresses)"
        )
    # Local development servers bind 127.0.0.1 far more often than ::1.
    address = next((a for a in addresses if ":" not in a), addresses[0])
    literal = f"[{address}]" if ":" in address else address
    pinned = parts._replace(netloc=f"{literal}:{port}")
    return pinned.geturl(), parts.netloc


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment, so an error message never shows a secret."""
    try:
        parts = urlsplit(url)
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
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]{1,2048}")
_USER_CODE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{2,30})[A-Za-z0-9]")


def is_safe_browser_url(url: str) -> bool:
    """True for a URL we may open in the user's browser: https, or http to a loopback host.

    Nothing else: no ``file:``, ``javascript:`` or custom schemes (which would start an
    arbitrary program), no user info (``https://trace.com@evil.example``), no characters
    outside RFC 3986.
    """
    if not _URI_CHARS.fullmatch(url):
        return False
    try:
        parts = urlsplit(url)
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
    return _USER_CODE.fullmatch(code) is not None
