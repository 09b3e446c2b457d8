/** When to try a request again: the Python client's policy (`adapters/backend/http/retry.py`). */

/** Statuses worth another try. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503]);

/** Seconds to wait from a Retry-After header (delay-seconds or HTTP-date); null if unusable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (text === "") return null;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    const seconds = Number(text);
    return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
  }
  // An HTTP-date is always GMT; a date without a zone is not one.
  if (!/\b(GMT|UTC|[+-]\d{4})\b/i.test(text)) return null;
  const when = Date.parse(text);
  return Number.isNaN(when) ? null : Math.max(0, (when - nowMs) / 1000);
}

/** Bounded retries: at most `maxRetries` more attempts and `maxWait` seconds of waiting. */
export class RetryPolicy {
  constructor(
    readonly maxRetries = 4,
    readonly maxWait = 30,
    readonly base = 0.5,
    readonly cap = 8,
    readonly jitter: () => number = Math.random,
    readonly clock: () => number = Date.now,
  ) {}

  /** Seconds to sleep before retry number `retry` (1-based); null when we must give up. */
  waitBefore(retry: number, retryAfter: string | null, waited: number): number | null {
    if (retry > this.maxRetries) return null;
    const asked = parseRetryAfter(retryAfter, this.clock());
    const left = this.maxWait - waited;
    if (asked !== null) return asked <= left ? asked : null;
    if (left <= 0) return null;
    const step = Math.min(this.cap, this.base * 2 ** (retry - 1));
    return Math.min(left, step / 2 + (this.jitter() * step) / 2);
  }
}
