import type { Clock } from './clock.js';
import type { AttemptReport } from './errors.js';
import type { OperationOptions } from './options.js';
import type { ReleaseResult } from './redlock.js';

/** What a Lock delegates to the Redlock that made it. */
export interface LockOwner {
  release(lock: Lock, options?: OperationOptions): Promise<ReleaseResult>;
  renewHeld(lock: Lock, ttl: number, options?: OperationOptions): Promise<boolean>;
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
  #validityMs: number;
  #deadlineMs: number;
  #expiresAt: number;
  #released = false;
  readonly #clock: Clock;
  readonly #owner: LockOwner;

  /** @internal Made by a Redlock. */
  constructor(init: {
    resource: string | readonly string[];
    resources: readonly string[];
    value: string;
    ttl: number;
    attempts: number;
    report: AttemptReport;
    deadlineMs: number;
    fencingToken: number | null;
    clock: Clock;
    wallNow: number;
    owner: LockOwner;
  }) {
    this.resource = init.resource;
    this.resources = init.resources;
    this.value = init.value;
    this.ttl = init.ttl;
    this.attempts = init.attempts;
    this.report = init.report;
    this.fencingToken = init.fencingToken;
    this.#clock = init.clock;
    this.#owner = init.owner;
    this.#deadlineMs = init.deadlineMs;
    this.#validityMs = init.deadlineMs - init.clock.now();
    this.#expiresAt = init.wallNow + this.#validityMs;
  }

  /** Validity in ms at acquisition, or at the last successful renew. */
  get validityMs(): number {
    return this.#validityMs;
  }

  /** The monotonic-clock moment the lock stops being safe: start of the winning round + ttl − drift. */
  get deadlineMs(): number {
    return this.#deadlineMs;
  }

  /** Informational: epoch ms at which the validity runs out, as the wall clock read it at return. */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** True once `release()` (or `releaseLock` with this value) was called. */
  get released(): boolean {
    return this.#released;
  }

  /** Milliseconds of validity left on the monotonic clock; 0 once past the deadline or released. */
  remainingMs(): number {
    if (this.#released) return 0;
    return Math.max(0, this.#deadlineMs - this.#clock.now());
  }

  /** Compare-and-delete on every node; never throws for "not held". */
  release(options?: OperationOptions): Promise<ReleaseResult> {
    return this.#owner.release(this, options);
  }

  /**
   * Extend on a quorum with validity recomputed from the renew's own start. Refused locally
   * (false, nothing sent) once the deadline has passed or after release.
   */
  renew(ttl: number = this.ttl, options?: OperationOptions): Promise<boolean> {
    return this.#owner.renewHeld(this, ttl, options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** @internal */
  _renewed(deadlineMs: number, wallNow: number): void {
    const now = this.#clock.now();
    this.#deadlineMs = deadlineMs;
    this.#validityMs = deadlineMs - now;
    this.#expiresAt = wallNow + this.#validityMs;
  }

  /** @internal */
  _markReleased(): void {
    this.#released = true;
  }

  toJSON(): object {
    return {
      resources: this.resources,
      validityMs: this.#validityMs,
      remainingMs: this.remainingMs(),
      expiresAt: this.#expiresAt,
      attempts: this.attempts,
      fencingToken: this.fencingToken,
      released: this.#released,
    };
  }
}
