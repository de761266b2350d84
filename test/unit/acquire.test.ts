import { describe, expect, it } from 'vitest';
import { LockAcquireError } from '../../src/errors.js';
import { fenceKeyOf } from '../../src/keys.js';
import { Redlock } from '../../src/redlock.js';
import { carries, intercept } from '../support/intercept.js';
import { acquireFailureOn, MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * The retry loop and the attempt of src/acquire.ts at their boundaries: the overall deadline, the
 * validity left after the vote and after the fencing claim, and which reports a failure carries.
 */
const TTL = 10_000;
/** TTL minus the drift of a 10 s TTL at the default driftFactor: floor(10_000 × 0.01) + 2. */
const VALIDITY = TTL - 102;

describe('acquire: the overall deadline (timeoutMs)', () => {
  it('sleeps no delay that would end exactly at the deadline: no attempt starts at it', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    const redlock = new Redlock(cluster.clients, { retryCount: 10, runtime: virtualRuntime(time) });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 60_000);
    const start = time.now();
    const error = await acquireFailureOn(
      time,
      redlock.acquire('r', TTL, { timeoutMs: 200, retryStrategy: () => 100 }),
    );
    expect(error.reason).toBe('contended');
    expect(error.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(time.now() - start).toBe(100);
  });
});

describe('acquire: the validity left (R4, R13)', () => {
  /** A Redlock whose first reply carrying `script` arrives a whole validity after it was sent. */
  function pausedAt(script: string, fencing: boolean) {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    let paused = false;
    const clients = intercept(cluster.clients, (_node, _call, commands, replies) => {
      if (!paused && carries(commands, script)) {
        paused = true;
        time.jump(VALIDITY);
      }
      return { replies };
    });
    const redlock = new Redlock(clients, { retryCount: 0, fencing, runtime: virtualRuntime(time) });
    return { time, cluster, redlock };
  }

  it('a quorum reached exactly at the deadline is too late: validity-exhausted, and released', async () => {
    const { time, cluster, redlock } = pausedAt('quorumlock:acquire', false);
    const start = time.now();
    const error = await acquireFailureOn(time, redlock.acquire('r', TTL));
    expect(time.now() - start).toBe(VALIDITY);
    expect(error.reason).toBe('validity-exhausted');
    expect(error.attempts[0]).toMatchObject({ outcome: 'validity-exhausted', votes: 3 });
    await time.run(redlock.idle());
    expect(cluster.keys()).toEqual([]);
  });

  it('a fencing claim won exactly at the deadline is too late: no token, validity-exhausted', async () => {
    const { time, cluster, redlock } = pausedAt('quorumlock:claim', true);
    await time.run(redlock.initFencing('r'));
    const start = time.now();
    const error = await acquireFailureOn(time, redlock.acquire('r', TTL));
    expect(time.now() - start).toBe(VALIDITY);
    expect(error.reason).toBe('validity-exhausted');
    expect(error.attempts[0]!.outcome).toBe('validity-exhausted');
    expect(error.attempts[0]!.claim).toHaveLength(5);
    await time.run(redlock.idle());
    expect(cluster.keys().filter((k) => !k.includes(fenceKeyOf('r')))).toEqual([]);
  });
});

describe('acquire: the reports a failure carries', () => {
  it('a campaign keeps only its last attempt: the error that ends it reports that one', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    const fenced = (seed: number) =>
      new Redlock(cluster.clients, { fencing: true, runtime: virtualRuntime(time, seed) });
    const holder = fenced(1);
    await time.run(holder.initFencing('r'));
    await time.run(holder.acquire('r', TTL));
    const election = fenced(2).campaign('r', {
      ttl: TTL,
      retryStrategy: (attempt) => {
        if (attempt === 1) {
          // The holder's keys vanish, and so do the fencing counters of a majority.
          for (const node of cluster.nodes) node.del('r');
          for (const i of [0, 1, 2]) cluster.nodes[i]!.del(fenceKeyOf('r'));
        }
        return 100;
      },
    });
    const error = await time.run(election.elected()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    expect((error as LockAcquireError).reason).toBe('fencing-uninitialized');
    expect((error as LockAcquireError).attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [2, 'fencing-uninitialized'],
    ]);
    await time.run(election.stop().catch(() => undefined));
  });

  it('an acquisition keeps every attempt', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    const redlock = new Redlock(cluster.clients, {
      retryCount: 2,
      retryDelay: 100,
      retryJitter: 0,
      runtime: virtualRuntime(time),
    });
    for (const i of [0, 1]) cluster.nodes[i]!.set('r', 'other', 60_000);
    const error = await acquireFailureOn(time, redlock.acquire('r', TTL));
    expect(error.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'contended'],
      [2, 'contended'],
      [3, 'contended'],
    ]);
  });
});

describe('acquire: why a lost vote failed (lostOutcome)', () => {
  /**
   * One attempt on `n` memory nodes where `silent` nodes never answer, `refused` ones refuse the
   * connection and `held` ones hold the key for another value.
   */
  async function lostWith(
    ttl: number,
    nodes: { silent?: number[]; refused?: number[]; held?: number[] },
    n = 5,
  ) {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(n, time);
    for (const i of nodes.silent ?? []) cluster.set(i, { kind: 'blackhole' });
    for (const i of nodes.refused ?? []) cluster.set(i, { kind: 'refused' });
    for (const i of nodes.held ?? []) cluster.nodes[i]!.set('r', 'other', 60_000);
    const redlock = new Redlock(cluster.clients, { retryCount: 0, runtime: virtualRuntime(time) });
    const error = await acquireFailureOn(time, redlock.acquire('r', ttl));
    return error.attempts[0]!;
  }
  /** A TTL whose per-node timeout is its validity (48 ms), below the 50 ms it would be otherwise. */
  const SHORT = 50;

  it('with the timeout capped by the validity, nodes that only timed out make it validity-exhausted', async () => {
    const all = await lostWith(SHORT, { silent: [0, 1, 2, 3, 4] });
    // The timer settles the silent nodes in order, and the vote is lost after the third.
    expect(all.nodes.map((n) => n.outcome)).toEqual(['timeout', 'timeout', 'timeout', 'pending', 'pending']);
    expect(all.outcome).toBe('validity-exhausted');
    // A single node: every node timed out, none left pending.
    const alone = await lostWith(SHORT, { silent: [0] }, 1);
    expect(alone.nodes.map((n) => n.outcome)).toEqual(['timeout']);
    expect(alone.outcome).toBe('validity-exhausted');
    // Beside votes that came too few, or refusals too few to make it contended.
    expect((await lostWith(SHORT, { silent: [2, 3, 4] })).outcome).toBe('validity-exhausted');
    const held = await lostWith(SHORT, { silent: [2, 3, 4], held: [0, 1] });
    expect(held.nodes.map((n) => n.outcome)).toEqual(['held', 'held', 'timeout', 'pending', 'pending']);
    expect(held.outcome).toBe('validity-exhausted');
  });

  it('a node that failed otherwise makes it unavailable, and refusals enough make it contended', async () => {
    const failed = await lostWith(SHORT, { silent: [2, 3, 4], refused: [0] });
    expect(failed.nodes.map((n) => n.outcome)).toEqual([
      'error',
      'acquired',
      'timeout',
      'timeout',
      'pending',
    ]);
    expect(failed.outcome).toBe('unavailable');
    expect((await lostWith(SHORT, { silent: [3, 4], held: [0, 1, 2] })).outcome).toBe('contended');
  });

  it('with a timeout of its own (not capped), timeouts make it unavailable', async () => {
    expect((await lostWith(TTL, { silent: [2, 3, 4] })).outcome).toBe('unavailable');
  });
});

describe('acquire: releasing a lost attempt', () => {
  it('releases each node that may hold the key once: an early yes at once, a straggler once it answered', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    for (const i of [1, 2, 3]) cluster.nodes[i]!.set('r', 'other', 60_000);
    cluster.set(4, { kind: 'up', delayMs: 40 });
    const redlock = new Redlock(cluster.clients, { retryCount: 0, runtime: virtualRuntime(time) });
    const error = await acquireFailureOn(time, redlock.acquire('r', TTL));
    expect(error.attempts[0]!.nodes.map((n) => n.outcome)).toEqual([
      'acquired',
      'held',
      'held',
      'held',
      'pending',
    ]);
    await time.run(redlock.idle());
    expect(cluster.scriptCalls('quorumlock:release').map((c) => c.endpoint)).toEqual(['mem-0', 'mem-4']);
    expect(cluster.keys().sort()).toEqual(['1:r=other', '2:r=other', '3:r=other']);
  });
});
