import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { channels, type LockTraceContext } from '../../src/diagnostics.js';
import { leaseOf } from '../../src/lock.js';
import type { RedlockOptions, ResolvedOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { releaseTimeoutMs } from '../../src/release.js';
import { forgetAfterMs } from '../../src/validity.js';
import { carries, intercept } from '../support/intercept.js';
import { linkedAdapter, MemoryCluster } from '../support/memory-cluster.js';
import { flushMicrotasks, VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * The renew and release operations through a Redlock on memory nodes and virtual time: the
 * exact result objects, the boundaries of the local checks, the per-node timeouts, which nodes
 * get a repair, and what tracing subscribers are told.
 */
const TTL = 10_000;
const VALIDITY = TTL - 102;

function setup(options: RedlockOptions = {}, clients?: (cluster: MemoryCluster) => RedisClient[]) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const redlock = new Redlock(clients ? clients(cluster) : cluster.clients, {
    retryCount: 0,
    ...options,
    runtime: virtualRuntime(time),
  });
  return { time, cluster, redlock };
}

/** Contexts published on a channel's asyncEnd while `fn` runs. */
async function traced(
  channel: typeof channels.renew,
  fn: () => Promise<unknown>,
): Promise<LockTraceContext[]> {
  const seen: LockTraceContext[] = [];
  const subscriber = { asyncEnd: (context: unknown) => seen.push(context as LockTraceContext) };
  channel.subscribe(subscriber as never);
  try {
    await fn();
  } finally {
    channel.unsubscribe(subscriber as never);
  }
  return seen;
}

describe('renew: results and local checks (R7, R8)', () => {
  it('a key outlives its sender’s knowledge by at most twice its TTL', () => {
    expect(forgetAfterMs(1_500)).toBe(3_000);
  });

  it('succeeds with the validity from its own start, the votes of the decision and no reason', async () => {
    const { time, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    time.jump(1_000);
    const sentAt = time.now();
    const result = await time.run(redlock.renew('r', lock.value, 5_000));
    expect(result).toMatchObject({ renewed: true, validityMs: 5_000 - 52, votes: 3, quorum: 3 });
    expect('reason' in result).toBe(false);
    expect(result.nodes.filter((n) => n.outcome === 'renewed')).toHaveLength(3);
    expect(lock.deadlineMs).toBe(sentAt + 5_000 - 52);
    await time.drain();
    expect(time.pendingTimers).toBe(0);
  });

  it('a renew sent keeps the lock’s value remembered until twice its TTL after the send', async () => {
    const { time, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', 1_000));
    expect(leaseOf(lock).forgetAfterMs).toBeGreaterThanOrEqual(time.now() + 2_000 - 1);
    time.jump(500);
    const sentAt = time.now();
    await time.run(lock.renew(TTL));
    expect(leaseOf(lock).forgetAfterMs).toBe(sentAt + 2 * TTL);
  });

  it('a renew that wins after the lock was released says released, and renews nothing', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    for (let i = 0; i < 5; i++) cluster.set(i, { kind: 'up', delayMs: 40 });
    const renewing = redlock.renew('r', lock.value, TTL);
    const releasing = lock.release();
    const result = await time.run(renewing);
    expect(result).toMatchObject({ renewed: false, reason: 'released', validityMs: 0 });
    expect(result.votes).toBeGreaterThanOrEqual(3);
    await time.run(releasing);
    expect(cluster.keys()).toEqual([]);
  });

  it('is refused at the deadline itself, and after release, with nothing sent', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    time.jump(lock.remainingMs());
    expect(await time.run(redlock.renew('r', lock.value, TTL))).toStrictEqual({
      renewed: false,
      reason: 'expired',
      validityMs: 0,
      votes: 0,
      quorum: 3,
      nodes: [],
    });
    const released = await time.run(redlock.acquire('s', TTL));
    await time.run(released.release());
    expect(await time.run(released.renew())).toBe(false);
    expect(cluster.scriptCalls('quorumlock:extend')).toEqual([]);
  });

  it('rejects with the signal’s reason, sending nothing, when already aborted', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    const reason = new Error('no');
    await expect(time.run(lock.renew(TTL, { signal: AbortSignal.abort(reason) }))).rejects.toBe(reason);
    expect(cluster.scriptCalls('quorumlock:extend')).toEqual([]);
  });

  it('waits for a silent majority no longer than the per-node timeout of its TTL, or the configured one', async () => {
    for (const [options, timeout] of [
      [{}, 500],
      [{ nodeTimeoutMs: 120 }, 120],
    ] as const) {
      const { time, cluster, redlock } = setup(options);
      const lock = await time.run(redlock.acquire('r', TTL));
      for (const i of [0, 1, 2]) cluster.set(i, { kind: 'blackhole' });
      const start = time.now();
      const result = await time.run(redlock.renew('r', lock.value, TTL));
      expect(time.now() - start).toBe(timeout);
      expect(result).toMatchObject({ renewed: false, reason: 'no-quorum', validityMs: 0, votes: 2 });
      expect(result.nodes.map((n) => n.outcome)).toEqual([
        'timeout',
        'timeout',
        'timeout',
        'renewed',
        'renewed',
      ]);
    }
  });

  it('a quorum reached exactly at the renew’s deadline is too late (validity-exhausted)', async () => {
    let jumped = false;
    let time!: VirtualTime;
    const s = setup({}, (cluster) =>
      intercept(cluster.clients, (_node, _call, commands, replies) => {
        // The first extend reply arrives a whole validity after the send (a paused process).
        if (carries(commands, 'quorumlock:extend') && !jumped) {
          jumped = true;
          time.jump(VALIDITY);
        }
        return { replies };
      }),
    );
    time = s.time;
    const lock = await time.run(s.redlock.acquire('r', TTL));
    const sentAt = time.now();
    const result = await time.run(s.redlock.renew('r', lock.value, TTL));
    expect(time.now()).toBe(sentAt + VALIDITY);
    expect(result).toMatchObject({ renewed: false, reason: 'validity-exhausted', validityMs: 0, votes: 3 });
  });
});

describe('renew: repair only where the key is absent (R8)', () => {
  it('repairs the nodes that answered absent, never one holding another value', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    cluster.nodes[0]!.del('r');
    cluster.nodes[1]!.set('r', 'other', TTL);
    const result = await time.run(redlock.renew('r', lock.value, TTL));
    expect(result.renewed).toBe(true);
    const byNode = [...result.nodes].sort((a, b) => a.node - b.node);
    expect(byNode[0]).toMatchObject({ outcome: 'not-held', holder: 'absent' });
    expect(byNode[1]).toMatchObject({ outcome: 'not-held', holder: 'foreign' });
    await time.drain();
    expect(cluster.scriptCalls('quorumlock:repair').map((c) => c.endpoint)).toEqual(['mem-0']);
    expect(cluster.holding('r', lock.value)).toEqual([0, 2, 3, 4]);
    expect(time.pendingTimers).toBe(0);
  });

  it('sends no repair when every node renewed, and leaves nothing armed', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    const result = await time.run(redlock.renew('r', lock.value, TTL));
    expect(result.renewed).toBe(true);
    await flushMicrotasks();
    expect(time.pendingTimers).toBe(0);
    expect(cluster.scriptCalls('quorumlock:repair')).toEqual([]);
  });

  it('repairs a server once: a second address of it answers "absent" too, as a duplicate, and gets none', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    // mem-1 is a second address of mem-0's server.
    const clients = cluster.clients.map((client, i) =>
      i === 1
        ? linkedAdapter(cluster.nodes[0]!, time, 'mem-1', cluster.links[1]!, (c) => cluster.calls.push(c))
        : client,
    );
    const redlock = new Redlock(clients, { retryCount: 0, runtime: virtualRuntime(time) });
    const lock = await time.run(redlock.acquire('r', TTL));
    cluster.nodes[0]!.del('r');
    const result = await time.run(redlock.renew('r', lock.value, TTL));
    expect(result.renewed).toBe(true);
    expect(result.nodes.slice(0, 2)).toMatchObject([
      { outcome: 'not-held', holder: 'absent' },
      { outcome: 'duplicate', holder: 'absent' },
    ]);
    await time.drain();
    expect(cluster.scriptCalls('quorumlock:repair').map((c) => c.endpoint)).toEqual(['mem-0']);
    expect(cluster.holding('r', lock.value)).toEqual([0, 2, 3, 4]);
  });
});

describe('release: counts, timeouts and results (R6)', () => {
  it('counts released, not-held (absent or foreign) and failed nodes; the result is frozen', async () => {
    const { time, cluster, redlock } = setup({ nodeTimeoutMs: 80 });
    const lock = await time.run(redlock.acquire('r', TTL));
    cluster.nodes[1]!.del('r');
    cluster.nodes[2]!.set('r', 'other', TTL);
    cluster.set(3, { kind: 'refused' });
    cluster.set(4, { kind: 'blackhole' });
    const start = time.now();
    const result = await time.run(lock.release());
    expect(time.now() - start).toBe(80);
    expect(result).toMatchObject({ resources: ['r'], releasedCount: 1, notHeldCount: 2, failedCount: 2 });
    expect(Object.isFrozen(result)).toBe(true);
    expect(result.nodes.map((n) => [n.outcome, n.holder])).toEqual([
      ['released', undefined],
      ['not-held', 'absent'],
      ['not-held', 'foreign'],
      ['error', undefined],
      ['timeout', undefined],
    ]);
  });

  it('rejects with the signal’s reason when aborted', async () => {
    const { time, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    const reason = new Error('stop');
    await expect(
      time.run(redlock.releaseLock('r', lock.value, { signal: AbortSignal.abort(reason) })),
    ).rejects.toBe(reason);
  });

  it('per-node timeout: the configured one, else that of the lock’s TTL, else the default', () => {
    const options = { nodeTimeoutMs: undefined, driftFactor: 0.01 } as unknown as ResolvedOptions;
    expect(releaseTimeoutMs({ ...options, nodeTimeoutMs: 70 }, TTL)).toBe(70);
    expect(releaseTimeoutMs(options, TTL)).toBe(500);
    expect(releaseTimeoutMs(options, 200)).toBe(50);
    expect(releaseTimeoutMs(options, undefined)).toBe(500);
  });
});

describe('tracing results of renew and release', () => {
  it('renew: ok, the validity, and the reason only when refused', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    const [ok] = await traced(channels.renew, () => time.run(lock.renew(5_000)));
    expect(ok!.result).toStrictEqual({ ok: true, validityMs: 5_000 - 52 });
    expect(ok!.nodes).toHaveLength(5);
    for (const i of [0, 1, 2]) cluster.set(i, { kind: 'refused' });
    const [failed] = await traced(channels.renew, () => time.run(lock.renew(5_000)));
    expect(failed!.result).toStrictEqual({ ok: false, validityMs: 0, reason: 'no-quorum' });
  });

  it('release: ok when at least one node deleted our key, with the count', async () => {
    const { time, cluster, redlock } = setup();
    const lock = await time.run(redlock.acquire('r', TTL));
    for (const i of [1, 2, 3, 4]) cluster.nodes[i]!.del('r');
    const [one] = await traced(channels.release, () => time.run(lock.release()));
    expect(one!.result).toStrictEqual({ ok: true, releasedCount: 1 });
    expect(one!.nodes).toHaveLength(5);
    const [none] = await traced(channels.release, () => time.run(redlock.releaseLock('r', lock.value)));
    expect(none!.result).toStrictEqual({ ok: false, releasedCount: 0 });
  });
});
