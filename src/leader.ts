import type { Runtime } from './clock.js';
import {
  ElectionStoppedError,
  InvalidArgumentError,
  LockAcquireError,
  type LockLostError,
} from './errors.js';
import { keeperMarginMs } from './keeper.js';
import type { Lock } from './lock.js';
import type { AcquireOptions } from './options.js';
import { requireFunction, requireOptions, requireResource, requireTtl } from './options.js';
import type { Redlock } from './redlock.js';
import { jitteredRetry, type RetryStrategy, sleep } from './retry.js';

export interface LeaderOptions {
  /** Lease TTL in ms; the leader renews it a third of the way into each validity. */
  readonly ttl: number;
  /**
   * Called when elected, with the term's signal: it aborts with a LockLostError on demotion, or
   * with an ElectionStoppedError when `stop()` steps down.
   */
  readonly onElected?: (signal: AbortSignal, lock: Lock) => void;
  /** Called when leadership is lost (not when `stop()` steps down). */
  readonly onDemoted?: (error: LockLostError) => void;
  /**
   * Called once with an unexpected error (a retry strategy that throws or returns NaN, say):
   * the campaign ends, and `elected()` rejects with the same error.
   */
  readonly onError?: (error: unknown) => void;
  /** Retry strategy of each campaign round. @default the Redlock's retryDelay ± retryJitter */
  readonly retryStrategy?: RetryStrategy;
}

const LEADER_KEYS = ['ttl', 'onElected', 'onDemoted', 'onError', 'retryStrategy'] as const;

type Waiter = {
  readonly resolve: (term: { signal: AbortSignal; lock: Lock }) => void;
  readonly reject: (error: unknown) => void;
};

/**
 * A leader-style holder (R7's long-lived renewals, R11's lost signal): campaigns for a resource
 * with the Redlock's retries, keeps the lock while elected, and campaigns again after losing it.
 * Leadership is bounded by the lock: `isLeader` turns false a margin before the lock's deadline
 * even if no timer could fire (a stalled event loop). `stop()` steps down (releases), ends the
 * campaign and rejects a pending `elected()` with an ElectionStoppedError.
 */
export class LeaderElection {
  readonly resource: string;
  readonly #redlock: Redlock;
  readonly #runtime: Runtime;
  readonly #options: LeaderOptions;
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;
  #term: AbortSignal | undefined;
  #lock: Lock | undefined;
  #waiters: Waiter[] = [];
  #terms = 0;
  /** Why the campaign ended, once it has: stopped, or an unexpected error. */
  #ended: { readonly error: unknown } | undefined;

  /** @internal Made by `redlock.campaign()`; validates its arguments synchronously. */
  constructor(redlock: Redlock, runtime: Runtime, resource: string, options: LeaderOptions) {
    this.resource = requireResource('resource', resource);
    if (options === undefined) throw new InvalidArgumentError('options', 'an object { ttl, ... }', options);
    requireOptions('options', options, LEADER_KEYS);
    requireTtl('options.ttl', options.ttl, redlock.options.driftFactor);
    for (const name of ['onElected', 'onDemoted', 'onError', 'retryStrategy'] as const) {
      if (options[name] !== undefined) requireFunction(`options.${name}`, options[name], 'a function');
    }
    this.#redlock = redlock;
    this.#runtime = runtime;
    this.#options = options;
    this.#done = this.#campaign().then(
      () => this.#end(this.#stop.signal.reason),
      (error: unknown) => this.#end(error),
    );
  }

  /** True while this process holds the leadership: elected, and the lock more than a margin from its deadline. */
  get isLeader(): boolean {
    const lock = this.#lock;
    return (
      this.#term !== undefined &&
      !this.#term.aborted &&
      lock !== undefined &&
      lock.remainingMs() > keeperMarginMs(lock)
    );
  }

  /** The lock of the current term, while leader. */
  get lock(): Lock | undefined {
    return this.isLeader ? this.#lock : undefined;
  }

  /** Terms won so far. */
  get terms(): number {
    return this.#terms;
  }

  /**
   * Resolves at the next election (at once while leader), with the term's signal and lock.
   * Rejects with an ElectionStoppedError once `stop()` was called, or with the error that ended
   * the campaign.
   */
  elected(): Promise<{ signal: AbortSignal; lock: Lock }> {
    if (this.#ended) return Promise.reject(this.#ended.error);
    if (this.isLeader) return Promise.resolve({ signal: this.#term!, lock: this.#lock! });
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Step down (release the lock if held) and stop campaigning; resolves when all has stopped. */
  async stop(): Promise<void> {
    this.#stop.abort(new ElectionStoppedError(this.resource));
    await this.#done;
  }

  async #campaign(): Promise<void> {
    const signal = this.#stop.signal;
    const { retryDelay, retryJitter } = this.#redlock.options;
    const acquire: AcquireOptions = {
      signal,
      ...(this.#options.retryStrategy ? { retryStrategy: this.#options.retryStrategy } : {}),
    };
    const pause = jitteredRetry(retryDelay, retryJitter);
    while (!signal.aborted) {
      let lock: Lock;
      try {
        lock = await this.#redlock.acquire(this.resource, this.#options.ttl, acquire);
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof LockAcquireError)) throw error;
        const delay = pause(1, {
          lastAttempt: error.attempts.at(-1)!,
          elapsedMs: 0,
          random: () => this.#runtime.random.float(),
        });
        try {
          await sleep(this.#runtime.timers, Math.max(0, delay ?? 0), signal);
        } catch {
          return; // stopped during the pause
        }
        continue;
      }
      const keeper = this.#redlock.keep(lock, { ttl: this.#options.ttl });
      const term = AbortSignal.any([keeper.signal, signal]);
      this.#term = term;
      this.#lock = lock;
      this.#terms++;
      // A lock that came back with less than the margin left is no term: the keeper loses it at once.
      if (this.isLeader) {
        for (const waiter of this.#waiters.splice(0)) waiter.resolve({ signal: term, lock });
        this.#notify(() => this.#options.onElected?.(term, lock));
      }
      let onStop: (() => void) | undefined;
      const demoted = await Promise.race([
        keeper.lost.catch((error: LockLostError) => error),
        new Promise<undefined>((resolve) => {
          onStop = () => resolve(undefined);
          signal.addEventListener('abort', onStop, { once: true });
        }),
      ]);
      signal.removeEventListener('abort', onStop!);
      await keeper.stop();
      if (demoted === undefined) {
        await lock.release();
        return;
      }
      this.#notify(() => this.#options.onDemoted?.(demoted));
      // A lost lock is not released: its keys, if any remain, are someone else's or expire.
    }
  }

  /** The campaign is over: settle every waiter, now and later, with `error`. */
  #end(error: unknown): void {
    this.#ended = { error };
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    if (!(error instanceof ElectionStoppedError)) this.#notify(() => this.#options.onError?.(error));
  }

  /** Run a user callback; its exceptions must not end the campaign or go unhandled. */
  #notify(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      process.emitWarning(`quorumlock leader election callback threw: ${String(error)}`, {
        code: 'QUORUMLOCK_CALLBACK',
      });
    }
  }
}
