"""Who pays for AI requests, in the one wording every surface uses (CLI, SDK, panel, docs)."""

from __future__ import annotations

import enum


class BillingMode(enum.Enum):
    """The party billed for model usage."""

    TRACE_PLAN = "trace_plan"
    PROVIDER = "provider"

    def describe(self, account: str) -> str:
        """Who pays, in plain words: ``account`` is the provider's billed account (BYOK only).

        The one source of these words: ``Provider.payer`` calls it, and the README, the
        docs, the panel and the Node SDK's provider table repeat exactly what it returns
        (tests compare them).
        """
        if self is BillingMode.TRACE_PLAN:
            return "your Trace plan (monthly budget / credits)"
        return f"your own {account}"
