/** Pure drift and validity arithmetic (R4). All times in ms on the monotonic clock. */

/** Largest TTL accepted: the largest delay a Node timer can wait (about 24.8 days). */
export const MAX_TTL_MS = 2_147_483_647;

/** drift = floor(ttl × driftFactor) + 2 ms: rate error plus Redis's 1 ms expiry precision and 1 ms minimum. */
export function driftMs(ttlMs: number, driftFactor: number): number {
  return Math.floor(ttlMs * driftFactor) + 2;
}

/** The moment a lock taken with a round started at `startMs` stops being safe to act under. */
export function deadlineMs(startMs: number, ttlMs: number, driftFactor: number): number {
  return startMs + ttlMs - driftMs(ttlMs, driftFactor);
}

/**
 * The least validity (ttl − drift) a TTL must leave, in ms. The per-node timeout is capped at the
 * validity, so the validity must hold one round trip and the event-loop turns that carry it:
 * Node's timers have a 1 ms granularity and a minor GC pause takes a few ms, so a 1 ms validity
 * (the old floor, ttl 3) timed out on healthy loopback nodes about half the time. 10 ms is ten
 * timer ticks.
 */
export const MIN_VALIDITY_MS = 10;

/**
 * The largest driftFactor accepted (docs/adr/020-drift-factor-range.md). Up to it, validity
 * (ttl − drift) never falls as ttl grows, even in floating point: floor(ttl × driftFactor) rises by
 * at most 1 per ms of ttl. Past it the validity is a sliver of the TTL, and near 1 no TTL a timer
 * can wait leaves MIN_VALIDITY_MS.
 */
export const MAX_DRIFT_FACTOR = 0.99;

/**
 * The smallest TTL: the least `ttl` with `ttl − (floor(ttl × driftFactor) + 2) ≥ MIN_VALIDITY_MS`
 * (12 ms at the default driftFactor 0.01, 1,101 ms at MAX_DRIFT_FACTOR). A binary search, since
 * the validity never falls as ttl grows for a driftFactor in [0, MAX_DRIFT_FACTOR]: at most 31
 * steps, none at all where the least conceivable TTL already suffices.
 */
export function minTtlMs(driftFactor: number): number {
  let low = MIN_VALIDITY_MS + 2;
  if (low - driftMs(low, driftFactor) >= MIN_VALIDITY_MS) return low;
  let high = MAX_TTL_MS;
  // low leaves too little, high enough (MAX_TTL_MS leaves millions of ms up to MAX_DRIFT_FACTOR).
  while (high - low > 1) {
    const mid = low + Math.floor((high - low) / 2);
    if (mid - driftMs(mid, driftFactor) >= MIN_VALIDITY_MS) high = mid;
    else low = mid;
  }
  return high;
}

/**
 * The per-node timeout for a round with this TTL: the configured one, or max(50 ms, 5% of ttl),
 * never more than ttl − drift (past that a vote could not count anyway).
 */
export function nodeTimeoutMs(ttlMs: number, driftFactor: number, configured: number | undefined): number {
  const cap = ttlMs - driftMs(ttlMs, driftFactor);
  return Math.max(1, Math.min(wantedTimeoutMs(ttlMs, configured), cap));
}

/** True when the validity, not the configured or default per-node timeout, bounds a round. */
export function timeoutCappedByValidity(
  ttlMs: number,
  driftFactor: number,
  configured: number | undefined,
): boolean {
  return nodeTimeoutMs(ttlMs, driftFactor, configured) < wantedTimeoutMs(ttlMs, configured);
}

function wantedTimeoutMs(ttlMs: number, configured: number | undefined): number {
  return configured ?? Math.max(50, Math.floor(ttlMs * 0.05));
}

/** q = floor(N/2) + 1 (R1). */
export function quorumOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The votes a semaphore of `permits` needs on `n` nodes: floor(n × permits / (permits + 1)) + 1,
 * the smallest q with (permits + 1) × q > n × permits. Each node holds at most `permits` live
 * leases, so permits + 1 holders on q nodes each would need more lease slots than the n nodes
 * have (docs/semaphore.md, "The counting argument"). One permit gives the majority of R1.
 */
export function countingQuorumOf(n: number, permits: number): number {
  return Math.floor((n * permits) / (permits + 1)) + 1;
}

/**
 * How long after a send with `ttl` its keys may outlive the sender's knowledge: the node's TTL,
 * plus at most one per-node timeout (never above ttl) and the drift. Twice the TTL covers both.
 */
export function forgetAfterMs(ttl: number): number {
  return 2 * ttl;
}
