import { describe, expect, it } from 'vitest';
import { formatNodes, LockAcquireError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { quorumOf } from '../../src/validity.js';
import { useSharedNodes } from '../support/real-nodes.js';

const nodes = useSharedNodes();
const TTL = 30_000;

/** Every subset of `n` node indexes, as bit masks. */
const masks = (n: number) => Array.from({ length: 2 ** n }, (_, m) => m);

describe('every subset of nodes pre-held by another value (redsync TestMutexQuorum, row 6)', () => {
  for (const n of [1, 2, 3, 4, 5]) {
    it(`N = ${n}: acquired exactly when the free nodes reach quorum ${quorumOf(n)}`, async () => {
      const redlock = new Redlock(nodes.clients.slice(0, n), { retryCount: 0, nodeTimeoutMs: 2_000 });
      const admins = nodes.admins.slice(0, n);
      for (const mask of masks(n)) {
        const resource = nodes.key(`mask:${n}:${mask}`);
        const held = admins.map((_, i) => (mask & (1 << i)) !== 0);
        await Promise.all(
          admins.map((a, i) => (held[i] ? a.set(resource, 'foreign', 'PX', TTL) : undefined)),
        );
        const free = held.filter((h) => !h).length;
        const result = await redlock.acquire(resource, TTL).catch((e: unknown) => e);
        // Decided at quorum: let the last nodes answer before reading every node.
        await redlock.idle();
        const report =
          result instanceof LockAcquireError
            ? result.nodes
            : (result as { report: { nodes: [] } }).report.nodes;
        const context = `N=${n} mask=${mask.toString(2).padStart(n, '0')} free=${free}\n${formatNodes(report)}`;
        const values = await Promise.all(admins.map((a) => a.get(resource)));
        const pttls = await Promise.all(admins.map((a) => a.pttl(resource)));
        if (free >= quorumOf(n)) {
          expect(result, context).not.toBeInstanceOf(Error);
          const lock = result as Awaited<ReturnType<typeof redlock.acquire>>;
          for (const [i, v] of values.entries()) expect(v, context).toBe(held[i] ? 'foreign' : lock.value);
          await lock.release();
        } else {
          expect(result, context).toBeInstanceOf(LockAcquireError);
          expect((result as LockAcquireError).reason, context).toBe('contended');
          // Foreign keys untouched, our partial keys gone.
          for (const [i, v] of values.entries()) expect(v, context).toBe(held[i] ? 'foreign' : null);
        }
        pttls.forEach((p, i) => {
          if (held[i]) expect(p, context).toBeGreaterThan(TTL - 10_000);
        });
        const after = await Promise.all(admins.map((a) => a.get(resource)));
        for (const [i, v] of after.entries()) expect(v, context).toBe(held[i] ? 'foreign' : null);
        await Promise.all(admins.map((a) => a.del(resource)));
      }
      await redlock.idle();
    });
  }
});

describe('a baseline acquisition (row 1)', () => {
  it('sets the key on all 5 nodes with the value and a PTTL close to the ttl, and release removes all 5', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('baseline');
    const lock = (await redlock.acquireLock(resource, TTL))!;
    expect(lock).not.toBeNull();
    await redlock.idle();
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lock.value));
    for (const pttl of await nodes.pttls(resource)) {
      expect(pttl).toBeLessThanOrEqual(TTL);
      expect(pttl).toBeGreaterThan(TTL - 10_000);
    }
    expect(lock.validityMs).toBeLessThanOrEqual(TTL - (Math.floor(TTL * 0.01) + 2) - lock.report.elapsedMs);
    const released = await lock.release();
    expect(released.releasedCount, formatNodes(released.nodes)).toBe(5);
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
  });

  it('locks several resources all or nothing on each node', async () => {
    const redlock = new Redlock(nodes.clients, { retryCount: 0 });
    const [a, b] = [nodes.key('multi:a'), nodes.key('multi:b')];
    await Promise.all(nodes.admins.slice(0, 3).map((admin) => admin.set(b, 'foreign', 'PX', TTL)));
    expect(await redlock.acquireLock([a, b], TTL)).toBeNull();
    expect(await nodes.values(a)).toEqual(Array(5).fill(null));
    await Promise.all(nodes.admins.map((admin) => admin.del(b)));
    const lock = (await redlock.acquireLock([a, b], TTL))!;
    await redlock.idle();
    expect(await nodes.values(a)).toEqual(Array(5).fill(lock.value));
    expect(await nodes.values(b)).toEqual(Array(5).fill(lock.value));
    await lock.release();
    expect([...(await nodes.values(a)), ...(await nodes.values(b))]).toEqual(Array(10).fill(null));
  });
});
