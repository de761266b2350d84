import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { LockLostError } from '../../src/errors.js';
import type { Lock } from '../../src/lock.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { carries, intercept } from '../support/intercept.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;
const drift = (ttl: number) => Math.floor(ttl * 0.01) + 2;

function setup(options: RedlockOptions = {}, clients?: (cluster: MemoryCluster) => RedisClient[]) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const redlock = new Redlock(clients ? clients(cluster) : cluster.clients, {
    retryCount: 0,
    ...options,
    runtime: virtualRuntime(time),
  });
  const other = new Redlock(cluster.clients, { retryCount: 0, runtime: virtualRuntime(time, 99) });
  return { time, cluster, redlock, other };
}

describe('a renew bounds the local deadline whatever its outcome (R7)', () => {
  it('a failed renew with a shorter TTL shortens the validity to what the nodes were told', async () => {
    // Replies of the first extend on nodes 0-2 are lost: the PEXPIRE 200 still lands there.
    const { time, redlock, other } = setup({}, (cluster) =>
      intercept(cluster.clients, (node, _call, commands, replies) =>
        node < 3 && carries(commands, 'quorumlock:extend') ? 'drop-reply' : { replies },
      ),
    );
    const lock = await time.run(redlock.acquire('r', TTL));
    const renewedAt = time.now();
    expect(await time.run(lock.renew(200))).toBe(false);
    expect(lock.deadlineMs).toBeLessThanOrEqual(renewedAt + 200 - drift(200));
    time.jump(250);
    expect(lock.remainingMs()).toBe(0);
    // The nodes forgot the key at 200 ms: another client may take it now, and does.
    const theirs = await time.run(other.acquireLock('r', TTL));
    expect(theirs).not.toBeNull();
    expect(lock.remainingMs()).toBe(0);
  });

  it('a renew with a longer TTL that fails leaves the deadline where it was', async () => {
    const { time, redlock } = setup({}, (cluster) =>
      intercept(cluster.clients, (node, _call, commands, replies) =>
        node < 3 && carries(commands, 'quorumlock:extend') ? 'drop-reply' : { replies },
      ),
    );
    const lock = await time.run(redlock.acquire('r', 1_000));
    const deadline = lock.deadlineMs;
    expect(await time.run(lock.renew(TTL))).toBe(false);
    expect(lock.deadlineMs).toBe(deadline);
  });

  it('an aborted renew bounds the deadline too', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    for (let i = 0; i < 5; i++) cluster.set(i, { kind: 'up', delayMs: 40 });
    const controller = new AbortController();
    const start = time.now();
    const renewing = lock.renew(300, { signal: controller.signal });
    time.setTimeout(() => controller.abort(new Error('stop')), 5);
    await expect(time.run(renewing)).rejects.toThrow('stop');
    expect(lock.deadlineMs).toBeLessThanOrEqual(start + 300 - drift(300));
  });

  it('using() with a short renew TTL aborts the signal before another holder can get in', async () => {
    // Every reply of the first renew is lost (the nodes still apply its PEXPIRE 200).
    const { time, redlock, other } = setup({}, (cluster) => {
      const lost = new Set<number>();
      return intercept(cluster.clients, (node, _call, commands, replies) => {
        if (!carries(commands, 'quorumlock:extend') || lost.size === 5) return { replies };
        lost.add(node);
        return 'drop-reply';
      });
    });
    let ours: Lock | undefined;
    let abortedAt: number | undefined;
    let done = false;
    const running = redlock
      .using(
        'r',
        TTL,
        (signal, lock) => {
          ours = lock;
          return new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              abortedAt = time.now();
              resolve();
            });
            time.setTimeout(resolve, 6_000);
          });
        },
        { ttl: 200 },
      )
      .catch((e: unknown) => e)
      .finally(() => {
        done = true;
      });
    // A contender polls every 10 ms while the work runs: whenever it gets in, we must be out.
    const overlaps: string[] = [];
    const contend = async () => {
      while (!done) {
        const theirs = await other.acquireLock('r', TTL);
        if (theirs) {
          if (ours && ours.remainingMs() > 0)
            overlaps.push(`at ${time.now()}: ours has ${ours.remainingMs()} ms left`);
          if (abortedAt === undefined) overlaps.push(`at ${time.now()}: our signal has not aborted`);
          await theirs.release();
        }
        await new Promise((r) => time.setTimeout(() => r(undefined), 10));
      }
    };
    const [outcome] = await time.run(Promise.all([running, contend()]));
    expect(outcome === undefined || outcome instanceof LockLostError).toBe(true);
    expect(overlaps).toEqual([]);
  });
});

describe('a resource set is a set, and a Lock learns of every renew and release of its value (R7)', () => {
  it('renewLock refuses a value past its local deadline even after the registry swept it', async () => {
    const { time, redlock } = setup();
    const lock = await time.run(redlock.acquire('x', 1_000));
    // Past the local deadline, before the nodes' TTL runs out.
    time.jump(lock.remainingMs() + 1);
    expect(lock.remainingMs()).toBe(0);
    // Enough other locks to trigger the registry's sweep.
    for (let i = 0; i < 1_100; i++) await time.run(redlock.acquire(`other-${i}`, TTL));
    const result = await time.run(redlock.renew('x', lock.value, 1_000));
    expect(result).toMatchObject({ renewed: false, reason: 'expired' });
    expect(lock.remainingMs()).toBe(0);
  });

  it('renew names the resources in any order', async () => {
    const { time, redlock } = setup();
    const lock = await time.run(redlock.acquire(['x', 'y'], TTL));
    time.jump(1_000);
    const renewed = await time.run(redlock.renew(['y', 'x'], lock.value, TTL));
    expect(renewed.renewed).toBe(true);
    expect(lock.remainingMs()).toBe(TTL - drift(TTL));
    time.jump(lock.remainingMs() + 1);
    expect(await time.run(redlock.renew(['y', 'x'], lock.value, TTL))).toMatchObject({
      renewed: false,
      reason: 'expired',
    });
    expect(lock.remainingMs()).toBe(0);
  });

  it('releaseLock in another order marks the Lock released', async () => {
    const { time, redlock, other } = setup();
    const lock = await time.run(redlock.acquire(['x', 'y'], TTL));
    const released = await time.run(redlock.releaseLock(['y', 'x'], lock.value));
    expect(released.releasedCount).toBe(5);
    expect(lock.released).toBe(true);
    expect(lock.remainingMs()).toBe(0);
    expect(await time.run(other.acquireLock(['x', 'y'], TTL))).not.toBeNull();
    expect(await time.run(lock.renew())).toBe(false);
  });

  it('a renew of part of the resources never lengthens the Lock', async () => {
    const { time, redlock } = setup();
    const lock = await time.run(redlock.acquire(['x', 'y'], 2_000));
    const deadline = lock.deadlineMs;
    time.jump(500);
    // Only x is extended; y keeps its old expiry, so the Lock keeps its old deadline.
    expect((await time.run(redlock.renew('x', lock.value, TTL))).renewed).toBe(true);
    expect(lock.deadlineMs).toBe(deadline);
    // A shorter one shortens it.
    const at = time.now();
    expect((await time.run(redlock.renew('y', lock.value, 300))).renewed).toBe(true);
    expect(lock.deadlineMs).toBe(at + 300 - drift(300));
  });
});
