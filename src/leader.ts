import { ElectionStoppedError, InvalidArgumentError, type LockLostError } from './errors.js';
import { type KeepOptions, keeperMarginMs, type LeaseKeeper } from './keeper.js';
import type { Lock } from './lock.js';
import { requireFunction, requireOptions, requireResource, requireTtl } from './options.js';
import { jitteredRetry, type RetryStrategy } from './retry.js';

/** What a LeaderElection needs from its Redlock. */
export interface LeaderHost {
  readonly options: {
    readonly retryDelay: number;
    readonly retryJitter: number;
    readonly driftFactor: number;
  };
  /**
   * Acquire `resource`, retrying with `strategy` for as long as it takes: resolves with the lock,
   * rejects with `signal.reason` once aborted, or with any other error that ends the campaign.
   */
  acquire(resource: string, ttl: number, signal: AbortSignal, strategy: RetryStrategy): Promise<Lock>;
  keep(lock: Lock, options: KeepOptions): LeaseKeeper;
}

/** Options of `redlock.campaign(resource, options)`. */
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
  readonly #host: LeaderHost;
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
  constructor(host: LeaderHost, resource: string, options: LeaderOptions) {
    this.resource = requireResource('resource', resource);
    if (options === undefined) throw new InvalidArgumentError('options', 'an object { ttl, ... }', options);
    requireOptions('options', options, LEADER_KEYS);
    requireTtl('options.ttl', options.ttl, host.options.driftFactor);
    for (const name of ['onElected', 'onDemoted', 'onError', 'retryStrategy'] as const) {
      if (options[name] !== undefined) requireFunction(`options.${name}`, options[name], 'a function');
    }
    this.#host = host;
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
    const { retryDelay, retryJitter } = this.#host.options;
    const fallback = jitteredRetry(retryDelay, retryJitter);
    const chosen = this.#options.retryStrategy;
    // A campaign never gives up: where the strategy would stop, it waits the default delay.
    const strategy: RetryStrategy = chosen
      ? (attempt, context) => {
          const delay = chosen(attempt, context);
          return delay === null || (typeof delay === 'number' && delay < 0)
            ? fallback(attempt, context)
            : delay;
        }
      : fallback;
    while (!signal.aborted) {
      let lock: Lock;
      try {
        lock = await this.#host.acquire(this.resource, this.#options.ttl, signal, strategy);
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
      const keeper = this.#host.keep(lock, { ttl: this.#options.ttl });
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
