import { describe, expect, it } from 'vitest';
import { Redlock } from '../../src/redlock.js';
import { describeOverlaps, findOverlaps, type LeaseWindow } from '../support/checkers.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;

/** Warnings emitted while `fn` runs, as `code: message`. */
async function warningsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (w: Error & { code?: string }) => seen.push(`${w.code}: ${w.message}`);
  process.on('warning', listener);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

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
