import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { holderHash } from '../../src/inspect.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/** inspect (R12): what each node says about each key, never the value itself. */
const TTL = 10_000;

function setup(options: RedlockOptions = {}) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const redlock = new Redlock(cluster.clients, { retryCount: 0, ...options, runtime: virtualRuntime(time) });
  return { time, cluster, redlock };
}

describe('inspect', () => {
  it('names holders by a SHA-256 prefix, says which keys are ours, and waits for every node', async () => {
    const { time, cluster, redlock } = setup({ keyPrefix: 'p:' });
    const lock = await time.run(redlock.acquire(['a', 'b'], TTL));
    cluster.nodes[0]!.del('p:b');
    cluster.nodes[1]!.set('p:a', 'other', TTL);
    cluster.nodes[2]!.del('p:a');
    cluster.nodes[2]!.del('p:b');
    cluster.set(3, { kind: 'blackhole' });
    cluster.set(4, { kind: 'refused' });
    const start = time.now();
    const result = await time.run(redlock.inspect(['a', 'b'], { value: lock.value }));
    expect(time.now() - start).toBe(500);
    expect(Object.isFrozen(result)).toBe(true);
    expect(result.resources).toEqual(['a', 'b']);
    const mine = holderHash(lock.value);
    expect(result.nodes.map((n) => [n.outcome, n.keys])).toEqual([
      [
        'held',
        [
          { resource: 'a', holder: mine, ttlMs: TTL, mine: true },
          { resource: 'b', holder: null, ttlMs: -2, mine: false },
        ],
      ],
      [
        'held',
        [
          { resource: 'a', holder: holderHash('other'), ttlMs: TTL, mine: false },
          { resource: 'b', holder: mine, ttlMs: TTL, mine: true },
        ],
      ],
      [
        'not-held',
        [
          { resource: 'a', holder: null, ttlMs: -2, mine: false },
          { resource: 'b', holder: null, ttlMs: -2, mine: false },
        ],
      ],
      ['timeout', []],
      ['error', []],
    ]);
  });

  it('without a value, says nothing about whose keys they are; waits the configured per-node timeout', async () => {
    const { time, cluster, redlock } = setup({ nodeTimeoutMs: 80 });
    await time.run(redlock.acquire('a', TTL));
    cluster.set(0, { kind: 'blackhole' });
    const start = time.now();
    const result = await time.run(redlock.inspect('a'));
    expect(time.now() - start).toBe(80);
    expect(result.nodes[1]!.keys).toStrictEqual([{ resource: 'a', holder: expect.any(String), ttlMs: TTL }]);
  });

  it('rejects with the signal’s reason when aborted', async () => {
    const { time, redlock } = setup();
    const reason = new Error('stop');
    await expect(time.run(redlock.inspect('a', { signal: AbortSignal.abort(reason) }))).rejects.toBe(reason);
  });

  it('holderHash is the first 12 hex digits of the SHA-256 of the value', () => {
    expect(holderHash('v')).toBe(createHash('sha256').update('v').digest('hex').slice(0, 12));
    expect(holderHash('v')).toHaveLength(12);
  });
});
