import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fenceKeyOf, keyOf, keysOf, MAX_KEY_BYTES, RESERVED } from '../../src/keys.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;

function setup(options: { keyPrefix?: string; fencing?: boolean } = {}) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const make = (seed: number) =>
    new Redlock(cluster.clients, { ...options, retryCount: 0, runtime: virtualRuntime(time, seed) });
  return { time, cluster, a: make(1), b: make(2) };
}

const hashed = (prefix: string, resource: string) =>
  `${prefix}${RESERVED}sha256:${createHash('sha256').update(resource).digest('base64url')}`;

describe('long resource names (docs/operations.md, "Long resource names")', () => {
  it('stores a key of up to MAX_KEY_BYTES UTF-8 bytes as it is, and a longer one as the hash of its resource', () => {
    const fits = 'r'.repeat(MAX_KEY_BYTES - 4);
    expect(keyOf('app:', fits)).toBe(`app:${fits}`);
    const over = `${fits}x`;
    expect(keyOf('app:', over)).toBe(hashed('app:', over));
    // Bytes, not characters: 200 three-byte characters are 600 bytes.
    const wide = '€'.repeat(200);
    expect(wide.length * 3).toBeGreaterThan(MAX_KEY_BYTES);
    expect(keyOf('', wide)).toBe(hashed('', wide));
    expect(keyOf('', '€'.repeat(170))).toBe('€'.repeat(170));
    // The same name always gives the same key; names sharing a long beginning do not share it.
    expect(keyOf('app:', over)).toBe(keyOf('app:', over));
    expect(keyOf('app:', `${fits}y`)).not.toBe(keyOf('app:', over));
    // A hashed key contains NUL, which no resource may: it can never be a plain key.
    expect(keyOf('app:', over)).toContain(RESERVED);
    expect(keysOf('app:', ['a', over])).toEqual(['app:a', hashed('app:', over)]);
    expect(keysOf('', ['a', over])).toEqual(['a', over]);
  });

  it('a lock on a long name excludes the same name and only it, fencing and release included', async () => {
    const { time, cluster, a, b } = setup({ keyPrefix: 'app:', fencing: true });
    const long = `https://example.test/${'segment/'.repeat(100)}`;
    const other = `${long}other`;
    for (const name of [long, other]) await time.run(a.initFencing(name));
    const lock = await time.run(a.acquire(long, TTL));
    expect(lock.fencingToken).toBe(1);
    const key = hashed('app:', long);
    expect(cluster.holding(key, lock.value)).toEqual([0, 1, 2, 3, 4]);
    expect(cluster.nodes[0]!.get(fenceKeyOf(key))).toBe('1');
    expect(await time.run(b.acquireLock(long, TTL))).toBeNull();
    const second = await time.run(b.acquire(other, TTL));
    expect(second.fencingToken).toBe(1);
    const seen = await time.run(b.inspect(long));
    expect(seen.nodes.every((n) => n.holder !== null)).toBe(true);
    expect((await time.run(lock.release())).releasedCount).toBe(5);
    expect(cluster.holding(key, lock.value)).toEqual([]);
    await time.run(second.release());
    await time.drain();
  });
});
