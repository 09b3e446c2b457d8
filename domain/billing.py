"""Who pays for AI requests."""

from __future__ import annotations

import enum


class BillingMode(enum.Enum):
    """The party billed for model usage."""

    TRACE_PLAN = "trace_plan"
    PROVIDER = "provider"

    def describe(self, provider_label: str) -> str:
        """Plain words for a person: who pays with this mode."""
        if self is BillingMode.TRACE_PLAN:
            return "your Trace plan (monthly budget / credits)"
        return f"your own {provider_label} account"
