import type { Runtime } from './clock.js';
import { type LockLostMessage, lostChannel } from './diagnostics.js';
import { LockLostError, type LostReason } from './errors.js';
import type { LeaseWatcher } from './lease.js';
import { type Lock, leaseOf } from './lock.js';
import type { RenewResult } from './renew.js';

/** Options of `redlock.keep(lock, options)` (and of `using`). */
export interface KeepOptions {
  /**
   * Stop renewing after this many successful renewals; the lock then lapses and the signal
   * aborts with reason `renewal-limit` before its deadline. @default Infinity (no limit)
   */
  readonly maxRenewals?: number | undefined;
  /** TTL of each renewal, in ms. @default the lock's own TTL */
  readonly ttl?: number | undefined;
}

export const KEEP_KEYS = ['maxRenewals', 'ttl'] as const;

/** What a LeaseKeeper needs from its Redlock: the renew of a held lock, and the quorum. */
export interface KeeperHost {
  renew(lock: Lock, ttl: number): Promise<RenewResult>;
  readonly quorum: number;
}

/**
 * How long before its deadline a kept lock counts as lost when no renew has moved the deadline:
 * 5% of its current validity, at least 1 ms. A leader stops calling itself leader then too.
 */
export function keeperMarginMs(lock: Lock): number {
  return Math.max(1, Math.floor(lock.validityMs * 0.05));
}

/**
 * Keeps a lock alive (R11): renews when a third of its validity has passed, retries a renew that
 * failed for want of answers while validity remains, and aborts `signal` with a LockLostError
 * as soon as the lock is known lost, or at the latest a margin before its deadline. The deadline
 * is read afresh after every renew (one that failed may have brought it closer). Renewals are
 * serialised, never sent after the deadline or after a release (the Redlock refuses them), and
 * never resumed once the lock is lost. A release of the lock stops the keeper before it is sent.
 * Nothing here throws from a timer.
 */
export class LeaseKeeper {
  readonly #controller = new AbortController();
  readonly #lock: Lock;
  readonly #host: KeeperHost;
  readonly #runtime: Runtime;
  readonly #ttl: number;
  readonly #maxRenewals: number;
  readonly #watcher: LeaseWatcher = {
    halt: () => this.#lose('released'),
    // A renew sent with a shorter TTL (ours or anyone's) brings the deadline closer at once.
    moved: () => this.#armWatchdog(),
  };
  #renewals = 0;
  #renewTimer: unknown;
  #watchdog: unknown;
  #inFlight: Promise<void> | undefined;
  #stopped = false;
  readonly #lost: Promise<never>;
  #reject!: (error: LockLostError) => void;

  /** @internal Made by `redlock.keep()` and `redlock.using()`. */
  constructor(host: KeeperHost, runtime: Runtime, lock: Lock, options: KeepOptions = {}) {
    this.#host = host;
    this.#runtime = runtime;
    this.#lock = lock;
    this.#ttl = options.ttl ?? lock.ttl;
    this.#maxRenewals = options.maxRenewals ?? Number.POSITIVE_INFINITY;
    this.#lost = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    // Observed by `using`; a caller of keep() who never awaits it must not see an unhandled rejection.
    this.#lost.catch(() => {});
    const lease = leaseOf(lock);
    if (lease.released) {
      this.#lose('released');
      return;
    }
    lease.keepers.add(this.#watcher);
    this.#arm(this.#thirdIn());
  }

  /** Aborts, with a LockLostError as its reason, when the lock is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Rejects with the LockLostError when the lock is lost; never resolves. */
  get lost(): Promise<never> {
    return this.#lost;
  }

  /** Successful renewals so far. */
  get renewals(): number {
    return this.#renewals;
  }

  /** Stop renewing and wait for a renew in flight; the lock is left as it is (not released). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimers();
    leaseOf(this.#lock).keepers.delete(this.#watcher);
    await this.#inFlight;
  }

  /**
   * Arm the watchdog against the lock's deadline as it stands now, and the next renew in
   * `renewInMs` (none once the renewal limit is reached).
   */
  #arm(renewInMs: number): void {
    this.#clearTimers();
    if (this.#stopped) return;
    this.#armWatchdog();
    if (this.#renewals < this.#maxRenewals) {
      this.#renewTimer = this.#runtime.timers.setTimeout(() => this.#renew(), renewInMs);
    }
  }

  /** Lost no later than a margin before the deadline as it stands now. */
  #armWatchdog(): void {
    if (this.#stopped) return;
    const { timers } = this.#runtime;
    timers.clearTimeout(this.#watchdog);
    this.#watchdog = timers.setTimeout(
      () => this.#lose(this.#renewals >= this.#maxRenewals ? 'renewal-limit' : 'expired'),
      Math.max(0, this.#lock.remainingMs() - keeperMarginMs(this.#lock)),
    );
  }

  /** Time until a third of the current validity has passed. */
  #thirdIn(): number {
    return Math.max(0, this.#lock.remainingMs() - (2 * this.#lock.validityMs) / 3);
  }

  #renew(): void {
    if (this.#stopped || this.#inFlight) return;
    this.#inFlight = this.#host
      .renew(this.#lock, this.#ttl)
      .then(
        (result) => this.#after(result),
        () => this.#retrySoon(),
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
  }

  #after(result: RenewResult): void {
    if (this.#stopped) return;
    if (result.renewed) {
      this.#renewals++;
      this.#arm(this.#thirdIn());
      return;
    }
    if (result.reason === 'expired' || result.reason === 'released') {
      this.#lose(result.reason, result);
      return;
    }
    // Definitively lost when the nodes that answered "not held" alone deny a quorum.
    const notHeld = result.nodes.filter((n) => n.outcome === 'not-held').length;
    if (notHeld > result.nodes.length - this.#host.quorum) {
      this.#lose('not-held', result);
      return;
    }
    this.#retrySoon();
  }

  /** A renew without enough answers: try again after a tenth of what is left, while it lasts. */
  #retrySoon(): void {
    if (this.#stopped) return;
    this.#arm(Math.max(1, this.#lock.remainingMs() / 10));
  }

  #lose(reason: LostReason, result?: RenewResult): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clearTimers();
    leaseOf(this.#lock).keepers.delete(this.#watcher);
    const error = new LockLostError(this.#lock.resources, reason, result?.nodes ?? []);
    if (reason !== 'released' && lostChannel.hasSubscribers) {
      lostChannel.publish({ resources: this.#lock.resources, reason } satisfies LockLostMessage);
    }
    this.#controller.abort(error);
    this.#reject(error);
  }

  #clearTimers(): void {
    const { timers } = this.#runtime;
    timers.clearTimeout(this.#renewTimer);
    timers.clearTimeout(this.#watchdog);
    this.#renewTimer = undefined;
    this.#watchdog = undefined;
  }
}
