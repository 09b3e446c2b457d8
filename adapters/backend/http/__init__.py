"""The Trace backend over HTTP (httpx + server-sent events).

``open_http_backend`` is what the composition root builds: it loads the HTTP stack
(httpx costs ~100 ms to import) only when a command first talks to the backend, and
closes the connection pool when the runtime shuts down. ``HttpTraceBackend`` itself is
importable by name for tests and SDK users who build one by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from application.ports import TraceBackend
from domain.runtime import RuntimeConfig

if TYPE_CHECKING:
    from adapters.backend.http.client import HttpTraceBackend

__all__ = ["HttpTraceBackend", "open_http_backend"]


def open_http_backend(
    config: RuntimeConfig, *, warn: Callable[[str], None]
) -> Iterator[TraceBackend]:
    """The backend at ``config``'s base URL and API version; closed when the runtime closes.

    Raises ``InvalidSettingError`` for a base URL or API version that does not parse,
    and ``InsecureTransportError`` for plain http off this machine.
    """
    from adapters.backend.http.client import HttpTraceBackend

    backend = HttpTraceBackend(
        config.base_url.get(), api_version=config.api_version.get(), on_warning=warn
    )
    try:
        yield backend
    finally:
        backend.close()


def __getattr__(name: str) -> object:
    """Import ``HttpTraceBackend`` (and httpx) only when it is asked for."""
    if name == "HttpTraceBackend":
        from adapters.backend.http.client import HttpTraceBackend

        return HttpTraceBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
