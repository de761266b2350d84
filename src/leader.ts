import type { Runtime } from './clock.js';
import { LockAcquireError, type LockLostError } from './errors.js';
import type { Lock } from './lock.js';
import type { AcquireOptions } from './options.js';
import { requireTtl } from './options.js';
import type { Redlock } from './redlock.js';
import { jitteredRetry, type RetryStrategy, sleep } from './retry.js';

export interface LeaderOptions {
  /** Lease TTL in ms; the leader renews it a third of the way into each validity. */
  readonly ttl: number;
  /**
   * Called when elected, with the term's signal: it aborts with a LockLostError on demotion, or
   * with the stop reason when `stop()` steps down.
   */
  readonly onElected?: (signal: AbortSignal, lock: Lock) => void;
  /** Called when leadership is lost (not when `stop()` steps down). */
  readonly onDemoted?: (error: LockLostError) => void;
  /** Retry strategy of each campaign round. @default the Redlock's retryDelay ± retryJitter */
  readonly retryStrategy?: RetryStrategy;
}

/**
 * A leader-style holder (R7's long-lived renewals, R11's lost signal): campaigns for a resource
 * with the Redlock's retries, keeps the lock while elected, and campaigns again after losing it.
 * `stop()` steps down (releases) and ends the campaign; nothing is left running after it.
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
  #waiters: Array<(value: { signal: AbortSignal; lock: Lock }) => void> = [];
  #terms = 0;

  /** @internal Made by `redlock.campaign()`. */
  constructor(redlock: Redlock, runtime: Runtime, resource: string, options: LeaderOptions) {
    requireTtl('options.ttl', options?.ttl, redlock.options.driftFactor);
    this.resource = resource;
    this.#redlock = redlock;
    this.#runtime = runtime;
    this.#options = options;
    this.#done = this.#campaign();
  }

  /** True while this process holds the leadership. */
  get isLeader(): boolean {
    return this.#term !== undefined && !this.#term.aborted;
  }

  /** The lock of the current term, while leader. */
  get lock(): Lock | undefined {
    return this.isLeader ? this.#lock : undefined;
  }

  /** Terms won so far. */
  get terms(): number {
    return this.#terms;
  }

  /** Resolves at the next election (at once while leader), with the term's signal and lock. */
  elected(): Promise<{ signal: AbortSignal; lock: Lock }> {
    if (this.isLeader) return Promise.resolve({ signal: this.#term!, lock: this.#lock! });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Step down (release the lock if held) and stop campaigning; resolves when all has stopped. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('leader election stopped'));
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
        if (!(error instanceof LockAcquireError)) return; // stopped
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
      for (const resolve of this.#waiters.splice(0)) resolve({ signal: term, lock });
      this.#notify(() => this.#options.onElected?.(term, lock));
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
