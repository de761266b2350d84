import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * The writer-intent policy across partial reach (ADR 019): every attempt of a waiting writer
 * marks each node it reaches, also a node that granted it in an attempt that lost the vote, so
 * readers whose majorities meet the writer's reach are kept out until the readers already in
 * are gone. Before, a grant on some nodes of a lost attempt deleted the intent there, and a
 * stream of readers on {0,3,4} and {1,2,3,4} starved a writer reaching {0,1,2} for ever.
 */
const TTL = 10_000;

function partitioned() {
  const time = new VirtualTime();
  const nodes = Array.from({ length: 5 }, () => new MemoryNode({ clock: time }));
  const client = (reach: readonly number[], seed: number, retryCount = 0) => {
    const clients: RedisClient[] = nodes.map((node, i) =>
      reach.includes(i)
        ? memoryAdapter(node, { endpoint: `n${i}` })
        : { endpoint: `n${i}`, exec: () => new Promise<never>(() => {}) },
    );
    const runtime = virtualRuntime(time, seed);
    return new Redlock(clients, { retryCount, retryDelay: 100, nodeTimeoutMs: 50, runtime });
  };
  return { time, nodes, client };
}

describe('writer intent across partial reach', () => {
  it('a writer that wins some nodes but loses the vote still keeps new readers out, and gets in once the readers leave', async () => {
    const { time, client } = partitioned();
    const writer = client([0, 1, 2], 1, 20).readWrite('doc');
    const a = client([0, 3, 4], 2).readWrite('doc');
    const b = client([1, 2, 3, 4], 3).readWrite('doc');
    const held = await time.run(a.read(TTL));
    // Each attempt: refused on 0 (a reader), granted on 1 and 2, lost; its intent stands on all three.
    const writing = writer.write(TTL);
    let written = false;
    void writing.then(() => {
      written = true;
    });
    for (let i = 0; i < 5; i++) {
      time.jump(100);
      // B's majority needs node 1 or 2, A's node 0: the writer's intent keeps both out.
      expect(await time.run(b.tryRead(TTL))).toBeNull();
      expect(await time.run(a.tryRead(TTL))).toBeNull();
    }
    expect(written).toBe(false);
    await time.run(held.release());
    const w = await time.run(writing);
    expect(w.report.outcome).toBe('acquired');
    await time.run(w.release());
    // The released write withdrew its intent (one for all its attempts): readers come back at once.
    expect(await time.run(b.tryRead(TTL))).not.toBeNull();
  });
});
