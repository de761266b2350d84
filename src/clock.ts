import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * A monotonic clock in milliseconds. Validity, elapsed time and deadlines are measured on it
 * and nowhere else: it must never jump backwards or with the wall clock.
 * @default `performance.now()`
 */
export interface Clock {
  /** Milliseconds on a monotonic clock (`performance.now()` by default). */
  now(): number;
}

/** An opaque handle returned by {@link Timers.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Timers used for per-node timeouts and retry delays. A simulation replaces them with
 * virtual-time timers driven by its scheduler.
 * @default `globalThis.setTimeout` / `globalThis.clearTimeout`
 */
export interface Timers {
  /** Call `callback` after `ms` milliseconds. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancel a timer set by `setTimeout`. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Randomness. `fill` must be a CSPRNG in production: lock values come from it (R2).
 * `float` draws jitter in [0, 1).
 * @default `crypto.randomFillSync`
 */
export interface Random {
  /** Fill `target` with random bytes (lock values: a CSPRNG). */
  fill(target: Uint8Array): void;
  /** A uniform number in [0, 1) (retry jitter). */
  float(): number;
}

/** Everything the core reads from the outside world besides the nodes. */
export interface Runtime {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  /** Wall clock in epoch ms, used only for the informational `Lock.expiresAt`. @default `Date.now` */
  readonly wallClock: Clock;
}

export const systemClock: Clock = { now: () => performance.now() };

export const wallClock: Clock = { now: () => Date.now() };

export const systemTimers: Timers = {
  setTimeout(callback, ms) {
    return globalThis.setTimeout(callback, ms);
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};

const POOL_SIZE = 4096;

/**
 * crypto.randomFillSync behind a pool, so a lock value costs a copy rather than a syscall.
 * The pool is refilled whole; bytes are never handed out twice.
 */
export function cryptoRandom(): Random {
  const pool = new Uint8Array(POOL_SIZE);
  let offset = POOL_SIZE;
  const take = (n: number): number => {
    if (offset + n > POOL_SIZE) {
      randomFillSync(pool);
      offset = 0;
    }
    const at = offset;
    offset += n;
    return at;
  };
  return {
    fill(target) {
      if (target.length > POOL_SIZE) {
        randomFillSync(target);
        return;
      }
      const at = take(target.length);
      target.set(pool.subarray(at, at + target.length));
    },
    float() {
      const at = take(4);
      const u32 = (pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!;
      return (u32 >>> 0) / 0x1_0000_0000;
    },
  };
}

export function defaultRuntime(): Runtime {
  return { clock: systemClock, timers: systemTimers, random: cryptoRandom(), wallClock };
}
