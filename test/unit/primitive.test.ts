import { describe, expect, it } from 'vitest';
import { channels, type LockTraceContext } from '../../src/diagnostics.js';
import { InvalidArgumentError, LockAcquireError } from '../../src/errors.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { refusal } from '../support/refusal.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * src/primitive.ts, the handles of the semaphore and the read-write lock, through a semaphore
 * (the read-write lock shares every path here): the arguments each entry checks and names, the
 * acquire options (timeoutMs, retryStrategy, the reports kept), tracing, release by value, the
 * local hand-off, and `using` with the caller's signal.
 */
const TTL = 10_000;

function setup(options: RedlockOptions = {}) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(3, time);
  const runtime = virtualRuntime(time);
  const make = (more: RedlockOptions = {}) =>
    new Redlock(cluster.clients, { retryCount: 0, ...options, ...more, runtime });
  const redlock = make();
  return { time, cluster, redlock, make, sem: redlock.semaphore('pool', { permits: 1 }) };
}

const refusedAsync = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error;
    throw error;
  }
  throw new Error('not refused');
};

describe('primitive handles: the arguments', () => {
  it('renew names a bad ttl, on the handle and by value', async () => {
    const { time, sem } = setup();
    const permit = await time.run(sem.acquire(TTL));
    expect((await refusedAsync(() => permit.renew(1))).argument).toBe('ttl');
    expect((await refusedAsync(() => sem.renew(permit.value, 1))).argument).toBe('ttl');
  });

  it('acquire names a retryStrategy that is not a function, and a bad signal', async () => {
    const { time, sem } = setup();
    const strategy = await refusedAsync(() => time.run(sem.acquire(TTL, { retryStrategy: 5 as never })));
    expect([strategy.argument, strategy.expected]).toEqual([
      'options.retryStrategy',
      'a function (attempt, context) => number | null',
    ]);
    const permit = await time.run(sem.acquire(TTL));
    const signal = await refusedAsync(() => permit.release({ signal: 'no' as never }));
    expect(signal.argument).toBe('options.signal');
  });

  it('keep and using name their options: unknown keys, maxRenewals, ttl', async () => {
    const { time, sem } = setup();
    const permit = await time.run(sem.acquire(TTL));
    expect(refusal(() => sem.keep(permit, { every: 5 } as never)).argument).toBe('options.every');
    for (const maxRenewals of [-1, 1.5]) {
      expect(refusal(() => sem.keep(permit, { maxRenewals })).argument).toBe('options.maxRenewals');
    }
    expect(refusal(() => sem.keep(permit, { ttl: 1 })).argument).toBe('options.ttl');
    const forever = sem.keep(permit, { maxRenewals: Number.POSITIVE_INFINITY });
    await forever.stop();
    const using = await refusedAsync(() => sem.using(TTL, () => 1, { maxRenewals: -1 }));
    expect(using.argument).toBe('options.maxRenewals');
  });
});

describe('primitive handles: acquire', () => {
  it('gives up at timeoutMs, and the error keeps every attempt’s report', async () => {
    const { time, sem, make } = setup();
    await time.run(sem.acquire(TTL));
    const other = make({ retryCount: 100, retryDelay: 200, retryJitter: 0 }).semaphore('pool', {
      permits: 1,
    });
    const start = time.now();
    let error: unknown;
    try {
      await time.run(other.acquire(TTL, { timeoutMs: 1_000 }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockAcquireError);
    const attempts = (error as LockAcquireError).attempts;
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.map((a) => a.attempt)).toEqual(attempts.map((_a, i) => i + 1));
    expect(time.now() - start).toBeLessThanOrEqual(1_000);
    expect(time.now() - start).toBeGreaterThanOrEqual(800);
  });

  it('acquirePermit resolves null when contended, and rethrows any other error', async () => {
    const { time, sem } = setup();
    await time.run(sem.acquire(TTL));
    expect(await time.run(sem.acquirePermit(TTL))).toBeNull();
    await expect(time.run(sem.acquirePermit(TTL, { retryStrategy: 5 as never }))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('is traced on quorumlock:acquire like the lock: resources, ttl, the attempt and its result', async () => {
    const { time, sem } = setup();
    const seen: LockTraceContext[] = [];
    const handlers = { asyncEnd: (context: LockTraceContext) => seen.push(context) };
    channels.acquire.subscribe(handlers as never);
    try {
      const permit = await time.run(sem.acquire(TTL));
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        operation: 'acquire',
        resources: ['pool'],
        ttl: TTL,
        attempts: [permit.report],
        nodes: permit.report.nodes,
        result: { ok: true, validityMs: permit.validityMs, fencingToken: null },
      });
    } finally {
      channels.acquire.unsubscribe(handlers as never);
    }
  });
});

describe('primitive handles: release', () => {
  it('by value, from another Redlock, releases the permit on every node', async () => {
    const { time, sem, make, cluster } = setup();
    const permit = await time.run(sem.acquire(TTL));
    const stranger = make().semaphore('pool', { permits: 1 });
    const result = await time.run(stranger.release(permit.value));
    expect([result.resources, result.releasedCount]).toEqual([['pool'], 3]);
    expect(cluster.nodes.map((n) => n.zset('pool')?.size ?? 0)).toEqual([0, 0, 0]);
  });

  it('wakes a local waiter at once, instead of at its next retry', async () => {
    const { time, sem, make } = setup();
    const held = await time.run(sem.acquire(TTL));
    const waiter = make({ retryCount: 5, retryDelay: 1_000, retryJitter: 0 }).semaphore('pool', {
      permits: 1,
    });
    const start = time.now();
    const waiting = waiter.acquire(TTL);
    time.setTimeout(() => void held.release(), 300);
    const permit = await time.run(waiting);
    expect([permit.attempts, time.now() - start]).toEqual([2, 300]);
  });
});

describe('primitive handles: using', () => {
  it("aborts fn's signal when the caller's signal aborts, then releases", async () => {
    const { time, sem, cluster } = setup();
    const controller = new AbortController();
    let aborted = false;
    const done = sem.using(
      TTL,
      (signal) =>
        new Promise<string>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve('stopped');
          });
          time.setTimeout(() => controller.abort(), 100);
        }),
      { signal: controller.signal },
    );
    expect(await time.run(done)).toBe('stopped');
    expect(aborted).toBe(true);
    expect(cluster.nodes.map((n) => n.zset('pool')?.size ?? 0)).toEqual([0, 0, 0]);
  });
});
