"""The Trace backend over HTTP (httpx + server-sent events).

``base_url_for`` and the URL constants import without httpx; ``HttpTraceBackend`` loads
the HTTP stack on first use, so commands that never talk to the backend stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.backend.http.urls import LOCAL_URL, PRODUCTION_URL, base_url_for

if TYPE_CHECKING:
    from adapters.backend.http.client import HttpTraceBackend

__all__ = ["LOCAL_URL", "PRODUCTION_URL", "HttpTraceBackend", "base_url_for"]


def __getattr__(name: str) -> object:
    """Import ``HttpTraceBackend`` (and httpx) only when it is asked for."""
    if name == "HttpTraceBackend":
        from adapters.backend.http.client import HttpTraceBackend

        return HttpTraceBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
