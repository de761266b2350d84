import type { Timers } from './clock.js';
import type { AttemptReport } from './errors.js';

/** What a retry strategy learns about the attempt that just failed. Frozen. */
export interface RetryContext {
  /** The failed attempt's report: every node's answer. */
  readonly lastAttempt: AttemptReport;
  /** Milliseconds since the acquisition started, on the monotonic clock. */
  readonly elapsedMs: number;
  /** A uniform draw in [0, 1) from the Redlock's injected randomness, for jitter. */
  random(): number;
}

/**
 * Called after failed attempt number `attempt` (1, 2, ...). Returns the delay in ms before the
 * next attempt; a negative number or `null` stops retrying. Still capped by `retryCount`.
 * The design's `(attempt: number) => number` shape is a valid strategy.
 */
export type RetryStrategy = (attempt: number, context: RetryContext) => number | null;

/** `delayMs + uniform(-jitterMs, +jitterMs)`, the default with retryDelay and retryJitter. */
export function jitteredRetry(delayMs: number, jitterMs: number): RetryStrategy {
  return (_attempt, context) => delayMs + (2 * context.random() - 1) * jitterMs;
}

/** Options of `exponentialRetry`. */
export interface ExponentialRetryOptions {
  /** Delay before the second attempt, in ms. @default 50 */
  readonly baseMs?: number;
  /** Growth per attempt. @default 2 */
  readonly factor?: number;
  /** Upper bound of any one delay, in ms. @default 2000 */
  readonly maxMs?: number;
}

/**
 * Exponential backoff with full jitter: uniform(0, min(maxMs, baseMs × factor^(attempt−1))).
 * Spreads contenders apart, which is what breaks split votes.
 */
export function exponentialRetry(options: ExponentialRetryOptions = {}): RetryStrategy {
  const { baseMs = 50, factor = 2, maxMs = 2000 } = options;
  return (attempt, context) => context.random() * Math.min(maxMs, baseMs * factor ** (attempt - 1));
}

/** Sleep on the injected timers; rejects with `signal.reason` unchanged when aborted. */
export function sleep(timers: Timers, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      timers.clearTimeout(handle);
      reject(signal!.reason);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
