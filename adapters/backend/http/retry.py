"""When to try a request again: backoff with jitter, Retry-After, a count and a time budget."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import attrs

from domain.value import Value

RETRYABLE_STATUS = frozenset({429, 502, 503})


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None  # an HTTP-date is always GMT; a zoneless date is not one
        return max(0.0, when.timestamp() - now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


@attrs.frozen(eq=False, repr=False)
class RetryPolicy(Value):
    """Bounded retries: at most ``max_retries`` more attempts and ``max_wait`` seconds of waiting.

    A computed wait grows ``base * 2**n`` up to ``cap`` with "equal jitter" (half fixed,
    half random) so many clients do not retry in lockstep. A server's Retry-After is
    honoured as given; if it asks for more than the budget left we stop rather than
    retry early.
    """

    max_retries: int = 4
    max_wait: float = 30.0
    base: float = 0.5
    cap: float = 8.0
    jitter: Callable[[], float] = random.random
    clock: Callable[[], float] = time.time

    def wait_before(self, retry: int, retry_after: str | None, waited: float) -> float | None:
        """Seconds to sleep before retry number ``retry`` (1-based); None when we must give up."""
        if retry > self.max_retries:
            return None
        asked = parse_retry_after(retry_after, self.clock())
        left = self.max_wait - waited
        if asked is not None:
            return asked if asked <= left else None
        if left <= 0:
            return None
        step = min(self.cap, self.base * 2.0 ** (retry - 1))
        wait: float = step / 2 + self.jitter() * step / 2
        return min(left, wait)
