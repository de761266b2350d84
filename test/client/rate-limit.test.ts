/**
 * The rate limiter on real redis-server: no over-admission under concurrency (a property over
 * random arrival schedules, several client instances), the window's boundaries, cleanup of idle
 * keys, decisions independent of the client's clock, and the counter's O(1) memory.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { RateLimitOptions, RateLimitResult, RedisClient } from '../../src/client/index.js';
import { eventually, useClients } from './helpers.js';

const env = useClients();
const WINDOW = 60_000;
/** The longest window: with it a test of a fraction of a second almost never crosses a fixed window. */
const LONGEST = 2_147_483_647;

let serial = 0;
const freshKey = (name: string) => `${name}:${++serial}`;

/** Yield `turns` turns of the event loop: a cheap, random-enough arrival schedule. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Arrival {
  readonly instance: number;
  readonly delay: number;
  readonly cost: number;
}

/** Every decision admitted, in the order the server made them, must have used units in turn. */
function expectSerialChain(limit: number, admitted: readonly { cost: number; result: RateLimitResult }[]) {
  const inOrder = [...admitted].sort((a, b) => b.result.remaining - a.result.remaining);
  let left = limit;
  for (const { cost, result } of inOrder) {
    left -= cost;
    expect(result.remaining).toBe(left);
  }
}

describe('no over-admission', () => {
  it.each(['log', 'counter'] as const)(
    '%s: 64 concurrent callers over 4 client instances never exceed the limit',
    async (algorithm) => {
      const clients = env.clients(4);
      const arrivals = fc.array(
        fc.record({
          instance: fc.integer({ min: 0, max: 3 }),
          delay: fc.integer({ min: 0, max: 30 }),
          cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })),
        }),
        { minLength: 64, maxLength: 64 },
      );
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 48 }), arrivals, async (limit, schedule: Arrival[]) => {
          const key = freshKey(`prop-${algorithm}`);
          const windowMs = algorithm === 'log' ? WINDOW : LONGEST;
          const before = await env.serverTimeUs();
          const results = await Promise.all(
            schedule.map(async ({ instance, delay, cost }) => {
              await turns(delay);
              const options: RateLimitOptions = { limit, windowMs, cost: Math.min(cost, limit), algorithm };
              return { cost: options.cost!, result: await clients[instance]!.rateLimit(key, options) };
            }),
          );
          const after = await env.serverTimeUs();
          const admitted = results.filter((r) => r.result.allowed);
          const units = admitted.reduce((sum, r) => sum + r.cost, 0);
          const windowUs = windowMs * 1000;
          const sameFixedWindow = Math.floor(before / windowUs) === Math.floor(after / windowUs);
          if (algorithm === 'log' || sameFixedWindow) {
            expect(units).toBeLessThanOrEqual(limit);
            expectSerialChain(limit, admitted);
          } else {
            // Crossing a fixed window boundary, the counter's documented bound (docs/client.md).
            expect(units).toBeLessThan(2 * limit);
          }
          // Nothing expires within the run: when every caller asks for 1 unit, none is refused early.
          if (schedule.every((a) => Math.min(a.cost, limit) === 1) && sameFixedWindow) {
            expect(units).toBe(Math.min(limit, schedule.length));
          }
          if (algorithm === 'log') {
            expect(await env.admin().zcard(`${env.prefix}rate:log:${key}`)).toBe(units);
          }
          for (const { result } of results) {
            expect(result.limit).toBe(limit);
            if (!result.allowed) expect(result.retryAfterMs).toBeGreaterThan(0);
          }
        }),
        { numRuns: 12 },
      );
    },
  );
});

describe('sliding-window log', () => {
  it('counts units younger than the window and drops older ones (boundaries from the server clock)', async () => {
    const c = env.client();
    const key = freshKey('bounds');
    const log = `${env.prefix}rate:log:${key}`;
    const t0 = await env.serverTimeUs();
    // Three units 50 s old (inside a 60 s window), three 70 s old (outside).
    await env
      .admin()
      .zadd(
        log,
        t0 - 50e6,
        'in-1',
        t0 - 50e6 + 1,
        'in-2',
        t0 - 50e6 + 2,
        'in-3',
        t0 - 70e6,
        'out-1',
        t0 - 70e6,
        'out-2',
        t0 - 70e6,
        'out-3',
      );
    const first = await c.rateLimit(key, { limit: 4, windowMs: WINDOW });
    expect(first).toMatchObject({ allowed: true, remaining: 0, limit: 4, retryAfterMs: 0 });
    expect(await env.admin().zcard(log)).toBe(4);
    const second = await c.rateLimit(key, { limit: 4, windowMs: WINDOW });
    const t1 = await env.serverTimeUs();
    expect(second.allowed).toBe(false);
    expect(second.remaining).toBe(0);
    // The oldest counted unit leaves the window 10 s after t0.
    expect(second.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(second.retryAfterMs).toBeGreaterThanOrEqual(10_000 - Math.ceil((t1 - t0) / 1000));
    // The newest unit (admitted just now) leaves a full window later.
    expect(second.resetMs).toBeGreaterThan(WINDOW - Math.ceil((t1 - t0) / 1000) - 1);
    expect(second.resetMs).toBeLessThanOrEqual(WINDOW);
  });

  it('admits a cost all or nothing, and records nothing it refuses', async () => {
    const c = env.client();
    const key = freshKey('cost');
    expect((await c.rateLimit(key, { limit: 5, windowMs: WINDOW, cost: 4 })).remaining).toBe(1);
    const refused = await c.rateLimit(key, { limit: 5, windowMs: WINDOW, cost: 2 });
    expect(refused).toMatchObject({ allowed: false, remaining: 1 });
    expect(await env.admin().zcard(`${env.prefix}rate:log:${key}`)).toBe(4);
    expect((await c.rateLimit(key, { limit: 5, windowMs: WINDOW, cost: 1 })).allowed).toBe(true);
  });

  it('expires an idle key a window after its newest unit; a refusal does not extend it', async () => {
    const c = env.client();
    const key = freshKey('idle');
    const log = `${env.prefix}rate:log:${key}`;
    await c.rateLimit(key, { limit: 1, windowMs: WINDOW });
    const ttl = await env.admin().pttl(log);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW + 1);
    await c.rateLimit(key, { limit: 1, windowMs: WINDOW });
    expect(await env.admin().pttl(log)).toBeLessThanOrEqual(ttl);
    // A short window: the key goes away on its own.
    const short = freshKey('short');
    await c.rateLimit(short, { limit: 3, windowMs: 50 });
    await eventually(
      'the idle key expires',
      async () => (await env.admin().exists(`${env.prefix}rate:log:${short}`)) === 0,
    );
  });

  it('a client clock skewed by minutes changes no decision (the server decides by its TIME)', async () => {
    const [a, b] = env.clients(2);
    const decide = async (client: RedisClient, key: string, algorithm: 'log' | 'counter') =>
      client.rateLimit(key, { limit: 3, windowMs: WINDOW, algorithm });
    for (const algorithm of ['log', 'counter'] as const) {
      const reference = freshKey(`skew-ref-${algorithm}`);
      const skewed = freshKey(`skew-${algorithm}`);
      const expected: boolean[] = [];
      for (let i = 0; i < 5; i++) expected.push((await decide(a!, reference, algorithm)).allowed);
      const seen: RateLimitResult[] = [];
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        const real = Date.now();
        for (let i = 0; i < 5; i++) {
          // Instances a and b alternate, each with the clock ten minutes off in another direction.
          vi.setSystemTime(real + (i % 2 === 0 ? 10 : -10) * 60_000);
          seen.push(await decide(i % 2 === 0 ? a! : b!, skewed, algorithm));
        }
      } finally {
        vi.useRealTimers();
      }
      expect(seen.map((r) => r.allowed)).toEqual(expected);
      expect(expected).toEqual([true, true, true, false, false]);
      for (const r of seen) expect(r.retryAfterMs).toBeLessThanOrEqual(2 * WINDOW);
    }
  });
});

describe('scripts', () => {
  it('run again after the server lost them (NOSCRIPT: EVAL, then EVALSHA again)', async () => {
    const c = env.client();
    const key = freshKey('noscript');
    expect((await c.rateLimit(key, { limit: 2, windowMs: WINDOW })).allowed).toBe(true);
    await env.admin().script('FLUSH');
    for (const algorithm of ['log', 'counter'] as const) {
      expect((await c.rateLimit(key, { limit: 2, windowMs: WINDOW, algorithm })).remaining).toBe(
        algorithm === 'log' ? 0 : 1,
      );
    }
  });
});

describe('sliding-window counter', () => {
  it('keeps O(1) memory per key: one hash of three fields however many decisions', async () => {
    const c = env.client();
    const key = freshKey('o1');
    const options = { limit: 1_000_000, windowMs: WINDOW, algorithm: 'counter' } as const;
    for (let i = 0; i < 20; i++)
      await Promise.all(Array.from({ length: 25 }, () => c.rateLimit(key, options)));
    const hash = `${env.prefix}rate:counter:${key}`;
    expect(await env.admin().type(hash)).toBe('hash');
    expect(await env.admin().hlen(hash)).toBe(3);
    expect(Number(await env.admin().hget(hash, 'c'))).toBe(500);
    const ttl = await env.admin().pttl(hash);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * WINDOW + 1);
  });

  it('weights the previous fixed window by the part of it still inside the sliding window', async () => {
    const c = env.client();
    const key = freshKey('weight');
    const hash = `${env.prefix}rate:counter:${key}`;
    const windowUs = LONGEST * 1000;
    const t0 = await env.serverTimeUs();
    const index = Math.floor(t0 / windowUs);
    // The previous fixed window admitted the full limit; the current one nothing yet.
    await env.admin().hset(hash, 'w', String(index - 1), 'c', '1000', 'p', '0');
    const result = await c.rateLimit(key, { limit: 1000, windowMs: LONGEST, algorithm: 'counter' });
    const t1 = await env.serverTimeUs();
    const fraction = (t: number) => (t - index * windowUs) / windowUs;
    // estimate = 1000 × (1 − f) + 0 → remaining after one unit = floor(1000 f − 1), f between t0 and t1.
    const low = Math.floor(1000 * fraction(t0) - 1);
    const high = Math.floor(1000 * fraction(t1) - 1);
    if (result.allowed) {
      expect(result.remaining).toBeGreaterThanOrEqual(Math.max(0, low - 1));
      expect(result.remaining).toBeLessThanOrEqual(Math.max(0, high + 1));
    } else {
      // Only in the first 0.1% of a fixed window: the previous one still weighs more than 999.
      expect(fraction(t0)).toBeLessThan(0.001);
      expect(result.retryAfterMs).toBeGreaterThan(0);
    }
  });
});
