import type { Clock } from './clock.js';
import type { AttemptReport } from './errors.js';
import type { OperationOptions } from './options.js';
import type { ReleaseResult, RenewResult } from './redlock.js';

/** What a Lock delegates to the Redlock that made it: handed to the constructor, never public. */
export interface LockOwner {
  release(lock: Lock, options?: OperationOptions): Promise<ReleaseResult>;
  renew(lock: Lock, ttl: number, options?: OperationOptions): Promise<RenewResult>;
}

/** Something that keeps a lock alive and must stop, before the release is sent, when it is released. */
export interface Halting {
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
  /** Until then the keys may still exist somewhere, so the registry must remember the value. */
  forgetAfterMs: number;
  readonly keepers = new Set<Halting>();
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
  }
}

const leases = new WeakMap<Lock, Lease>();
const owners = new WeakMap<Lock, LockOwner>();

/** The lease behind a Lock: for its Redlock, its keeper and its leader election only. */
export function leaseOf(lock: Lock): Lease {
  const lease = leases.get(lock);
  if (!lease) throw new TypeError('not a Lock made by a Redlock');
  return lease;
}

/**
 * A held lock. Its local deadline, on the monotonic clock, is the truth about validity (R12):
 * act under the lock only while `remainingMs() > 0`. Nothing here asks Redis.
 */
export class Lock {
  /** The resource argument as given: a string, or the array for a multi-resource lock. */
  readonly resource: string | readonly string[];
  /** Every resource the lock covers. */
  readonly resources: readonly string[];
  /** The random value that identifies this lock on every node (fresh per attempt). */
  readonly value: string;
  /** The TTL it was taken with, in ms; `renew()` reuses it by default. */
  readonly ttl: number;
  /** Attempts it took. */
  readonly attempts: number;
  /** The winning attempt's per-node report. */
  readonly report: AttemptReport;
  /**
   * With `fencing: true`: a token unique to this acquisition and greater than every token issued
   * before it for this resource. Pass it with every write; the resource must reject any token
   * lower than the highest it has seen (docs/fencing.md). Null without fencing.
   */
  readonly fencingToken: number | null;

  /** @internal Made by a Redlock. */
  constructor(init: {
    resource: string | readonly string[];
    resources: readonly string[];
    value: string;
    ttl: number;
    attempts: number;
    report: AttemptReport;
    fencingToken: number | null;
    lease: Lease;
    owner: LockOwner;
  }) {
    this.resource = init.resource;
    this.resources = init.resources;
    this.value = init.value;
    this.ttl = init.ttl;
    this.attempts = init.attempts;
    this.report = init.report;
    this.fencingToken = init.fencingToken;
    leases.set(this, init.lease);
    owners.set(this, init.owner);
  }

  /** Validity in ms when the deadline last moved (acquisition, or a renew sent or answered). */
  get validityMs(): number {
    return leaseOf(this).validityMs;
  }

  /**
   * The monotonic-clock moment the lock stops being safe: start of the winning round + ttl −
   * drift, then moved by renews (a renew sent with a shorter TTL brings it closer at once).
   */
  get deadlineMs(): number {
    return leaseOf(this).deadlineMs;
  }

  /** Informational: epoch ms at which the validity runs out, as the wall clock read it then. */
  get expiresAt(): number {
    return leaseOf(this).expiresAt;
  }

  /** True once released through its Redlock (`release()`, or `releaseLock` with this value). */
  get released(): boolean {
    return leaseOf(this).released;
  }

  /** Milliseconds of validity left on the monotonic clock; 0 once past the deadline or released. */
  remainingMs(): number {
    return leaseOf(this).remainingMs();
  }

  /** Compare-and-delete on every node; never throws for "not held". */
  release(options?: OperationOptions): Promise<ReleaseResult> {
    return owners.get(this)!.release(this, options);
  }

  /**
   * Extend on a quorum with validity recomputed from the renew's own start. Refused locally
   * (false, nothing sent) once the deadline has passed or after release.
   */
  async renew(ttl: number = this.ttl, options?: OperationOptions): Promise<boolean> {
    return (await owners.get(this)!.renew(this, ttl, options)).renewed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  toJSON(): object {
    const lease = leaseOf(this);
    return {
      resources: this.resources,
      validityMs: lease.validityMs,
      remainingMs: lease.remainingMs(),
      expiresAt: lease.expiresAt,
      attempts: this.attempts,
      fencingToken: this.fencingToken,
      released: lease.released,
    };
  }
}
