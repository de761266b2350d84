import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import type { RetryContext } from '../../src/retry.js';
import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';
import { acquireFailureOn, memoryRedlock } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;
const DRIFT = Math.floor(TTL * 0.01) + 2;

const setup = memoryRedlock;
const failure = acquireFailureOn;

describe('acquire (R3, R4)', () => {
  it('takes the lock on every free node with a fresh 128-bit value and validity ttl − drift', async () => {
    const { time, cluster, redlock } = setup();
    const start = time.now();
    const lock = (await time.run(redlock.acquireLock('orders:1', TTL)))!;
    expect(lock.value).toMatch(/^[0-9a-f]{32}$/);
    expect(lock.resource).toBe('orders:1');
    expect(lock.resources).toEqual(['orders:1']);
    expect(lock.deadlineMs).toBe(start + TTL - DRIFT);
    expect(lock.validityMs).toBe(TTL - DRIFT);
    expect(lock.expiresAt).toBe(1_700_000_000_000 + start + TTL - DRIFT);
    // Decided at quorum: the votes counted are those in at the decision.
    expect(lock.report).toMatchObject({ attempt: 1, outcome: 'acquired', votes: 3, quorum: 3 });
    expect(cluster.holding('orders:1', lock.value)).toEqual([0, 1, 2, 3, 4]);
    for (const node of cluster.nodes) expect(node.pttl('orders:1')).toBe(TTL);
    time.jump(1_000);
    expect(lock.remainingMs()).toBe(TTL - DRIFT - 1_000);
    const released = await time.run(lock.release());
    expect(released).toMatchObject({ releasedCount: 5, notHeldCount: 0, failedCount: 0 });
    expect(cluster.keys()).toEqual([]);
    expect(lock.remainingMs()).toBe(0);
  });

  it('decides as soon as quorum is won, without waiting for silent nodes', async () => {
    const { time, cluster, redlock } = setup();
    cluster.set(3, { kind: 'blackhole' });
    cluster.set(4, { kind: 'up', delayMs: 300 });
    const start = time.now();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    expect(lock.report.elapsedMs).toBe(0);
    expect(time.now()).toBe(start);
    expect(lock.report.nodes.map((n) => n.outcome)).toEqual([
      'acquired',
      'acquired',
      'acquired',
      'pending',
      'pending',
    ]);
    await time.run(redlock.idle());
    expect(time.pendingTimers).toBe(0);
  });

  it('never waits on a dead node longer than the per-node timeout', async () => {
    const { time, cluster, redlock } = setup(5, { nodeTimeoutMs: 80 });
    cluster.set(0, { kind: 'blackhole' });
    cluster.set(1, { kind: 'blackhole' });
    cluster.set(2, { kind: 'up', delayMs: 10 });
    const start = time.now();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    expect(lock.report.elapsedMs).toBe(10);
    expect(lock.validityMs).toBe(TTL - DRIFT - 10);
    await time.run(redlock.idle());
    expect(time.now()).toBe(start + 80);
  });

  it('decides as soon as quorum is lost, and classifies held answers as contended', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 0 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', TTL);
    cluster.set(4, { kind: 'blackhole' });
    const error = await failure(time, redlock.acquire('r', TTL));
    expect(error.reason).toBe('contended');
    expect(error.code).toBe('ERR_QUORUMLOCK_CONTENDED');
    expect(error.attempts).toHaveLength(1);
    // Lost as soon as the third held answer made quorum impossible.
    expect(error.message).toMatch(/0\/5 votes \(quorum 3\) in 0\.0 ms: 3 held, 2 pending/);
    expect(cluster.keys().sort()).toEqual(['0:r=other', '1:r=other', '2:r=other']);
  });

  it('a tied vote on an even N is a failure, never a hang', async () => {
    const { time, cluster, redlock } = setup(4, { retryCount: 0 });
    cluster.nodes[0]!.set('r', 'other', TTL);
    cluster.nodes[1]!.set('r', 'other', TTL);
    const error = await failure(time, redlock.acquire('r', TTL));
    expect(error.attempts[0]!.nodes.filter((n) => n.outcome === 'held')).toHaveLength(2);
    expect(error.reason).toBe('contended');
    expect(cluster.keys().sort()).toEqual(['0:r=other', '1:r=other']);
  });

  it('classifies unreachable nodes as unavailable and counts a timeout as no vote (R5)', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 0, nodeTimeoutMs: 50 });
    cluster.set(0, { kind: 'refused' });
    cluster.set(1, { kind: 'blackhole' });
    cluster.set(2, { kind: 'drop-reply' });
    const error = await failure(time, redlock.acquire('r', TTL));
    expect(error.reason).toBe('unavailable');
    expect(error.nodes.map((n) => n.outcome)).toEqual([
      'error',
      'timeout',
      'timeout',
      'acquired',
      'acquired',
    ]);
    expect(error.message).toMatch(/1 ECONNREFUSED/);
    // The node whose reply was dropped had applied the SET: it still got the release.
    expect(cluster.keys()).toEqual([]);
  });

  it('does not return a lock whose validity ran out during the round, and releases its keys', async () => {
    const time = new VirtualTime();
    const nodes = [0, 1, 2].map(() => new MemoryNode({ clock: time }));
    // The client process is paused for a whole TTL while the replies are in flight (row 14).
    const pausing = (node: MemoryNode, i: number): RedisClient => {
      const base = memoryAdapter(node, { endpoint: `p${i}` });
      return {
        endpoint: base.endpoint,
        async exec(commands) {
          const replies = await base.exec(commands);
          if (commands.some((c) => c.type === 'eval' && c.script.name === 'quorumlock:acquire'))
            time.jump(TTL);
          return replies;
        },
      };
    };
    const redlock = new Redlock(nodes.map(pausing), { retryCount: 0, runtime: virtualRuntime(time) });
    const error = await failure(time, redlock.acquire('r', TTL));
    expect(error.reason).toBe('validity-exhausted');
    expect(error.attempts[0]!.votes).toBe(2);
    expect(nodes.map((n) => n.keys())).toEqual([[], [], []]);
    expect(await time.run(redlock.acquireLock('r', TTL))).toBeNull();
  });

  it('counts validity from the winning attempt, not the first', async () => {
    const { time, cluster, redlock } = setup(5, { retryDelay: 200, retryJitter: 0 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 150);
    const start = time.now();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    expect(lock.attempts).toBe(2);
    expect(lock.deadlineMs).toBe(start + 200 + TTL - DRIFT);
    expect(lock.validityMs).toBe(TTL - DRIFT);
  });

  it('honours a custom driftFactor', async () => {
    const { time, redlock } = setup(3, { driftFactor: 0.1 });
    const lock = (await time.run(redlock.acquireLock('r', 1_000)))!;
    expect(lock.validityMs).toBe(1_000 - 102);
  });

  it('locks several resources all or nothing on each node', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 0 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('b', 'other', TTL);
    expect(await time.run(redlock.acquireLock(['a', 'b'], TTL))).toBeNull();
    expect(cluster.keys().filter((k) => k.includes(':a='))).toEqual([]);
    for (const i of [0, 1, 2]) cluster.nodes[i]!.del('b');
    const lock = (await time.run(redlock.acquireLock(['a', 'b'], TTL)))!;
    expect(lock.resource).toEqual(['a', 'b']);
    expect(cluster.holding('a', lock.value)).toHaveLength(5);
    expect(cluster.holding('b', lock.value)).toHaveLength(5);
    await time.run(lock.release());
    expect(cluster.keys()).toEqual([]);
  });

  it('prefixes keys with keyPrefix', async () => {
    const { time, cluster, redlock } = setup(3, { keyPrefix: 'app:lock:' });
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    expect(cluster.holding('app:lock:r', lock.value)).toEqual([0, 1, 2]);
    await time.run(redlock.releaseLock('r', lock.value));
    expect(cluster.keys()).toEqual([]);
  });
});

describe('retries (R9)', () => {
  it('retryCount counts retries after the first attempt, with jittered delays on the injected clock', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 3, retryDelay: 200, retryJitter: 100 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 60_000);
    const error = await failure(time, redlock.acquire('r', TTL));
    expect(error.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    const starts = [...new Set(cluster.scriptCalls('quorumlock:acquire').map((c) => c.at))];
    expect(starts).toHaveLength(4);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(100);
      expect(gap).toBeLessThanOrEqual(300);
    }
    expect(new Set(gaps).size).toBeGreaterThan(1);
    // No sleep after the last attempt.
    expect(time.now()).toBe(starts[3]);
  });

  it('draws a fresh value for every attempt and releases partial keys before the next (R2, R5, R9)', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 2, retryDelay: 100, retryJitter: 0 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 60_000);
    await failure(time, redlock.acquire('r', TTL));
    const acquires = cluster.scriptCalls('quorumlock:acquire');
    const releases = cluster.scriptCalls('quorumlock:release');
    const values = new Set(acquires.map((c) => c.args[0]));
    expect(values.size).toBe(3);
    for (const value of values) {
      const sentAt = acquires.find((c) => c.args[0] === value)!.at;
      const releasedTo = releases.filter((c) => c.args[0] === value);
      // Every node that did not answer "held" (a held answer proves nothing was written).
      expect(releasedTo.map((c) => c.endpoint)).toEqual(['mem-3', 'mem-4']);
      const nextAttempt = acquires.find((c) => c.at > sentAt)?.at ?? Number.POSITIVE_INFINITY;
      for (const r of releasedTo) expect(r.at).toBeLessThan(nextAttempt);
    }
    expect(cluster.keys().sort()).toEqual(['0:r=other', '1:r=other', '2:r=other']);
  });

  it('a lost vote releases its stragglers only if they did not answer held, before it returns', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 0 });
    for (const i of [0, 1, 2, 3]) cluster.nodes[i]!.set('r', 'other', TTL);
    // Nodes 3 (held) and 4 (free) answer after the vote is lost on nodes 0-2.
    cluster.set(3, { kind: 'up', delayMs: 10 });
    cluster.set(4, { kind: 'up', delayMs: 10 });
    const error = await failure(time, redlock.acquire('r', TTL));
    expect(error.attempts[0]!.nodes.map((n) => n.outcome)).toEqual([
      'held',
      'held',
      'held',
      'pending',
      'pending',
    ]);
    // Node 3's "held" proves nothing was written there: only node 4 gets the release.
    expect(cluster.scriptCalls('quorumlock:release').map((c) => c.endpoint)).toEqual(['mem-4']);
    expect(cluster.keys().sort()).toEqual(['0:r=other', '1:r=other', '2:r=other', '3:r=other']);
    expect(time.now()).toBeGreaterThanOrEqual(20);
  });

  it('a client never blocks itself: its own partial keys are gone before it retries', async () => {
    const { time, cluster, redlock } = setup(3, {
      retryCount: 1,
      retryDelay: 50,
      retryJitter: 0,
      nodeTimeoutMs: 40,
    });
    // Attempt 1 gets node 0 only (node 1 held briefly, node 2 down); attempt 2 must not find node 0 held by itself.
    cluster.nodes[1]!.set('r', 'other', 30);
    cluster.set(2, { kind: 'blackhole' });
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    expect(lock.attempts).toBe(2);
    expect(lock.report.nodes.map((n) => n.outcome)).toEqual(['acquired', 'acquired', 'pending']);
    await time.run(redlock.idle());
  });

  it('calls a custom strategy with increasing attempts and context, and honours its delays', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 10 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 60_000);
    const seen: Array<{ attempt: number; votes: number; elapsed: number }> = [];
    const strategy = (attempt: number, context: RetryContext) => {
      seen.push({ attempt, votes: context.lastAttempt.votes, elapsed: context.elapsedMs });
      expect(Object.isFrozen(context)).toBe(true);
      return attempt < 3 ? attempt * 1_000 : -1;
    };
    const start = time.now();
    expect(await time.run(redlock.acquireLockWithCustomRetry('r', TTL, strategy))).toBeNull();
    expect(seen).toEqual([
      { attempt: 1, votes: 0, elapsed: 0 },
      { attempt: 2, votes: 0, elapsed: 1_000 },
      { attempt: 3, votes: 0, elapsed: 3_000 },
    ]);
    expect([...new Set(cluster.scriptCalls('quorumlock:acquire').map((c) => c.at - start))]).toEqual([
      0, 1_000, 3_000,
    ]);
  });

  it('stops on null, and is still capped by retryCount', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 2 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 60_000);
    const calls: number[] = [];
    const recording = (delay: number | null) => (attempt: number) => {
      calls.push(attempt);
      return delay;
    };
    expect(await time.run(redlock.acquireLockWithCustomRetry('r', TTL, recording(null)))).toBeNull();
    expect(calls).toEqual([1]);
    calls.length = 0;
    expect(await time.run(redlock.acquireLockWithCustomRetry('r', TTL, recording(5)))).toBeNull();
    expect(calls).toEqual([1, 2]);
    expect(new Set(cluster.scriptCalls('quorumlock:acquire').map((c) => c.args[0])).size).toBe(1 + 3);
  });

  it('rejects with a typed error when a strategy returns NaN or a non-number', async () => {
    const { time, cluster, redlock } = setup(3);
    cluster.nodes[0]!.set('r', 'other', 60_000);
    cluster.nodes[1]!.set('r', 'other', 60_000);
    for (const bad of [Number.NaN, '10', undefined]) {
      const error = await time
        .run(redlock.acquireLockWithCustomRetry('r', TTL, () => bad as never))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe('retryStrategy(attempt, context)');
    }
  });

  it('stops at the overall deadline without sleeping past it', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 100, retryDelay: 200, retryJitter: 0 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 60_000);
    const start = time.now();
    const error = await failure(time, redlock.acquire('r', TTL, { timeoutMs: 500 }));
    expect(error.attempts).toHaveLength(3);
    expect(time.now() - start).toBe(400);
  });

  it('abort during a retry delay rejects at once with signal.reason unchanged', async () => {
    const { time, cluster, redlock } = setup(5, { retryDelay: 1_000, retryJitter: 0 });
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set('r', 'other', 60_000);
    const controller = new AbortController();
    const reason = new Error('shutting down');
    time.setTimeout(() => controller.abort(reason), 300);
    const start = time.now();
    const error = await time
      .run(redlock.acquireLock('r', TTL, { signal: controller.signal }))
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(time.now() - start).toBe(300);
    expect(time.pendingTimers).toBe(0);
  });

  it('abort during a round releases on every node, in-flight ones included (row 40)', async () => {
    const { time, cluster, redlock } = setup(5, { nodeTimeoutMs: 1_000 });
    cluster.set(3, { kind: 'up', delayMs: 400 });
    cluster.set(4, { kind: 'up', delayMs: 400 });
    cluster.nodes[0]!.set('r', 'other', 60_000);
    cluster.nodes[1]!.set('r', 'other', 60_000);
    const controller = new AbortController();
    time.setTimeout(() => controller.abort(), 100);
    const error = await time
      .run(redlock.acquireLock('r', TTL, { signal: controller.signal }))
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    await time.run(redlock.idle());
    expect(cluster.keys().sort()).toEqual(['0:r=other', '1:r=other']);
  });

  it('an already-aborted signal sends nothing', async () => {
    const { time, cluster, redlock } = setup(3);
    const error = await time
      .run(redlock.acquireLock('r', TTL, { signal: AbortSignal.abort('stop') }))
      .catch((e) => e);
    expect(error).toBe('stop');
    expect(cluster.calls).toEqual([]);
  });
});
