import { acquire, type Granted } from './acquire.js';
import type { Runtime } from './clock.js';
import type { Core } from './core.js';
import { active, channels, type LockTraceContext, traced } from './diagnostics.js';
import { InvalidArgumentError, LockAcquireError, type LockLostError } from './errors.js';
import { lockOfGrant } from './granted.js';
import { KEEP_KEYS, type KeepOptions, LeaseKeeper } from './keeper.js';
import { keysOf, resourceId } from './keys.js';
import { Lock, type LockOwner, leaseOf } from './lock.js';
import {
  type AcquireOptions,
  OPERATION_KEYS,
  type OperationOptions,
  requireFunction,
  requireInteger,
  requireOptions,
  requireSignal,
  requireTtl,
  requireValue,
} from './options.js';
import type { Protocol } from './protocol.js';
import { Registry } from './registry.js';
import { type ReleaseResult, release, releaseHeld, releaseTimeoutMs } from './release.js';
import { type RenewResult, renew } from './renew.js';
import { type RetryStrategy, sleep } from './retry.js';

const STRATEGY = 'a function (attempt, context) => number | null';

/** Every handle a primitive made (a permit, a read-write lease), whichever Redlock it came from. */
const handles = new WeakSet<Lock>();

/** Whether `lock` is a semaphore's permit or a read-write lease (its operations are not the lock's). */
export function isPrimitiveHandle(lock: Lock): boolean {
  return handles.has(lock);
}

/**
 * The handles of the primitives beyond the lock (a semaphore's permits, a read-write lock's
 * leases): each is a Lock whose operations run its own Protocol through the lock's own modules
 * (acquire.ts, renew.ts, release.ts), so the retry loop, the rounds, validity, fencing, tracing
 * and reports are the lock's. Registered by value, as the lock's are (R19).
 */
export class Primitive {
  readonly #core: Core;
  readonly #registry: Registry;
  readonly #defaultRetry: RetryStrategy;
  readonly #protocols = new WeakMap<Lock, Protocol>();
  readonly #owner: LockOwner = {
    release: (lock, options) => this.#releaseOf(lock, operationSignal(options)),
    renew: async (lock, ttl, options) => {
      requireTtl('ttl', ttl, this.#core.options.driftFactor);
      return this.#renewOf(lock, ttl, operationSignal(options));
    },
  };

  constructor(core: Core, defaultRetry: RetryStrategy) {
    this.#core = core;
    this.#registry = new Registry(core.runtime.clock);
    this.#defaultRetry = defaultRetry;
  }

  get core(): Core {
    return this.#core;
  }

  /**
   * Acquire with `protocol` (options already checked for unknown keys), traced on
   * `quorumlock:acquire`. Rejects with a LockAcquireError as the lock's acquire does.
   */
  acquire(resource: string, ttl: number, options: AcquireOptions, protocol: Protocol): Promise<Lock> {
    const run = () => this.#acquire(resource, ttl, options, protocol);
    if (!active(channels.acquire)) return run();
    return traced(channels.acquire, { operation: 'acquire', resources: [resource], ttl }, run, settleAcquire);
  }

  async #acquire(resource: string, ttl: number, options: AcquireOptions, protocol: Protocol): Promise<Lock> {
    const { signal, timeoutMs, retryStrategy } = options;
    requireSignal('options.signal', signal);
    if (timeoutMs !== undefined) requireInteger('options.timeoutMs', timeoutMs, 0, 2_147_483_647);
    if (retryStrategy !== undefined) requireFunction('options.retryStrategy', retryStrategy, STRATEGY);
    const { clock } = this.#core.runtime;
    const granted = await acquire(
      this.#core,
      [resource],
      ttl,
      {
        signal,
        until: timeoutMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + timeoutMs,
        strategy: retryStrategy ?? this.#defaultRetry,
        maxRetries: this.#core.options.retryCount,
        keepReports: true,
      },
      protocol,
    );
    return this.#handleOf(resource, ttl, granted, protocol);
  }

  /** Renew by value: a handle of this primitive with that value is renewed as `handle.renew` does. */
  renewValue(
    resource: string,
    value: string,
    ttl: number,
    protocol: Protocol,
    options: OperationOptions | undefined,
  ): Promise<RenewResult> {
    requireValue('value', value);
    requireTtl('ttl', ttl, this.#core.options.driftFactor);
    const signal = operationSignal(options);
    const lock = this.#registry.held(value, [resource]);
    if (lock) return this.#renewOf(lock, ttl, signal);
    return renew(this.#core, [resource], value, ttl, undefined, signal, protocol);
  }

  /** Release by value: a handle of this primitive with that value is marked released first. */
  releaseValue(
    resource: string,
    value: string,
    protocol: Protocol,
    options: OperationOptions | undefined,
  ): Promise<ReleaseResult> {
    requireValue('value', value);
    const signal = operationSignal(options);
    const lock = this.#registry.held(value, [resource]);
    if (lock) return this.#releaseOf(lock, signal);
    const timeoutMs = releaseTimeoutMs(this.#core.options, undefined);
    return release(this.#core, [resource], value, timeoutMs, signal, protocol);
  }

  /** As `Redlock.keep`, for a handle of this primitive. */
  keep(lock: Lock, options: KeepOptions = {}): LeaseKeeper {
    const protocol = lock instanceof Lock ? this.#protocols.get(lock) : undefined;
    if (!protocol) throw new InvalidArgumentError('lock', 'a handle taken by this primitive', lock);
    requireOptions('options', options, KEEP_KEYS);
    validateKeepOptions(options, this.#core.options.driftFactor);
    const host = {
      renew: (held: Lock, ttl: number) => this.#renewOf(held, ttl, undefined),
      quorum: protocol.quorum ?? this.#core.nodes.quorum,
    };
    return new LeaseKeeper(host, this.#core.runtime, lock, options);
  }

  /** `using` for a handle taken by `take`: kept while `fn` runs, released after (see Redlock.using). */
  async using<T>(
    take: () => Promise<Lock>,
    fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
    keepOptions: KeepOptions,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const lock = await take();
    return holdWhile(this.#core.runtime, lock, this.keep(lock, keepOptions), fn, signal);
  }

  #handleOf(resource: string, ttl: number, granted: Granted, protocol: Protocol): Lock {
    const lock = lockOfGrant(this.#core.runtime, this.#owner, resource, [resource], ttl, granted);
    leaseOf(lock).creates = granted.creates;
    this.#protocols.set(lock, protocol);
    handles.add(lock);
    this.#registry.add(lock);
    return lock;
  }

  #renewOf(lock: Lock, ttl: number, signal: AbortSignal | undefined): Promise<RenewResult> {
    const held = { resources: lock.resources, lease: leaseOf(lock) };
    return renew(this.#core, lock.resources, lock.value, ttl, held, signal, this.#protocols.get(lock)!);
  }

  #releaseOf(lock: Lock, signal: AbortSignal | undefined): Promise<ReleaseResult> {
    const lease = leaseOf(lock);
    lease.markReleased();
    this.#registry.delete(lock);
    const { nodes, options } = this.#core;
    const id = resourceId(nodes.id, keysOf(options.keyPrefix, lock.resources));
    const protocol = this.#protocols.get(lock)!;
    return releaseHeld(
      this.#core,
      lease.creates,
      lock.resources,
      lock.value,
      releaseTimeoutMs(options, lock.ttl),
      signal,
      protocol,
    ).finally(() => this.#core.handoff.released(id));
  }
}

/** The nullable form: null for a LockAcquireError, anything else rethrown. */
export async function orNull(taking: Promise<Lock>): Promise<Lock | null> {
  try {
    return await taking;
  } catch (error) {
    if (error instanceof LockAcquireError) return null;
    throw error;
  }
}

/**
 * Run `fn(signal, lock)` while `keeper` keeps `lock` (R11), then stop the keeper and release
 * (R20). A loss aborts the signal; the release then waits for `fn` to settle or the deadline.
 */
export async function holdWhile<T>(
  runtime: Runtime,
  lock: Lock,
  keeper: LeaseKeeper,
  fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
  userSignal: AbortSignal | undefined,
): Promise<T> {
  const signal = userSignal ? AbortSignal.any([keeper.signal, userSignal]) : keeper.signal;
  try {
    const settled = (async () => fn(signal, lock))().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([settled, keeper.lost.catch((lost: LockLostError) => ({ lost }))]);
    if ('lost' in first) {
      // The signal fired a margin before the deadline: that margin is fn's to stop in, not the
      // next holder's. Release only once fn settles, or at the deadline, whichever comes first.
      const stop = new AbortController();
      const { clock, timers } = runtime;
      const deadline = sleep(timers, Math.max(0, lock.deadlineMs - clock.now()), stop.signal);
      await Promise.race([settled, deadline.catch(() => {})]);
      stop.abort();
      throw first.lost;
    }
    if ('error' in first) throw first.error;
    return first.value;
  } finally {
    await keeper.stop();
    await lock.release();
  }
}

export function settleAcquire(lock: Lock, context: LockTraceContext): void {
  context.attempts = [lock.report];
  context.nodes = lock.report.nodes;
  context.result = { ok: true, validityMs: lock.validityMs, fencingToken: lock.fencingToken };
}

/** A per-call `{ signal }` options argument, validated. */
export function operationSignal(options: OperationOptions | undefined): AbortSignal | undefined {
  const { signal } = requireOptions('options', options, OPERATION_KEYS);
  requireSignal('options.signal', signal);
  return signal;
}

/**
 * A `using` call's options: checked for unknown keys (`known`) and for the keeper's ranges, then
 * split into those of its acquire and those of its keeper.
 */
export function usingOptions<T extends KeepOptions>(
  options: T,
  known: readonly string[],
  driftFactor: number,
): { readonly acquire: Omit<T, keyof KeepOptions>; readonly keep: KeepOptions } {
  requireOptions('options', options, known);
  validateKeepOptions(options, driftFactor);
  const { maxRenewals, ttl, ...acquire } = options;
  return { acquire, keep: { maxRenewals, ttl } };
}

export function validateKeepOptions(options: KeepOptions, driftFactor: number): void {
  if (options.maxRenewals !== undefined && options.maxRenewals !== Number.POSITIVE_INFINITY) {
    requireInteger('options.maxRenewals', options.maxRenewals, 0, Number.MAX_SAFE_INTEGER);
  }
  if (options.ttl !== undefined) requireTtl('options.ttl', options.ttl, driftFactor);
}
