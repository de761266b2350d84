import type { Clock } from './clock.js';
import type { Creates } from './creates.js';

/** A keeper of the lease: told when its deadline moves, and stopped before a release is sent. */
export interface LeaseWatcher {
  /** The deadline moved (a renew was sent or answered): re-arm what depends on it. */
  moved(): void;
  /** The lock is being released: stop at once. */
  halt(): void;
}

/**
 * The lease behind a Lock, as its Redlock keeps it: the local deadline and every renew sent.
 * Rule: once a renew with TTL t was sent at `start` to any node, the deadline is at most
 * start + t − drift(t), whatever the outcome; a success sets it to that renew's own deadline,
 * bounded by every renew sent after it (whose PEXPIRE may land after its own).
 */
export class Lease {
  deadlineMs: number;
  validityMs: number;
  expiresAt: number;
  released = false;
  /** The calls that may still create its keys (R6 after a NOSCRIPT detour). */
  creates: Creates | undefined;
  /** Until then the keys may still exist somewhere, so the registry must remember the value. */
  forgetAfterMs: number;
  readonly keepers = new Set<LeaseWatcher>();
  readonly #clock: Clock;
  readonly #wallClock: Clock;
  #seq = 0;
  #inFlight = 0;
  /** Bounds of renews sent while another was in flight. */
  #sent: Array<{ readonly seq: number; readonly bound: number }> = [];

  constructor(clock: Clock, wallClock: Clock, deadlineMs: number, forgetAfterMs: number) {
    this.#clock = clock;
    this.#wallClock = wallClock;
    this.deadlineMs = deadlineMs;
    this.validityMs = deadlineMs - clock.now();
    this.expiresAt = wallClock.now() + this.validityMs;
    this.forgetAfterMs = forgetAfterMs;
  }

  /** A renew is about to be sent; returns its sequence number. */
  renewSent(bound: number, forgetAfterMs: number): number {
    if (bound < this.deadlineMs) this.#set(bound);
    this.forgetAfterMs = Math.max(this.forgetAfterMs, forgetAfterMs);
    const seq = ++this.#seq;
    this.#inFlight++;
    this.#sent.push({ seq, bound });
    return seq;
  }

  /** Renew `seq` settled; with `deadlineMs` when it extended every key of the lock on a quorum. */
  renewSettled(seq: number, deadlineMs?: number): void {
    if (deadlineMs !== undefined && !this.released) {
      let deadline = deadlineMs;
      for (const s of this.#sent) if (s.seq > seq && s.bound < deadline) deadline = s.bound;
      this.#set(deadline);
    }
    if (--this.#inFlight === 0) this.#sent = [];
  }

  /** Released through its Redlock: keepers stop before anything is sent. */
  markReleased(): void {
    this.released = true;
    for (const keeper of this.keepers) keeper.halt();
    this.keepers.clear();
  }

  remainingMs(): number {
    if (this.released) return 0;
    return Math.max(0, this.deadlineMs - this.#clock.now());
  }

  #set(deadlineMs: number): void {
    this.deadlineMs = deadlineMs;
    this.validityMs = Math.max(0, deadlineMs - this.#clock.now());
    this.expiresAt = this.#wallClock.now() + this.validityMs;
    for (const keeper of this.keepers) keeper.moved();
  }
}
