"""What every tool needs: the sandbox, the write locks and the limits."""

from __future__ import annotations

import attrs

from adapters.local_tools.atomic import PathLocks
from adapters.local_tools.sandbox import Sandbox


@attrs.frozen
class ToolContext:
    """Shared by all calls of one ``LocalToolRunner``."""

    sandbox: Sandbox
    locks: PathLocks
    max_result_chars: int
    max_read_bytes: int
    kicad_cli: str | None
    eda_timeout: float
