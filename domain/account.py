"""The Trace account as the backend reports it, and which kind of client is asking.

Kept apart from :mod:`domain.chat` (which re-exports them): ``auth``, ``billing`` and the
device login need these three and none of the chat events.
"""

from __future__ import annotations

import enum

import attrs

from domain.value import Value


class ClientKind(enum.Enum):
    """Which driving adapter sent the request."""

    CLI = "cli"
    SDK = "sdk"


@attrs.frozen(eq=False, repr=False)
class Profile(Value):
    """The Trace account behind a token."""

    email: str | None
    plan: str | None


@attrs.frozen(eq=False, repr=False)
class Quota(Value):
    """The Trace plan's usage figures."""

    plan: str | None
    monthly_cost_used: float | None
    monthly_cost_cap: float | None
    credits_remaining: float | None
