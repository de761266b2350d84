import type { Clock } from './clock.js';
import { type Lock, leaseOf } from './lock.js';

/** Bound on how many live locks the registry keeps before sweeping the forgettable ones. */
const SWEEP_AT = 1024;

/**
 * The locks a Redlock took, by value (a value is fresh for every attempt, so it names one lock),
 * so that a renew or release by value reaches its Lock (R7, R19). A lock is forgotten when it is
 * released, or, once the registry grows large, when no node can still hold its keys.
 */
export class Registry {
  readonly #live = new Map<string, Lock>();
  readonly #clock: Clock;
  #sweepAt = SWEEP_AT;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  add(lock: Lock): void {
    this.#live.set(lock.value, lock);
    if (this.#live.size < this.#sweepAt) return;
    // Amortised sweep: a lock past its deadline is refused any renew, by whatever name; once no
    // node can still hold its keys, a renew by its value fails on the nodes too, so forget it.
    const now = this.#clock.now();
    for (const [value, l] of this.#live) if (now >= leaseOf(l).forgetAfterMs) this.#live.delete(value);
    this.#sweepAt = Math.max(SWEEP_AT, this.#live.size * 2);
  }

  delete(lock: Lock): void {
    this.#live.delete(lock.value);
  }

  /** The lock with `value`, when it covers any of `resources` (in whatever order). */
  held(value: string, resources: readonly string[]): Lock | undefined {
    const lock = this.#live.get(value);
    return lock && resources.some((r) => lock.resources.includes(r)) ? lock : undefined;
  }
}
