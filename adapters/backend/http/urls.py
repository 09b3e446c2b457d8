"""Pinning ``localhost`` to the loopback address it resolves to (the one rule needing I/O).

The pure rules (loopback hosts, where a credential may go, the backend URLs) are in
:mod:`domain.backend_url`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from domain.backend_url import is_loopback_host, redact_url
from domain.errors import InsecureTransportError

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
