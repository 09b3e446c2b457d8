"""The stored state as the CLI sees it: the use-case in-process, and the CLI in a subprocess."""

from __future__ import annotations

import uuid
from typing import Any

from application.show_status import StatusReport
from entrypoints.runtime import Runtime
from tests.e2e.cli_runner import run


def new_key(prefix: str) -> str:
    """A unique, well-formed key that must never show up anywhere but the store."""
    return f"{prefix}canary{uuid.uuid4().hex}"


def status_now() -> StatusReport:
    """``ShowStatus`` on a fresh container, as the CLI builds it."""
    report: StatusReport = Runtime().use_cases.show_status().execute()
    return report


def cli_status(env_extra: dict[str, str | None] | None = None) -> dict[str, Any]:
    """``buildwithtrace byok status --json``, run as a user runs it."""
    result = run(["byok", "status", "--json"], env_extra=env_extra)
    assert result.code == 0, result
    data: dict[str, Any] = result.json()
    return data


def cli_rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The status document's providers by name."""
    return {row["provider"]: row for row in data["providers"]}
