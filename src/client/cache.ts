import { setTimeout as sleep } from 'node:timers/promises';
import { LockAcquireError, type Redlock } from '../index.js';
import { decodeJson, encodeJson } from './json.js';
import { MAX_MS, requireFn, requireInt, requireKey, requireKnown } from './validate.js';

/** The longest cache TTL accepted: 365 days. */
export const MAX_CACHE_TTL_MS = 31_536_000_000;

/** Options of `set`. */
export interface SetOptions {
  /** Expire the value after this many ms: an integer in [1, 31536000000]. @default no expiry */
  readonly ttlMs?: number;
}

/** Options of `getOrSet`. */
export interface GetOrSetOptions {
  /**
   * How long a caller that finds another process computing waits for its value, in ms, before
   * computing itself: an integer in [0, 2147483647]. @default 5000
   */
  readonly waitMs?: number;
  /**
   * TTL of the cross-process fill lock, in ms; it is renewed while `compute` runs.
   * An integer in [100, 2147483647]. @default 10000
   */
  readonly lockTtlMs?: number;
}

const SET_KEYS = ['ttlMs'] as const;
const GET_OR_SET_KEYS = ['waitMs', 'lockTtlMs'] as const;
/** Polls of a waiting getOrSet start at this delay and double up to the cap. */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

/** The part of an ioredis client the cache uses. */
export interface CacheCommands {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

type Read<T> = { found: true; value: T } | { found: false };

/**
 * JSON get/set/del/exists and getOrSet, under `<prefix>cache:`. Every method validates all of
 * its input (the value included) before anything is sent, and connects lazily through `ready`.
 */
export class Cache {
  readonly #redis: CacheCommands;
  readonly #prefix: string;
  readonly #ready: () => Promise<void>;
  readonly #fill: () => Redlock;
  /** getOrSet computations in flight in this client, by key: later callers share them. */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(redis: CacheCommands, prefix: string, ready: () => Promise<void>, fill: () => Redlock) {
    this.#redis = redis;
    this.#prefix = `${prefix}cache:`;
    this.#ready = ready;
    this.#fill = fill;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const read = await this.#read<T>(requireKey('key', key));
    return read.found ? read.value : undefined;
  }

  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const name = requireKey('key', key);
    const json = encodeJson('value', value);
    const { ttlMs } = requireKnown('options', options, SET_KEYS);
    if (ttlMs !== undefined) requireInt('options.ttlMs', ttlMs, 1, MAX_CACHE_TTL_MS);
    await this.#write(name, json, ttlMs);
  }

  async del(key: string): Promise<boolean> {
    const name = requireKey('key', key);
    await this.#ready();
    return (await this.#redis.call('DEL', this.#prefix + name)) === 1;
  }

  async exists(key: string): Promise<boolean> {
    const name = requireKey('key', key);
    await this.#ready();
    return (await this.#redis.call('EXISTS', this.#prefix + name)) === 1;
  }

  /**
   * The cached value of `key`, or `compute()`'s, stored for `ttlMs`. Concurrent callers on this
   * client share one computation (the first caller's `compute`, TTL and options). Across
   * processes, one holder of a fill lock computes while the others poll for its value for up to
   * `waitMs`, then compute themselves. A `compute` that throws, or returns a value JSON cannot
   * represent, rejects every sharing caller and writes nothing.
   */
  getOrSet<T>(
    key: string,
    ttlMs: number,
    compute: () => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<T> {
    try {
      const name = requireKey('key', key);
      requireInt('ttlMs', ttlMs, 1, MAX_CACHE_TTL_MS);
      requireFn('compute', compute, 'a function () => value | Promise<value>');
      const o = requireKnown('options', options, GET_OR_SET_KEYS);
      const waitMs = requireInt('options.waitMs', o.waitMs ?? 5000, 0, MAX_MS);
      const lockTtlMs = requireInt('options.lockTtlMs', o.lockTtlMs ?? 10_000, 100, MAX_MS);
      const shared = this.#inFlight.get(name);
      if (shared) return shared as Promise<T>;
      const work = this.#getOrFill(name, ttlMs, compute, waitMs, lockTtlMs).finally(() =>
        this.#inFlight.delete(name),
      );
      this.#inFlight.set(name, work);
      return work;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #getOrFill<T>(
    key: string,
    ttlMs: number,
    compute: () => T | Promise<T>,
    waitMs: number,
    lockTtlMs: number,
  ): Promise<T> {
    const first = await this.#read<T>(key);
    if (first.found) return first.value;
    const deadline = performance.now() + waitMs;
    // Bounded twice: by the deadline, and by the number of polls that fit in it.
    const maxPolls = Math.ceil(waitMs / FIRST_POLL_MS) + 1;
    let delay = FIRST_POLL_MS;
    for (let poll = 0; poll < maxPolls; poll++) {
      const filled = await this.#fillUnderLock(key, ttlMs, compute, lockTtlMs);
      if (filled.found) return filled.value;
      const left = deadline - performance.now();
      if (left <= 0) break;
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_POLL_MS);
      const again = await this.#read<T>(key);
      if (again.found) return again.value;
    }
    // The holder did not deliver in time (slow, or gone): compute without the lock.
    return this.#computeAndStore(key, ttlMs, compute);
  }

  /** Take the fill lock (one attempt) and fill; not found when another process holds it. */
  async #fillUnderLock<T>(
    key: string,
    ttlMs: number,
    compute: () => T | Promise<T>,
    lockTtlMs: number,
  ): Promise<Read<T>> {
    try {
      return await this.#fill().using(key, lockTtlMs, async (): Promise<Read<T>> => {
        // The holder before us may have filled it between our read and our lock.
        const again = await this.#read<T>(key);
        if (again.found) return again;
        return { found: true, value: await this.#computeAndStore(key, ttlMs, compute) };
      });
    } catch (error) {
      if (error instanceof LockAcquireError) return { found: false };
      throw error;
    }
  }

  async #computeAndStore<T>(key: string, ttlMs: number, compute: () => T | Promise<T>): Promise<T> {
    const value = await compute();
    await this.#write(key, encodeJson('compute() result', value), ttlMs);
    return value;
  }

  async #read<T>(key: string): Promise<Read<T>> {
    await this.#ready();
    const text = await this.#redis.call('GET', this.#prefix + key);
    return text === null ? { found: false } : { found: true, value: decodeJson<T>(key, text) };
  }

  async #write(key: string, json: string, ttlMs: number | undefined): Promise<void> {
    await this.#ready();
    if (ttlMs === undefined) await this.#redis.call('SET', this.#prefix + key, json);
    else await this.#redis.call('SET', this.#prefix + key, json, 'PX', ttlMs);
  }
}
