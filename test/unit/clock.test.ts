import { performance } from 'node:perf_hooks';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { cryptoRandom, defaultRuntime, systemClock, systemTimers, wallClock } from '../../src/clock.js';

/**
 * The production runtime of src/clock.ts. The CSPRNG is replaced by a scripted one, so the test
 * sees exactly which bytes of which refill each value receives.
 */
const csprng = vi.hoisted(() => ({
  /** Calls so far; call k fills with byte (k * 31 + i) & 255 at index i, after `script`. */
  calls: 0,
  /** Bytes the next call puts first. */
  script: [] as number[],
  lengths: [] as number[],
}));

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    randomFillSync: (target: Uint8Array) => {
      const k = ++csprng.calls;
      csprng.lengths.push(target.length);
      for (let i = 0; i < target.length; i++) target[i] = csprng.script[i] ?? (k * 31 + i) & 255;
      csprng.script = [];
      return target;
    },
  };
});

/** The bytes call `k` of the CSPRNG gave at [from, from + n). */
const bytesOf = (k: number, from: number, n: number) =>
  Array.from({ length: n }, (_, i) => (k * 31 + from + i) & 255);

beforeEach(() => {
  csprng.calls = 0;
  csprng.script = [];
  csprng.lengths = [];
});

describe('cryptoRandom: a pool of CSPRNG bytes (R2)', () => {
  it('hands out every byte of a refill once, in order, and refills only when the pool is used up', () => {
    const random = cryptoRandom();
    expect(csprng.calls).toBe(0);
    const value = new Uint8Array(16);
    const values: number[][] = [];
    for (let i = 0; i < 256; i++) {
      random.fill(value);
      values.push([...value]);
    }
    // 256 values of 16 bytes: exactly the 4096 bytes of one refill.
    expect(csprng.lengths).toEqual([4096]);
    expect(values).toEqual(values.map((_v, i) => bytesOf(1, 16 * i, 16)));
    random.fill(value);
    expect(csprng.lengths).toEqual([4096, 4096]);
    expect([...value]).toEqual(bytesOf(2, 0, 16));
  });

  it('refills rather than hand out a value that would run past the end of the pool', () => {
    const random = cryptoRandom();
    const big = new Uint8Array(4090);
    random.fill(big);
    expect([...big]).toEqual(bytesOf(1, 0, 4090));
    const value = new Uint8Array(16);
    random.fill(value);
    expect(csprng.lengths).toEqual([4096, 4096]);
    expect([...value]).toEqual(bytesOf(2, 0, 16));
  });

  it('fills a target larger than the pool straight from the CSPRNG, leaving the pool as it was', () => {
    const random = cryptoRandom();
    const value = new Uint8Array(16);
    random.fill(value);
    const huge = new Uint8Array(5_000);
    random.fill(huge);
    expect(csprng.lengths).toEqual([4096, 5_000]);
    expect([...huge]).toEqual(bytesOf(2, 0, 5_000));
    random.fill(value);
    expect([...value]).toEqual(bytesOf(1, 16, 16));
  });

  it('float() reads 4 bytes big-endian as a fraction of 2^32, in [0, 1)', () => {
    const random = cryptoRandom();
    csprng.script = [0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0];
    expect(random.float()).toBe((2 ** 32 - 1) / 2 ** 32);
    expect(random.float()).toBe(0.5);
    expect(random.float()).toBe(2 ** -32);
    expect(random.float()).toBe(0x12345678 / 2 ** 32);
    expect(random.float()).toBe(0);
    expect(csprng.lengths).toEqual([4096]);
    // Shares the pool with fill(): the next bytes come after the 20 read.
    const value = new Uint8Array(4);
    random.fill(value);
    expect([...value]).toEqual(bytesOf(1, 20, 4));
  });
});

describe('the system runtime', () => {
  it('reads the monotonic clock and the wall clock', () => {
    const before = performance.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(performance.now());
    const wallBefore = Date.now();
    const wall = wallClock.now();
    expect(wall).toBeGreaterThanOrEqual(wallBefore);
    expect(wall).toBeLessThanOrEqual(Date.now());
  });

  it('sets and clears timers of the event loop', async () => {
    const fired: string[] = [];
    systemTimers.setTimeout(() => fired.push('kept'), 0);
    const cleared = systemTimers.setTimeout(() => fired.push('cleared'), 0);
    systemTimers.clearTimeout(cleared);
    // Timers of the same delay fire in the order they were set.
    await new Promise<void>((resolve) => systemTimers.setTimeout(resolve, 0));
    expect(fired).toEqual(['kept']);
  });

  it('defaultRuntime() is the system clock, timers and wall clock, with a pool of its own', () => {
    const runtime = defaultRuntime();
    expect(runtime.clock).toBe(systemClock);
    expect(runtime.timers).toBe(systemTimers);
    expect(runtime.wallClock).toBe(wallClock);
    const value = new Uint8Array(16);
    runtime.random.fill(value);
    expect([...value]).toEqual(bytesOf(1, 0, 16));
    expect(defaultRuntime().random).not.toBe(runtime.random);
  });
});
