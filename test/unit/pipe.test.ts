import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;

function setup(coalesce: boolean) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const redlock = new Redlock(cluster.clients, { coalesce, retryCount: 0, runtime: virtualRuntime(time) });
  return { time, cluster, redlock };
}

describe('coalescing (ADR 009)', () => {
  it('sends the operations issued in one turn as one call per node, with the same outcomes', async () => {
    const on = setup(true);
    const off = setup(false);
    const run = async ({ time, cluster, redlock }: ReturnType<typeof setup>) => {
      const locks = await time.run(
        Promise.all(Array.from({ length: 16 }, (_, i) => redlock.acquireLock(`r${i}`, TTL))),
      );
      expect(locks.every((l) => l !== null)).toBe(true);
      await time.run(Promise.all(locks.map((l) => l!.release())));
      await time.run(redlock.idle());
      expect(cluster.keys()).toEqual([]);
      return cluster.calls.length;
    };
    // 16 acquires and 16 releases to 5 nodes: 160 calls one by one; coalesced, a few per node.
    expect(await run(off)).toBe(160);
    const coalesced = await run(on);
    expect(coalesced).toBeLessThanOrEqual(4 * 5);
    expect(
      on.cluster.calls.some((c) =>
        c.commands.some((x) => x.type === 'eval' && x.script.name === 'quorumlock:batch'),
      ),
    ).toBe(true);
  });

  it('keeps contention exact inside one batch: one of two same-turn acquires of a resource wins', async () => {
    const { time, cluster, redlock } = setup(true);
    const [a, b] = await time.run(
      Promise.all([redlock.acquireLock('same', TTL), redlock.acquireLock('same', TTL)]),
    );
    expect([a, b].filter((l) => l !== null)).toHaveLength(1);
    await time.run(redlock.idle());
    const winner = (a ?? b)!;
    expect(cluster.holding('same', winner.value)).toHaveLength(5);
  });

  it('a failed call fails every operation it carried, as a per-node error', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    let calls = 0;
    const flaky: RedisClient[] = cluster.clients.map((client, i) => ({
      endpoint: client.endpoint,
      exec(commands) {
        calls++;
        if (i === 0) return Promise.reject(new Error('ECONNRESET'));
        return client.exec(commands);
      },
    }));
    const redlock = new Redlock(flaky, { retryCount: 0, runtime: virtualRuntime(time) });
    const locks = await time.run(
      Promise.all([
        redlock.acquireLock('x', TTL),
        redlock.acquireLock('y', TTL),
        redlock.acquireLock('z', TTL),
      ]),
    );
    for (const lock of locks) expect(lock!.report.nodes[0]!.outcome).toBe('error');
    // Per node: the first acquire goes out alone (nothing in flight), the next two together.
    expect(calls).toBe(6);
  });
});
