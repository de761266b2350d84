import { describe, expect, it } from 'vitest';
import { LockAcquireError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { memoryAdapter } from '../../src/testing/memory.js';
import { describeOverlaps, findOverlaps, type LeaseWindow } from '../support/checkers.js';
import { intercept } from '../support/intercept.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';
import { warningsDuring } from '../support/warnings.js';

const TTL = 10_000;

/**
 * Row 21: A holds exactly {0,1,2} (3 and 4 unreachable to it); node 2 crashes and restarts at
 * once without persistence; B, who reaches only {2,3,4}, tries to take the resource.
 */
async function restartWithoutPersistence(minNodeUptimeMs: number) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const options = { retryCount: 0, minNodeUptimeMs, runtime: virtualRuntime(time) };
  // Let the nodes run for longer than the quarantine before anything happens.
  time.jump(2 * TTL);
  const a = new Redlock(cluster.clients, options);
  for (const i of [3, 4]) cluster.set(i, { kind: 'refused' });
  const lockA = (await time.run(a.acquireLock('r', TTL)))!;
  const windows: LeaseWindow[] = [{ holder: 'A', resource: 'r', start: time.now(), end: lockA.deadlineMs }];
  cluster.nodes[2]!.restart({ persist: false });
  for (const i of [0, 1]) cluster.set(i, { kind: 'refused' });
  for (const i of [3, 4]) cluster.set(i, { kind: 'up' });
  const b = new Redlock(cluster.clients, options);
  const lockB = await time.run(b.acquireLock('r', TTL));
  if (lockB) windows.push({ holder: 'B', resource: 'r', start: time.now(), end: lockB.deadlineMs });
  return { lockB, overlaps: findOverlaps(windows), time, cluster, b };
}

describe('uptime quarantine: the delayed restart enforced by the client (R14, row 21)', () => {
  it('without it, a restart without persistence lets a second holder in (negative control)', async () => {
    const { lockB, overlaps } = await restartWithoutPersistence(0);
    expect(lockB).not.toBeNull();
    expect(overlaps, describeOverlaps(overlaps)).toHaveLength(1);
  });

  it('with it, the restarted node does not vote until its uptime reaches the longest TTL', async () => {
    const { lockB, overlaps, time, cluster, b } = await restartWithoutPersistence(TTL);
    expect(lockB).toBeNull();
    expect(overlaps).toEqual([]);
    // After the quarantine, the node votes again.
    time.jump(TTL + 1_000);
    cluster.nodes[2]!.del('r');
    const later = await time.run(b.acquire('r', TTL));
    expect(later.report.nodes.map((n) => n.outcome)).not.toContain('quarantined');
  });

  it('reports a quarantined vote as such', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    time.jump(5_000);
    cluster.nodes[1]!.restart({ persist: true });
    const redlock = new Redlock(cluster.clients, { minNodeUptimeMs: 3_000, runtime: virtualRuntime(time) });
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    await time.run(redlock.idle());
    expect(lock.report.nodes.map((n) => n.outcome)).toEqual(['acquired', 'quarantined', 'acquired']);
  });
});

describe('first-contact warnings (R14)', () => {
  it('warns once per node about eviction and missing persistence, and describes each node', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    cluster.nodes[0]!.maxmemoryPolicy = 'allkeys-lru';
    cluster.nodes[2]!.aofEnabled = false;
    const redlock = new Redlock(cluster.clients, { runtime: virtualRuntime(time) });
    expect(redlock.nodeInfo().map((n) => n.info)).toEqual([undefined, undefined, undefined]);
    const warnings = await warningsDuring(async () => {
      for (let i = 0; i < 3; i++) await time.run(redlock.acquireLock(`r${i}`, TTL));
      await time.run(redlock.idle());
    });
    expect(warnings).toEqual([
      expect.stringMatching(/^QUORUMLOCK_EVICTION_POLICY: node 0 \(mem-0\) has maxmemory-policy allkeys-lru/),
      expect.stringMatching(/^QUORUMLOCK_PERSISTENCE: node 2 \(mem-2\) runs without AOF/),
    ]);
    expect(redlock.nodeInfo()[2]).toMatchObject({
      endpoint: 'mem-2',
      info: { aofEnabled: false, maxmemoryPolicy: 'noeviction' },
    });
  });
});

describe('a node whose INFO was not read is not vetted (R1, R14)', () => {
  /** Nodes [A, down, C]; C answers `BUSY` to its first call, INFO and script alike. */
  function busyFirst(minNodeUptimeMs: number) {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    time.jump(2 * TTL);
    cluster.set(1, { kind: 'refused' });
    const busy = new Error(
      'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.',
    );
    const clients = intercept(cluster.clients, (node, call, _commands, replies) =>
      node === 2 && call === 1 ? { replies: replies.map(() => busy) } : { replies },
    );
    const redlock = new Redlock(clients, { retryCount: 0, minNodeUptimeMs, runtime: virtualRuntime(time) });
    return { time, cluster, redlock };
  }

  it('with the uptime guard, probes again and quarantines a node restarted without persistence', async () => {
    const { time, cluster, redlock } = busyFirst(2_000);
    expect(await time.run(redlock.acquireLock('warm-up', TTL))).toBeNull();
    cluster.nodes[2]!.restart({ persist: false });
    const error = await time.run(redlock.acquire('r', TTL)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    expect((error as LockAcquireError).nodes.map((n) => n.outcome)).toEqual([
      'acquired',
      'error',
      'quarantined',
    ]);
    expect(redlock.nodeInfo()[2]!.info).toBeDefined();
  });

  it('a transient error on first contact is no vote, and the next call vets the node', async () => {
    const { time, cluster, redlock } = busyFirst(0);
    cluster.set(1, { kind: 'up' });
    const first = await time.run(redlock.acquire('a', TTL));
    expect(first.report.votes).toBe(2);
    expect(['error', 'pending']).toContain(first.report.nodes[2]!.outcome);
    await time.run(redlock.idle());
    expect(redlock.nodeInfo().map((n) => n.info !== undefined)).toEqual([true, true, false]);
    await time.run(redlock.acquire('b', TTL));
    await time.run(redlock.idle());
    expect(redlock.nodeInfo().map((n) => n.info !== undefined)).toEqual([true, true, true]);
  });

  it('a second address of the same server whose first INFO failed is caught on a later call', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    // The alias comes second, so its answer is in before the round is decided.
    const [m0, m1, m2] = cluster.clients;
    const aliases = [m0!, memoryAdapter(cluster.nodes[0]!, { endpoint: 'mem-0-alias' }), m1!, m2!];
    const loading = new Error('LOADING Redis is loading the dataset in memory');
    const clients = intercept(aliases, (node, call, commands, replies) =>
      node === 1 && call === 1
        ? { replies: replies.map((r, i) => (commands[i]!.type === 'info' ? loading : r)) }
        : { replies },
    );
    const redlock = new Redlock(clients, { retryCount: 0, runtime: virtualRuntime(time) });
    await time.run(redlock.acquireLock('a', TTL));
    await time.run(redlock.idle());
    const second = await time.run(redlock.acquire('b', TTL));
    await time.run(redlock.idle());
    expect(redlock.nodeInfo()[1]!.info?.runId).toBe(cluster.nodes[0]!.runId);
    expect(second.report.nodes[1]!.outcome).toBe('duplicate');
  });

  it('INFO refused for good (ACL): without the guard the vote counts; with it, it never does', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    time.jump(2 * TTL);
    // Node 0 is down: a lock needs node 2's vote.
    cluster.set(0, { kind: 'refused' });
    const noperm = new Error("NOPERM this user has no permissions to run the 'info' command");
    const clients = intercept(cluster.clients, (node, _call, commands, replies) =>
      node === 2
        ? { replies: replies.map((r, i) => (commands[i]!.type === 'info' ? noperm : r)) }
        : { replies },
    );
    const open = new Redlock(clients, { retryCount: 0, runtime: virtualRuntime(time) });
    const lock = await time.run(open.acquire('a', TTL));
    expect(lock.report.nodes.map((n) => n.outcome)).toEqual(['error', 'acquired', 'acquired']);
    const guarded = new Redlock(clients, {
      retryCount: 0,
      minNodeUptimeMs: 1_000,
      runtime: virtualRuntime(time, 2),
    });
    for (const resource of ['b', 'c']) {
      const error = (await time
        .run(guarded.acquire(resource, TTL))
        .catch((e: unknown) => e)) as LockAcquireError;
      expect(error.nodes.map((n) => n.outcome)).toEqual(['error', 'acquired', 'quarantined']);
      expect(error.nodes[2]!.error?.message).toMatch(
        /INFO refused, so minNodeUptimeMs cannot vet this node: NOPERM/,
      );
    }
    await time.run(open.idle());
    await time.run(guarded.idle());
  });
});
