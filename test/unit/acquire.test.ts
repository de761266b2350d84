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
