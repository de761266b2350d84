import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AttemptReport } from '../../src/errors.js';
import { exponentialRetry, jitteredRetry, type RetryContext, sleep } from '../../src/retry.js';
import { VirtualTime } from '../support/virtual-time.js';

/** A retry context whose uniform draw is always `draw`. */
function drawing(draw: number): RetryContext {
  return { lastAttempt: {} as AttemptReport, elapsedMs: 0, random: () => draw };
}

describe('retry strategies', () => {
  it('jitteredRetry is delay + uniform(−jitter, +jitter)', () => {
    const strategy = jitteredRetry(200, 50);
    expect(strategy(1, drawing(0))).toBe(150);
    expect(strategy(1, drawing(0.5))).toBe(200);
    expect(strategy(7, drawing(0.75))).toBe(225);
  });

  it('exponentialRetry draws uniform(0, min(maxMs, baseMs × factor^(attempt − 1)))', () => {
    const strategy = exponentialRetry({ baseMs: 100, factor: 3, maxMs: 1_000 });
    expect([1, 2, 3, 4, 5].map((attempt) => strategy(attempt, drawing(0.5)))).toEqual([
      50, 150, 450, 500, 500,
    ]);
    expect(strategy(2, drawing(0))).toBe(0);
    expect(strategy(2, drawing(0.25))).toBe(75);
  });

  it('exponentialRetry defaults to base 50 ms, factor 2, at most 2 s', () => {
    const strategy = exponentialRetry();
    expect([1, 2, 3, 6, 7, 20].map((attempt) => strategy(attempt, drawing(0.5)))).toEqual([
      25, 50, 100, 800, 1_000, 1_000,
    ]);
  });
});

describe('sleep on the injected timers', () => {
  it('resolves after the delay, and leaves no listener on the signal', async () => {
    const time = new VirtualTime();
    const controller = new AbortController();
    const start = time.now();
    await time.run(sleep(time, 300, controller.signal));
    expect(time.now() - start).toBe(300);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // A later abort has nothing to act on.
    controller.abort(new Error('late'));
    expect(time.pendingTimers).toBe(0);
  });

  it('rejects with the signal’s reason, unchanged, when aborted meanwhile; its timer is cleared', async () => {
    const time = new VirtualTime();
    const controller = new AbortController();
    const reason = new Error('stop');
    const slept = sleep(time, 1_000, controller.signal);
    time.setTimeout(() => controller.abort(reason), 100);
    await expect(time.run(slept)).rejects.toBe(reason);
    expect(time.now()).toBe(1_100);
    expect(time.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once with the reason of a signal already aborted, setting no timer', async () => {
    const time = new VirtualTime();
    const reason = new Error('already');
    await expect(sleep(time, 1_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(time.pendingTimers).toBe(0);
  });

  it('works without a signal', async () => {
    const time = new VirtualTime();
    await time.run(sleep(time, 5, undefined));
    expect(time.now()).toBe(1_005);
  });
});
