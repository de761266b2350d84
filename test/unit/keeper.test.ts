import { describe, expect, it } from 'vitest';
import { LockAcquireError, LockLostError } from '../../src/errors.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 3_000;

function setup(options: RedlockOptions = {}) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const redlock = new Redlock(cluster.clients, { retryCount: 0, ...options, runtime: virtualRuntime(time) });
  return { time, cluster, redlock };
}

/** A critical section that works for `ms` of virtual time and reports when its signal aborted. */
function work(time: VirtualTime, ms: number, seen: { abortedAt?: number; reason?: unknown }) {
  return (signal: AbortSignal) =>
    new Promise<string>((resolve) => {
      signal.addEventListener('abort', () => {
        seen.abortedAt = time.now();
        seen.reason = signal.reason;
      });
      time.setTimeout(() => resolve('done'), ms);
    });
}

describe('using: auto-renew with a lost-lock signal (R11)', () => {
  it('renews a third of the way into each validity, returns the result, and releases', async () => {
    const { time, cluster, redlock } = setup();
    const seen: { abortedAt?: number } = {};
    const start = time.now();
    const result = await time.run(redlock.using('job', TTL, work(time, 10_000, seen)));
    expect(result).toBe('done');
    expect(seen.abortedAt).toBeUndefined();
    const renewals = cluster.scriptCalls('quorumlock:extend');
    // Validity 3000 − 32 = 2968: renewals every ~989 ms over 10 s.
    expect(new Set(renewals.map((c) => c.at)).size).toBe(Math.floor(10_000 / ((TTL - 32) / 3)));
    const firstRenew = renewals[0]!.at - start;
    expect(firstRenew).toBeCloseTo((TTL - 32) / 3, 0);
    expect(cluster.keys()).toEqual([]);
    expect(time.pendingTimers).toBe(0);
  });

  it('aborts the signal before the deadline when renewals keep failing, and rejects with the lost reason', async () => {
    const { time, cluster, redlock } = setup({ nodeTimeoutMs: 100 });
    const seen: { abortedAt?: number; reason?: unknown } = {};
    let deadline = 0;
    const pending = redlock.using('job', TTL, async (signal, lock) => {
      deadline = lock.deadlineMs;
      for (const i of [0, 1, 2]) cluster.set(i, { kind: 'blackhole' });
      return work(time, 60_000, seen)(signal);
    });
    const error = await time.run(pending).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).reason).toBe('expired');
    expect(seen.reason).toBe(error);
    expect(seen.abortedAt).toBeLessThan(deadline);
    // Never renewed after the deadline, and never again once lost.
    const extends_ = cluster.scriptCalls('quorumlock:extend');
    expect(Math.max(...extends_.map((c) => c.at))).toBeLessThan(deadline);
    await time.drain();
    expect(cluster.scriptCalls('quorumlock:extend')).toHaveLength(extends_.length);
  });

  it('aborts at once when a renew finds the lock held by someone else', async () => {
    const { time, cluster, redlock } = setup();
    const seen: { abortedAt?: number; reason?: unknown } = {};
    let deadline = 0;
    const pending = redlock.using('job', TTL, (signal, lock) => {
      deadline = lock.deadlineMs;
      // Someone else holds the key on 3 nodes (a forward clock jump, say): the next renew sees it.
      for (const i of [0, 1, 2]) cluster.nodes[i]!.set('job', 'intruder', TTL);
      return work(time, 60_000, seen)(signal);
    });
    const error = (await time.run(pending).catch((e: unknown) => e)) as LockLostError;
    expect(error.reason).toBe('not-held');
    expect(error.nodes.filter((n) => n.holder === 'foreign')).toHaveLength(3);
    expect(seen.abortedAt).toBeLessThan(deadline - (TTL - 32) / 2);
    // The intruder's keys survive our release.
    expect(cluster.holding('job', 'intruder')).toEqual([0, 1, 2]);
  });

  it('after a loss, releases only once fn has settled (or at the deadline), not when the signal fires', async () => {
    const { time, cluster, redlock } = setup({ nodeTimeoutMs: 100 });
    let deadline = 0;
    let settledAt = 0;
    const pending = redlock.using('job', TTL, (signal, lock) => {
      deadline = lock.deadlineMs;
      for (const i of [0, 1, 2]) cluster.set(i, { kind: 'drop-reply' });
      // fn honours the signal, but takes 20 ms to stop.
      return new Promise<void>((resolve) => {
        signal.addEventListener('abort', () =>
          time.setTimeout(() => {
            settledAt = time.now();
            resolve();
          }, 20),
        );
      });
    });
    const error = await time.run(pending).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    const release = Math.min(...cluster.scriptCalls('quorumlock:release').map((c) => c.at));
    expect(release).toBeGreaterThanOrEqual(settledAt);
    expect(settledAt).toBeLessThan(deadline);
    // A fn that ignores the signal holds the release back until the deadline, no longer.
    const ignoring = setup({ nodeTimeoutMs: 100 });
    let ignoredDeadline = 0;
    const stuck = ignoring.redlock.using('job', TTL, (_signal, lock) => {
      ignoredDeadline = lock.deadlineMs;
      for (const i of [0, 1, 2]) ignoring.cluster.set(i, { kind: 'drop-reply' });
      return new Promise<void>(() => {});
    });
    expect(await ignoring.time.run(stuck).catch((e: unknown) => e)).toBeInstanceOf(LockLostError);
    expect(Math.min(...ignoring.cluster.scriptCalls('quorumlock:release').map((c) => c.at))).toBe(
      ignoredDeadline,
    );
  });

  it('with maxRenewals, lets the lock lapse and says so before the deadline', async () => {
    const { time, redlock } = setup();
    const seen: { abortedAt?: number; reason?: unknown } = {};
    let lockRef: { deadlineMs: number } | undefined;
    const pending = redlock.using(
      'job',
      TTL,
      (signal, lock) => {
        lockRef = lock;
        return work(time, 60_000, seen)(signal);
      },
      { maxRenewals: 2 },
    );
    const error = (await time.run(pending).catch((e: unknown) => e)) as LockLostError;
    expect(error.reason).toBe('renewal-limit');
    expect(seen.abortedAt).toBeLessThan(lockRef!.deadlineMs);
  });

  it('serialises the last renew with the release: no renew after release, no key left', async () => {
    const { time, cluster, redlock } = setup();
    for (let i = 0; i < 5; i++) cluster.set(i, { kind: 'up', delayMs: 100 });
    const validity = TTL - 32;
    // Finish while the first renew is in flight.
    await time.run(
      redlock.using('job', TTL, () => new Promise((r) => time.setTimeout(() => r(1), validity / 3 + 150))),
    );
    const lastExtend = Math.max(...cluster.scriptCalls('quorumlock:extend').map((c) => c.at));
    const firstRelease = Math.min(...cluster.scriptCalls('quorumlock:release').map((c) => c.at));
    expect(lastExtend).toBeLessThan(firstRelease);
    await time.drain();
    expect(cluster.keys()).toEqual([]);
  });

  it('propagates the work error, and an acquisition failure, and never leaves a timer', async () => {
    const { time, cluster, redlock } = setup();
    const boom = new Error('boom');
    expect(await time.run(redlock.using('job', TTL, () => Promise.reject(boom))).catch((e) => e)).toBe(boom);
    expect(cluster.keys()).toEqual([]);
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('job', 'other', TTL);
    const error = await time.run(redlock.using('job', TTL, () => 1)).catch((e) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    await time.drain();
    expect(time.pendingTimers).toBe(0);
  });
});

describe('release stops the keeper (R11)', () => {
  it('lock.release() while kept: no renew goes out after it, and the signal says released', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('job', TTL));
    const keeper = redlock.keep(lock);
    time.jump(100);
    await time.run(lock.release());
    const released = time.now();
    await time.run(new Promise((r) => time.setTimeout(() => r(undefined), 5 * TTL)));
    expect(cluster.scriptCalls('quorumlock:extend').filter((c) => c.at >= released)).toEqual([]);
    expect(keeper.signal.aborted).toBe(true);
    expect((keeper.signal.reason as LockLostError).reason).toBe('released');
    await time.drain();
    expect(time.pendingTimers).toBe(0);
  });

  it('releaseLock by value stops the keeper too', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire(['a', 'b'], TTL));
    const keeper = redlock.keep(lock);
    await time.run(redlock.releaseLock(['b', 'a'], lock.value));
    const released = time.now();
    await time.drain();
    expect(cluster.scriptCalls('quorumlock:extend').filter((c) => c.at >= released)).toEqual([]);
    expect(keeper.signal.aborted).toBe(true);
  });
});
