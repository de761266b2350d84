/**
 * The JSON cache on real redis-server: round trips, TTLs, values refused before anything is
 * written, values that are not JSON, and getOrSet's stampede protection across instances.
 */
import { describe, expect, it } from 'vitest';
import { CacheValueError } from '../../src/client/index.js';
import { InvalidArgumentError } from '../../src/index.js';
import { useClients } from './helpers.js';

const env = useClients();
let serial = 0;
const freshKey = (name: string) => `${name}:${++serial}`;
const stored = (key: string) => `${env.prefix}cache:${key}`;

describe('get, set, del, exists', () => {
  it.each([
    ['an object', { a: 1, b: [true, null, 'x'], c: { d: -2.5 } }],
    ['a string', 'text'],
    ['zero', 0],
    ['null', null],
    ['an empty array', []],
  ])('round-trips %s', async (_what, value) => {
    const c = env.client();
    const key = freshKey('rt');
    expect(await c.exists(key)).toBe(false);
    expect(await c.get(key)).toBeUndefined();
    await c.set(key, value);
    expect(await c.exists(key)).toBe(true);
    expect(await c.get(key)).toEqual(value);
    expect(await c.del(key)).toBe(true);
    expect(await c.del(key)).toBe(false);
    expect(await c.get(key)).toBeUndefined();
  });

  it('sets a TTL when asked, none otherwise', async () => {
    const c = env.client();
    const [a, b] = [freshKey('ttl'), freshKey('no-ttl')];
    await c.set(a, 1, { ttlMs: 30_000 });
    await c.set(b, 1);
    const ttl = await env.admin().pttl(stored(a));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await env.admin().pttl(stored(b))).toBe(-1);
  });

  it('refuses a value JSON cannot represent and leaves the stored one as it was', async () => {
    const c = env.client();
    const key = freshKey('refused');
    await c.set(key, { v: 1 });
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    for (const bad of [{ v: 2n }, cycle, undefined, { v: undefined }]) {
      await expect(c.set(key, bad)).rejects.toThrow(InvalidArgumentError);
    }
    expect(await c.get(key)).toEqual({ v: 1 });
    const fresh = freshKey('never');
    await expect(c.set(fresh, [1n])).rejects.toThrow(/value\[0\] is a BigInt/);
    expect(await env.admin().exists(stored(fresh))).toBe(0);
  });

  it('reads a stored value that is not JSON as a CacheValueError naming the key', async () => {
    const c = env.client();
    const key = freshKey('corrupt');
    await env.admin().set(stored(key), '{not json');
    const error = await c.get(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheValueError);
    expect((error as CacheValueError).key).toBe(key);
    expect((error as Error).message).toContain(JSON.stringify(key));
    await expect(c.getOrSet(key, 1000, () => 1)).rejects.toThrow(CacheValueError);
  });
});

describe('getOrSet', () => {
  it('50 concurrent callers over 3 client instances on a cold key call compute once', async () => {
    const instances = env.clients(3);
    const key = freshKey('stampede');
    let calls = 0;
    const compute = async () => {
      calls++;
      // Let every other caller arrive while this one computes.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      return { answer: 42 };
    };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        instances[i % 3]!.getOrSet(key, 60_000, compute, { waitMs: 30_000 }),
      ),
    );
    expect(calls).toBe(1);
    for (const r of results) expect(r).toEqual({ answer: 42 });
    expect(await instances[0]!.get(key)).toEqual({ answer: 42 });
    // The fill lock is gone once the value is in.
    expect(await env.admin().keys(`${env.prefix}fill:*`)).toEqual([]);
  });

  it('returns a cached value without computing', async () => {
    const c = env.client();
    const key = freshKey('warm');
    await c.set(key, 'cached');
    expect(await c.getOrSet(key, 1000, () => 'computed')).toBe('cached');
  });

  it('a compute that throws rejects every sharing caller, writes nothing, and frees the lock', async () => {
    const c = env.client();
    const key = freshKey('throws');
    const failure = new Error('backend down');
    let calls = 0;
    const failing = async () => {
      calls++;
      await new Promise((resolve) => setImmediate(resolve));
      throw failure;
    };
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => c.getOrSet(key, 1000, failing)));
    expect(calls).toBe(1);
    for (const s of settled) expect(s).toEqual({ status: 'rejected', reason: failure });
    expect(await c.exists(key)).toBe(false);
    expect(await c.getOrSet(key, 1000, () => 'second try')).toBe('second try');
  });

  it('a compute whose value JSON cannot represent is refused and nothing is written', async () => {
    const c = env.client();
    const key = freshKey('bigint');
    const error = await c.getOrSet(key, 1000, () => ({ n: 1n })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('compute() result');
    expect(await c.exists(key)).toBe(false);
  });

  it('waits a bounded time for a holder that never delivers, then computes itself', async () => {
    const c = env.client();
    const key = freshKey('stuck');
    // Another process holds the fill lock and never writes the value.
    await env.admin().set(`${env.prefix}fill:${key}`, 'someone-else', 'PX', 60_000);
    let calls = 0;
    const value = await c.getOrSet(key, 1000, () => ++calls, { waitMs: 100 });
    expect(value).toBe(1);
    expect(calls).toBe(1);
    expect(await c.get(key)).toBe(1);
    expect(await env.admin().get(`${env.prefix}fill:${key}`)).toBe('someone-else');
  });
});
