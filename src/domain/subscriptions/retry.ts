/** When a failed callback is tried again, and when it is given up as a dead letter. */
export interface RetryPolicy {
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
  /** The fraction of each delay that is randomly taken off. */
  jitter: number;
  giveUpAfterMs: number;
}

export type RetryDecision = { state: "pending"; nextAttemptAt: number } | { state: "dead" };

/**
 * After the `attempts`-th failed attempt (1 for the first), which started at `startedAt` and
 * ended at `now`, of a retry period that began at `firstAttemptAt`: exponential back-off with
 * jitter, or the receiver's `Retry-After` when it sent one. The last attempt starts when the
 * period ends, never before, so a delivery is tried for at least `giveUpAfterMs` before it
 * becomes a dead letter.
 */
export function nextRetry(
  policy: RetryPolicy,
  attempt: { attempts: number; firstAttemptAt: number; startedAt: number },
  now: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): RetryDecision {
  const { attempts, firstAttemptAt } = attempt;
  const end = firstAttemptAt + policy.giveUpAfterMs;
  if (attempt.startedAt >= end) return { state: "dead" };
  let delay: number;
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) {
    delay = Math.max(0, retryAfterMs);
  } else {
    const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempts - 1));
    delay = base * (1 - policy.jitter * random());
  }
  return { state: "pending", nextAttemptAt: Math.max(now, Math.min(end, Math.ceil(now + delay))) };
}

/** A `Retry-After` header (delay-seconds or an HTTP date) in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined | null, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
