import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, LockLostError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 3_000;

function world() {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const make = (seed: number) =>
    new Redlock(cluster.clients, {
      retryCount: 2,
      retryDelay: 100,
      retryJitter: 50,
      runtime: virtualRuntime(time, seed),
    });
  const after = (ms: number) => time.run(new Promise((r) => time.setTimeout(() => r(undefined), ms)));
  return { time, cluster, make, after };
}

describe('leader election', () => {
  it('elects one leader at a time, hands over on step-down, and re-campaigns after losing', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    const make = (seed: number) =>
      new Redlock(cluster.clients, {
        retryCount: 2,
        retryDelay: 100,
        retryJitter: 50,
        runtime: virtualRuntime(time, seed),
      });
    const events: string[] = [];
    const a = make(1).campaign('leader', {
      ttl: TTL,
      onElected: () => events.push('a elected'),
      onDemoted: (e) => events.push(`a demoted: ${e.reason}`),
    });
    await time.run(a.elected());
    const b = make(2).campaign('leader', { ttl: TTL, onElected: () => events.push('b elected') });
    // b keeps campaigning while a renews: run well past several TTLs.
    await time.run(new Promise((r) => time.setTimeout(() => r(undefined), 5 * TTL)));
    expect(a.isLeader).toBe(true);
    expect(b.isLeader).toBe(false);
    await time.run(a.stop());
    const term = await time.run(b.elected());
    expect(term.lock.resource).toBe('leader');
    expect(a.isLeader).toBe(false);
    // b loses its keys on 3 nodes (say, a restart without persistence): demoted... then re-elected.
    const c = make(3).campaign('leader', {
      ttl: TTL,
      onDemoted: (e) => events.push(`c demoted: ${e.reason}`),
    });
    await time.run(b.stop());
    await time.run(c.elected());
    for (const i of [0, 1, 2]) cluster.nodes[i]!.del('leader');
    await time.run(new Promise((r) => time.setTimeout(() => r(undefined), 2 * TTL)));
    expect(events).toContain('c demoted: not-held');
    expect(c.terms).toBe(2);
    expect(c.isLeader).toBe(true);
    await time.run(c.stop());
    expect(events.slice(0, 2)).toEqual(['a elected', 'b elected']);
    await time.drain();
    expect(cluster.keys()).toEqual([]);
    expect(time.pendingTimers).toBe(0);
  });
});

describe('leadership is bounded by the lock (R11, R12)', () => {
  it('a stalled event loop does not keep isLeader true past the deadline', async () => {
    const { time, make, after } = world();
    const a = make(1).campaign('leader', { ttl: TTL });
    const term = await time.run(a.elected());
    expect(a.isLeader).toBe(true);
    // Timers starve for longer than the validity: nothing fires, the clock moves on.
    time.jump(TTL + 1_000);
    expect(term.lock.remainingMs()).toBe(0);
    expect(a.isLeader).toBe(false);
    expect(a.lock).toBeUndefined();
    // elected() never resolves with an expired lock: it waits for a fresh term.
    const b = make(2).campaign('leader', { ttl: TTL });
    const next = a.elected();
    // If b won, stop() below rejects `next`: handle that now, not after the rejection.
    next.catch(() => undefined);
    await after(5 * TTL);
    const both = [a.isLeader, b.isLeader];
    expect(both.filter(Boolean)).toHaveLength(1);
    if (a.isLeader) expect((await time.run(next)).lock.remainingMs()).toBeGreaterThan(0);
    await time.run(a.stop());
    await time.run(b.stop());
    await time.drain();
    expect(time.pendingTimers).toBe(0);
  });

  it('isLeader turns false a margin before the deadline, not at it', async () => {
    const { time, make } = world();
    const a = make(1).campaign('leader', { ttl: TTL });
    const { lock } = await time.run(a.elected());
    time.jump(lock.remainingMs() - 1);
    expect(lock.remainingMs()).toBe(1);
    expect(a.isLeader).toBe(false);
    await time.run(a.stop());
  });
});

describe('campaign input and errors', () => {
  it('throws InvalidArgumentError synchronously for bad arguments', () => {
    const { make } = world();
    const r = make(1);
    const bad: Array<[() => unknown, string]> = [
      [() => r.campaign('', { ttl: TTL }), 'resource'],
      [() => r.campaign(42 as never, { ttl: TTL }), 'resource'],
      [() => r.campaign('x', undefined as never), 'options'],
      [() => r.campaign('x', { ttl: TTL, onElected: 5 as never }), 'options.onElected'],
      [() => r.campaign('x', { ttl: TTL, onDemoted: 'no' as never }), 'options.onDemoted'],
      [() => r.campaign('x', { ttl: TTL, retryStrategy: 1 as never }), 'options.retryStrategy'],
      [() => r.campaign('x', { ttl: TTL, ttll: 3 } as never), 'options.ttll'],
    ];
    for (const [fn, argument] of bad) {
      const error = (() => {
        try {
          fn();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, argument).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe(argument);
    }
  });

  it('an unexpected error reaches elected() and onError, and ends the campaign', async () => {
    const { time, cluster, make } = world();
    for (const node of cluster.nodes) node.set('leader', 'someone', 60_000);
    const errors: unknown[] = [];
    const a = make(1).campaign('leader', {
      ttl: TTL,
      retryStrategy: () => Number.NaN,
      onError: (e) => errors.push(e),
    });
    const error = await time.run(a.elected()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(errors).toEqual([error]);
    // Later calls see the same error; stop() still resolves.
    await expect(time.run(a.elected())).rejects.toBe(error);
    await time.run(a.stop());
    await time.drain();
    expect(time.pendingTimers).toBe(0);
  });

  it('stop() settles a pending elected() with the stop reason', async () => {
    const { time, cluster, make } = world();
    for (const node of cluster.nodes) node.set('leader', 'someone', 60_000);
    const a = make(1).campaign('leader', { ttl: TTL });
    // The handler is attached before stop() rejects the promise, as a caller's would be.
    const waiting = a.elected().catch((e: unknown) => e);
    await time.run(a.stop());
    const error = await waiting;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ElectionStoppedError');
    await expect(time.run(a.elected())).rejects.toBe(error);
    expect(LockLostError).toBeDefined();
  });
});
