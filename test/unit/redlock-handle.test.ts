import { describe, expect, it } from 'vitest';
import { formatNodes } from '../../src/errors.js';
import type { Lock } from '../../src/lock.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';
import { acquireFailureOn, memoryRedlock } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;
const DRIFT = Math.floor(TTL * 0.01) + 2;

const setup = memoryRedlock;
const failure = acquireFailureOn;

describe('release (R6)', () => {
  it('is idempotent, reports "not held" per node, and never deletes another holder', async () => {
    const { time, cluster, redlock } = setup();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    expect((await time.run(redlock.releaseLock('r', 'wrong-value'))).releasedCount).toBe(0);
    expect(cluster.holding('r', lock.value)).toHaveLength(5);
    expect((await time.run(lock.release())).releasedCount).toBe(5);
    const twice = await time.run(lock.release());
    expect(twice).toMatchObject({ releasedCount: 0, notHeldCount: 5, failedCount: 0 });
    expect(twice.nodes.every((n) => n.holder === 'absent')).toBe(true);
    // After expiry another client took the resource: the stale release deletes nothing.
    const other = (await time.run(redlock.acquireLock('r', TTL)))!;
    const stale = await time.run(redlock.releaseLock('r', lock.value));
    expect(stale.nodes.map((n) => n.holder)).toEqual(['foreign', 'foreign', 'foreign', 'foreign', 'foreign']);
    expect(cluster.holding('r', other.value)).toHaveLength(5);
  });

  it('waits for a slow node within the timeout and reports an unreachable one as failed', async () => {
    const { time, cluster, redlock } = setup(5, { nodeTimeoutMs: 500 });
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    cluster.set(0, { kind: 'up', delayMs: 300 });
    cluster.set(1, { kind: 'blackhole' });
    const result = await time.run(lock.release());
    expect(result.nodes.map((n) => n.outcome)).toEqual([
      'released',
      'timeout',
      'released',
      'released',
      'released',
    ]);
    expect(result).toMatchObject({ releasedCount: 4, failedCount: 1 });
    expect(cluster.holding('r', lock.value)).toEqual([1]);
  });
});

describe('renew (R7, R8)', () => {
  it('extends on a quorum with validity recomputed from the renew start, and updates the Lock', async () => {
    const { time, cluster, redlock } = setup();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    time.jump(4_000);
    const renewStart = time.now();
    expect(await time.run(redlock.renewLock('r', lock.value, 20_000))).toBe(true);
    expect(lock.deadlineMs).toBe(renewStart + 20_000 - 202);
    expect(lock.validityMs).toBe(20_000 - 202);
    for (const node of cluster.nodes) expect(node.pttl('r')).toBe(20_000);
    expect(await time.run(lock.renew())).toBe(true);
    expect(lock.validityMs).toBe(TTL - DRIFT);
  });

  it('is false for a wrong value, and creates nothing', async () => {
    const { time, cluster, redlock } = setup();
    expect(await time.run(redlock.renewLock('r', 'nobody', TTL))).toBe(false);
    expect(cluster.keys()).toEqual([]);
  });

  it('is refused locally, with nothing sent, once the deadline has passed or after release', async () => {
    const { time, cluster, redlock } = setup();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    time.jump(TTL - DRIFT);
    const sent = cluster.calls.length;
    expect(await time.run(lock.renew())).toBe(false);
    expect(await time.run(redlock.renew('r', lock.value, TTL))).toMatchObject({
      renewed: false,
      reason: 'expired',
    });
    expect(cluster.calls.length).toBe(sent);
    const fresh = (await time.run(redlock.acquireLock('s', TTL)))!;
    await time.run(fresh.release());
    const afterRelease = cluster.calls.length;
    expect(await time.run(fresh.renew())).toBe(false);
    expect(cluster.calls.length).toBe(afterRelease);
    // Released, the value is no longer this Redlock's: renewLock asks the nodes, which say no.
    expect(await time.run(redlock.renew('s', fresh.value, TTL))).toMatchObject({
      renewed: false,
      reason: 'no-quorum',
    });
    expect(cluster.keys().filter((k) => k.includes(':s='))).toEqual([]);
  });

  it('is false when the majority was lost, and never re-creates keys then (R8)', async () => {
    const { time, cluster, redlock } = setup();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    for (const i of [0, 1, 2]) cluster.nodes[i]!.del('r');
    const before = lock.deadlineMs;
    expect(await time.run(lock.renew())).toBe(false);
    expect(lock.deadlineMs).toBe(before);
    expect(cluster.holding('r', lock.value)).toEqual([3, 4]);
    expect(cluster.scriptCalls('quorumlock:repair')).toEqual([]);
  });

  it('re-creates a missing key only after the strict renew reached quorum (R8)', async () => {
    const { time, cluster, redlock } = setup();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    cluster.nodes[2]!.restart({ persist: false });
    cluster.nodes[4]!.set('r', 'intruder', TTL);
    const result = await time.run(redlock.renew('r', lock.value, TTL));
    expect(result.renewed).toBe(true);
    expect(result.votes).toBe(3);
    expect(cluster.holding('r', lock.value)).toEqual([0, 1, 2, 3]);
    expect(cluster.nodes[4]!.get('r')).toBe('intruder');
  });

  it('a value this Redlock does not know gets the strict server-side renew only', async () => {
    const { time, cluster, redlock } = setup();
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    const stranger = new Redlock(cluster.clients, { runtime: virtualRuntime(time) });
    time.jump(TTL - DRIFT + 1);
    // Past the holder's local deadline but before the keys expire: the server still says yes.
    expect(await time.run(stranger.renewLock('r', lock.value, TTL))).toBe(true);
  });
});

describe('nodes that are the same server (R1)', () => {
  it('counts one vote per run_id and warns', async () => {
    const time = new VirtualTime();
    const shared = new MemoryNode({ clock: time });
    const other = new MemoryNode({ clock: time });
    const clients = [
      memoryAdapter(shared, { endpoint: 'a:1' }),
      memoryAdapter(shared, { endpoint: 'b:1' }),
      memoryAdapter(other, { endpoint: 'c:1' }),
    ];
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? '');
    process.on('warning', onWarning);
    try {
      const redlock = new Redlock(clients, { runtime: virtualRuntime(time) });
      const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
      expect(lock.report.nodes.map((n) => n.outcome)).toEqual(['acquired', 'duplicate', 'acquired']);
      expect(lock.report.votes).toBe(2);
      other.del('r');
      // Without de-duplication the two addresses of one server would renew with 2 of 3 votes.
      const renewed = await time.run(redlock.renew('r', lock.value, TTL));
      expect(renewed.renewed).toBe(false);
      expect(renewed.nodes.map((n) => n.outcome)).toEqual(['renewed', 'duplicate', 'not-held']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toContain('QUORUMLOCK_DUPLICATE_NODE');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('warns when a node may evict lock keys', async () => {
    const time = new VirtualTime();
    const nodes = [0, 1, 2].map(() => new MemoryNode({ clock: time }));
    nodes[1]!.maxmemoryPolicy = 'volatile-lru';
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(`${w.code}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const redlock = new Redlock(
        nodes.map((n, i) => memoryAdapter(n, { endpoint: `n${i}` })),
        { runtime: virtualRuntime(time) },
      );
      await time.run(redlock.acquireLock('r', TTL));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([
        expect.stringMatching(/^QUORUMLOCK_EVICTION_POLICY: node 1 \(n1\) has maxmemory-policy volatile-lru/),
      ]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('the Lock handle', () => {
  it('releases on `await using`', async () => {
    const { time, cluster, redlock } = setup(3);
    let value = '';
    await time.run(
      (async () => {
        await using lock = (await redlock.acquireLock('r', TTL)) as Lock;
        value = lock.value;
        expect(cluster.holding('r', value)).toHaveLength(3);
      })(),
    );
    expect(cluster.keys()).toEqual([]);
  });

  it('never shows its value in JSON', async () => {
    const { time, redlock } = setup(3);
    const lock = (await time.run(redlock.acquireLock('r', TTL)))!;
    expect(JSON.stringify(lock)).not.toContain(lock.value);
  });

  it('formats every node for a failing test', async () => {
    const { time, cluster, redlock } = setup(3, { retryCount: 0 });
    cluster.nodes[0]!.set('r', 'x', TTL);
    cluster.set(1, { kind: 'refused' });
    const error = await failure(time, redlock.acquire('r', TTL));
    expect(formatNodes(error.nodes)).toMatch(
      /node 0 mem-0: held [\d.]+ ms\n {2}node 1 mem-1: error [\d.]+ ms ECONNREFUSED/,
    );
  });
});
