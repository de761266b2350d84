import { acquire, type Granted } from './acquire.js';
import type { RedisClient } from './adapter.js';
import type { Core } from './core.js';
import { active, channels, traced } from './diagnostics.js';
import { InvalidArgumentError, LockAcquireError } from './errors.js';
import { type FencingInitResult, initFencing } from './fencing.js';
import { lockOfGrant } from './granted.js';
import type { NodeInfo } from './guards.js';
import { handoffFor } from './handoff.js';
import { type InspectResult, inspect } from './inspect.js';
import { KEEP_KEYS, type KeepOptions, LeaseKeeper } from './keeper.js';
import { keysOf, resourceId } from './keys.js';
import { LeaderElection, type LeaderHost, type LeaderOptions } from './leader.js';
import { Lock, type LockOwner, leaseOf } from './lock.js';
import { Nodes } from './nodes.js';
import {
  ACQUIRE_KEYS,
  type AcquireOptions,
  type OperationOptions,
  type RedlockOptions,
  type ResolvedOptions,
  requireFunction,
  requireInteger,
  requireOptions,
  requireResource,
  requireResources,
  requireSignal,
  requireTtl,
  requireValue,
  resolveOptions,
} from './options.js';
import {
  holdWhile,
  isPrimitiveHandle,
  operationSignal,
  Primitive,
  settleAcquire,
  usingOptions,
  validateKeepOptions,
} from './primitive.js';
import { Registry } from './registry.js';
import { type ReleaseResult, release, releaseHeld, releaseTimeoutMs } from './release.js';
import { type RenewResult, renew } from './renew.js';
import { jitteredRetry, type RetryStrategy } from './retry.js';
import { type ReadWriteLock, type ReadWriteOptions, readWrite } from './rwlock.js';
import { type Semaphore, type SemaphoreOptions, semaphore } from './semaphore.js';

/** Options of `using`: those of `acquire`, and those of the renewals. */
export interface UsingOptions extends AcquireOptions, KeepOptions {}

const USING_KEYS = [...ACQUIRE_KEYS, ...KEEP_KEYS] as const;
const INSPECT_KEYS = ['value', 'signal'] as const;
const INIT_FENCING_KEYS = ['floor', 'signal'] as const;
const STRATEGY = 'a function (attempt, context) => number | null';

/**
 * Redlock over N independent Redis masters. A lock is granted only when a majority of nodes
 * set it within its validity; see docs/spec.md for every rule and the test that enforces it.
 * This class is the public face: each operation lives in its own module (acquire.ts, renew.ts,
 * release.ts, fencing.ts, inspect.ts), over the nodes of nodes.ts.
 */
export class Redlock {
  /** floor(N/2) + 1. */
  readonly quorum: number;
  readonly options: ResolvedOptions;
  readonly #core: Core;
  readonly #registry: Registry;
  /** retryDelay ± retryJitter, made once: the strategy of every call that names none. */
  readonly #defaultRetry: RetryStrategy;
  /** The semaphores' and read-write locks' handles (made on first use). */
  #primitive: Primitive | undefined;
  /** The private way from a Lock back to this Redlock. */
  readonly #owner: LockOwner = {
    release: async (lock, options) => this.#releaseOf(lock, lock.resources, operationSignal(options)),
    renew: async (lock, ttl, options) => {
      requireTtl('ttl', ttl, this.options.driftFactor);
      return renew(this.#core, lock.resources, lock.value, ttl, heldOf(lock), operationSignal(options));
    },
  };

  constructor(clients: readonly RedisClient[], options?: RedlockOptions) {
    const { options: resolved, runtime } = resolveOptions(options);
    this.options = resolved;
    const nodes = new Nodes(clients, resolved, runtime);
    this.quorum = nodes.quorum;
    this.#core = { nodes, options: resolved, runtime, handoff: handoffFor(runtime.clock) };
    this.#registry = new Registry(runtime.clock);
    this.#defaultRetry = jitteredRetry(resolved.retryDelay, resolved.retryJitter);
  }

  /** The number of nodes. */
  get size(): number {
    return this.#core.nodes.size;
  }

  /**
   * Acquire `resource` (or every resource of an array, all or nothing on each node) for `ttl` ms.
   * Resolves with the Lock, or null when no attempt won a quorum within its validity. Rejects
   * only on bad input or abort (with `signal.reason` unchanged).
   */
  async acquireLock(
    resource: string | readonly string[],
    ttl: number,
    options?: AcquireOptions,
  ): Promise<Lock | null> {
    try {
      return await this.acquire(resource, ttl, options);
    } catch (error) {
      if (error instanceof LockAcquireError) return null;
      throw error;
    }
  }

  /**
   * As `acquireLock`, with `retryStrategy(attempt, context)` choosing the delay after each failed
   * attempt; a negative number or null stops. Still capped by `retryCount`.
   */
  async acquireLockWithCustomRetry(
    resource: string | readonly string[],
    ttl: number,
    retryStrategy: RetryStrategy,
    options?: Omit<AcquireOptions, 'retryStrategy'>,
  ): Promise<Lock | null> {
    requireFunction('retryStrategy', retryStrategy, STRATEGY);
    return this.acquireLock(resource, ttl, {
      ...requireOptions('options', options, ACQUIRE_KEYS),
      retryStrategy,
    });
  }

  /**
   * As `acquireLock`, but a failure rejects with a LockAcquireError that carries every attempt's
   * per-node report and says why: contended, unavailable or validity-exhausted.
   */
  acquire(resource: string | readonly string[], ttl: number, options?: AcquireOptions): Promise<Lock> {
    if (!active(channels.acquire)) return this.#acquire(resource, ttl, options);
    return traced(
      channels.acquire,
      { operation: 'acquire', resources: typeof resource === 'string' ? [resource] : resource, ttl },
      () => this.#acquire(resource, ttl, options),
      settleAcquire,
    );
  }

  async #acquire(
    resource: string | readonly string[],
    ttl: number,
    options: AcquireOptions | undefined,
  ): Promise<Lock> {
    const resources = requireResources('resource', resource);
    if (this.options.fencing && resources.length !== 1) {
      throw new InvalidArgumentError('resource', 'a single resource when fencing is on', resource);
    }
    requireTtl('ttl', ttl, this.options.driftFactor);
    const { signal, timeoutMs, retryStrategy } = requireOptions('options', options, ACQUIRE_KEYS);
    requireSignal('options.signal', signal);
    if (timeoutMs !== undefined) requireInteger('options.timeoutMs', timeoutMs, 0, 2_147_483_647);
    if (retryStrategy !== undefined) requireFunction('options.retryStrategy', retryStrategy, STRATEGY);
    const { clock } = this.#core.runtime;
    const granted = await acquire(this.#core, resources, ttl, {
      signal,
      until: timeoutMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + timeoutMs,
      strategy: retryStrategy ?? this.#defaultRetry,
      maxRetries: this.options.retryCount,
      keepReports: true,
    });
    return this.#lockOf(resource, resources, ttl, granted);
  }

  /**
   * Extend a lock on a quorum (R7). For a lock this Redlock holds, refused locally once its
   * deadline has passed, and the Lock's validity is updated (bounded by the renew whatever its
   * outcome, R16). A value from elsewhere gets the strict server-side renew only. Never
   * re-creates keys unless the strict renew already reached quorum (R8).
   */
  async renewLock(
    resource: string | readonly string[],
    value: string,
    ttl: number,
    options?: OperationOptions,
  ): Promise<boolean> {
    return (await this.renew(resource, value, ttl, options)).renewed;
  }

  /** As `renewLock`, with the per-node report. */
  async renew(
    resource: string | readonly string[],
    value: string,
    ttl: number,
    options?: OperationOptions,
  ): Promise<RenewResult> {
    const resources = requireResources('resource', resource);
    requireValue('value', value);
    requireTtl('ttl', ttl, this.options.driftFactor);
    const signal = operationSignal(options);
    const lock = this.#registry.held(value, resources);
    return renew(this.#core, resources, value, ttl, lock && heldOf(lock), signal);
  }

  /**
   * Compare-and-delete on every node (R6); resolves when every node answered or timed out. A lock
   * of this Redlock with that value (named in any order) is marked released first, and its
   * keeper stopped.
   */
  async releaseLock(
    resource: string | readonly string[],
    value: string,
    options?: OperationOptions,
  ): Promise<ReleaseResult> {
    const resources = requireResources('resource', resource);
    requireValue('value', value);
    const signal = operationSignal(options);
    const lock = this.#registry.held(value, resources);
    if (lock) return this.#releaseOf(lock, resources, signal);
    return release(this.#core, resources, value, releaseTimeoutMs(this.options, undefined), signal);
  }

  /**
   * A diagnostic, never a substitute for the lock's local deadline (R12): each node's holder of
   * each resource (a SHA-256 prefix of the value, never the value) and remaining TTL. With
   * `value`, says which keys hold it. Answers can be stale by the time they are read.
   */
  async inspect(
    resource: string | readonly string[],
    options: { value?: string; signal?: AbortSignal } = {},
  ): Promise<InspectResult> {
    const resources = requireResources('resource', resource);
    requireOptions('options', options, INSPECT_KEYS);
    if (options.value !== undefined) requireValue('options.value', options.value);
    requireSignal('options.signal', options.signal);
    return inspect(this.#core, resources, options.value, options.signal);
  }

  /**
   * Run `fn(signal, lock)` under a lock that renews itself (R11). `signal` aborts with a
   * LockLostError before the deadline if the lock is lost; `using` then rejects with that error
   * unless `fn` finishes first. The lock is released when `fn` settles, after any renew in flight.
   * Acquisition failures reject as `acquire` does (LockAcquireError).
   */
  async using<T>(
    resource: string | readonly string[],
    ttl: number,
    fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
    options: UsingOptions = {},
  ): Promise<T> {
    requireFunction('fn', fn, 'a function (signal, lock) => result');
    const split = usingOptions(options, USING_KEYS, this.options.driftFactor);
    const lock = await this.acquire(resource, ttl, split.acquire);
    return holdWhile(this.#core.runtime, lock, this.keep(lock, split.keep), fn, options.signal);
  }

  /**
   * Keep a held lock alive until `stop()`: renewals a third of the way into each validity, and
   * a signal that aborts with a LockLostError before the deadline when the lock is lost.
   */
  keep(lock: Lock, options: KeepOptions = {}): LeaseKeeper {
    if (!(lock instanceof Lock)) throw new InvalidArgumentError('lock', 'a Lock taken by a Redlock', lock);
    if (isPrimitiveHandle(lock)) {
      // Its renew is its primitive's, not the lock's: this keeper would send the lock's extend.
      throw new InvalidArgumentError(
        'lock',
        'a Lock taken by redlock.acquire (keep a permit or a read-write lease with its semaphore.keep or readWrite.keep)',
        lock,
      );
    }
    requireOptions('options', options, KEEP_KEYS);
    validateKeepOptions(options, this.options.driftFactor);
    const host = {
      renew: (held: Lock, ttl: number) =>
        renew(this.#core, held.resources, held.value, ttl, heldOf(held), undefined),
      quorum: this.quorum,
    };
    return new LeaseKeeper(host, this.#core.runtime, lock, options);
  }

  /**
   * Campaign for leadership of `resource`: see LeaderElection. The election starts at once and
   * runs until `stop()`. Bad arguments throw at once.
   */
  campaign(resource: string, options: LeaderOptions): LeaderElection {
    const host: LeaderHost = {
      options: this.options,
      acquire: async (name, ttl, signal, strategy) => {
        const granted = await acquire(this.#core, [name], ttl, {
          signal,
          until: Number.POSITIVE_INFINITY,
          strategy,
          maxRetries: Number.POSITIVE_INFINITY,
          keepReports: false,
        });
        return this.#lockOf(name, [name], ttl, granted);
      },
      keep: (lock, keepOptions) => this.keep(lock, keepOptions),
    };
    return new LeaderElection(host, resource, options);
  }

  /**
   * Resolves once every node call this Redlock started has answered or timed out, stragglers of
   * decided rounds included. For tests and graceful shutdown: after it, no timer of ours is left.
   */
  idle(): Promise<void> {
    return this.#core.nodes.idle();
  }

  /**
   * Create the fencing counter of `resource` at `floor` on every node where it is absent, and
   * report each node's counter. Run it once before the first fenced acquisition. After nodes
   * lost their counters (wiped without persistence), a majority reports it absent and fenced
   * acquisitions refuse: run it again with `floor` at least the highest token ever issued (for
   * example the highest token your fenced resource has accepted), never lower.
   */
  async initFencing(
    resource: string,
    options: { floor?: number; signal?: AbortSignal } = {},
  ): Promise<FencingInitResult> {
    const name = requireResource('resource', resource);
    requireOptions('options', options, INIT_FENCING_KEYS);
    const floor = options.floor ?? 0;
    requireInteger('options.floor', floor, 0, Number.MAX_SAFE_INTEGER);
    requireSignal('options.signal', options.signal);
    return initFencing(this.#core, name, floor, options.signal);
  }

  /**
   * A counting semaphore on `resource` with `permits` permits (docs/semaphore.md): at most that
   * many holders at once, each with a permit shaped as a Lock. Bad arguments throw at once.
   */
  semaphore(resource: string, options: SemaphoreOptions): Semaphore {
    return semaphore(this.#primitiveOf(), resource, options);
  }

  /**
   * A read-write lock on `resource` (docs/semaphore.md, "Read-write lock"): `read` shares,
   * `write` excludes; a waiting writer keeps new readers out. Bad arguments throw at once.
   */
  readWrite(resource: string, options?: ReadWriteOptions): ReadWriteLock {
    return readWrite(this.#primitiveOf(), resource, options);
  }

  #primitiveOf(): Primitive {
    this.#primitive ??= new Primitive(this.#core, this.#defaultRetry);
    return this.#primitive;
  }

  /** Each node as its last INFO described it (undefined before first contact): a diagnostic. */
  nodeInfo(): ReadonlyArray<{
    readonly node: number;
    readonly endpoint: string;
    readonly info: NodeInfo | undefined;
  }> {
    return this.#core.nodes.info();
  }

  /** A won attempt becomes a Lock of this Redlock, registered by its value. */
  #lockOf(
    resource: string | readonly string[],
    resources: readonly string[],
    ttl: number,
    granted: Granted,
  ): Lock {
    const lock = lockOfGrant(this.#core.runtime, this.#owner, resource, resources, ttl, granted);
    leaseOf(lock).creates = granted.creates;
    this.#registry.add(lock);
    return lock;
  }

  /** Release a lock of this Redlock: its keepers stop and it reads released before anything is sent. */
  #releaseOf(
    lock: Lock,
    resources: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<ReleaseResult> {
    const lease = leaseOf(lock);
    lease.markReleased();
    this.#registry.delete(lock);
    const id = resourceId(this.#core.nodes.id, keysOf(this.options.keyPrefix, lock.resources));
    return releaseHeld(
      this.#core,
      lease.creates,
      resources,
      lock.value,
      releaseTimeoutMs(this.options, lock.ttl),
      signal,
    ).finally(() => this.#core.handoff.released(id));
  }
}

function heldOf(lock: Lock) {
  return { resources: lock.resources, lease: leaseOf(lock) };
}
