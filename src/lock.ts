import type { AttemptReport } from './errors.js';
import type { Lease } from './lease.js';
import type { OperationOptions } from './options.js';
import type { ReleaseResult } from './release.js';
import type { RenewResult } from './renew.js';

/** What a Lock delegates to the Redlock that made it: handed to the constructor, never public. */
export interface LockOwner {
  release(lock: Lock, options?: OperationOptions): Promise<ReleaseResult>;
  renew(lock: Lock, ttl: number, options?: OperationOptions): Promise<RenewResult>;
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

  /** Releases the lock: what `await using` calls (TypeScript 5.2+). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** The lock without its value (a value lets its reader release or renew the lock). */
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
