import { createHash } from 'node:crypto';
import { isRedisClient, type RedisClient, rawClientKind } from './client.js';
import type { Runtime } from './clock.js';
import { channels, traced } from './diagnostics.js';
import {
  type AttemptReport,
  InvalidArgumentError,
  LockAcquireError,
  type LockLostError,
  type NodeReport,
} from './errors.js';
import { type Handoff, handoffFor } from './handoff.js';
import { KEEP_KEYS, type KeepOptions, LeaseKeeper } from './keeper.js';
import { LeaderElection, type LeaderOptions } from './leader.js';
import { Lease, Lock, type LockOwner, leaseOf } from './lock.js';
import {
  ACQUIRE_KEYS,
  type AcquireOptions,
  DEFAULTS,
  OPERATION_KEYS,
  type OperationOptions,
  RESERVED,
  type RedlockOptions,
  type ResolvedOptions,
  requireInteger,
  requireOptions,
  requireResource,
  requireResources,
  requireSignal,
  requireTtl,
  requireValue,
  resolveOptions,
  retryDelayOf,
} from './options.js';
import { NodePipe } from './pipe.js';
import { type NodeInfo, type NodeState, type RoundResult, runRound, type Verdict } from './quorum.js';
import { jitteredRetry, type RetryContext, type RetryStrategy, sleep } from './retry.js';
import {
  acquireScript,
  claimScript,
  extendScript,
  initFenceScript,
  inspectScript,
  parseAcquireReply,
  parseClaimReply,
  parseExtendReply,
  parseInitFenceReply,
  parseInspectReply,
  parseReleaseReply,
  parseRepairReply,
  releaseScript,
  repairScript,
} from './scripts/index.js';
import { deadlineMs, nodeTimeoutMs, quorumOf } from './validity.js';

/** What `inspect` saw on each node. */
export interface InspectResult {
  readonly resources: readonly string[];
  readonly nodes: ReadonlyArray<
    NodeReport & {
      /** Per resource: who holds it (SHA-256 prefix of the value, or null) and its PTTL (-2 absent). */
      readonly keys: ReadonlyArray<{
        resource: string;
        holder: string | null;
        ttlMs: number;
        mine?: boolean;
      }>;
    }
  >;
}

/** Identifies a holder in diagnostics without revealing its lock value. */
export function holderHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}

/** Options of `using`: those of `acquire`, and those of the renewals. */
export interface UsingOptions extends AcquireOptions, KeepOptions {}

const USING_KEYS = [...ACQUIRE_KEYS, ...KEEP_KEYS] as const;
const INSPECT_KEYS = ['value', 'signal'] as const;
const INIT_FENCING_KEYS = ['floor', 'signal'] as const;

function validateKeepOptions(options: KeepOptions, driftFactor: number): void {
  if (options.maxRenewals !== undefined && options.maxRenewals !== Number.POSITIVE_INFINITY) {
    requireInteger('options.maxRenewals', options.maxRenewals, 0, Number.MAX_SAFE_INTEGER);
  }
  if (options.ttl !== undefined) requireTtl('options.ttl', options.ttl, driftFactor);
}

/** The outcome of a release: every node's answer, after every node answered or timed out. */
export interface ReleaseResult {
  readonly resources: readonly string[];
  /** Nodes that deleted at least one of our keys. */
  readonly releasedCount: number;
  /** Nodes where our value was not there (expired, never set, or taken by someone else since). */
  readonly notHeldCount: number;
  /** Nodes that errored or timed out: their keys, if any, expire on their own. */
  readonly failedCount: number;
  readonly nodes: readonly NodeReport[];
}

/** The outcome of `initFencing`: each node's counter (outcome `claimed` = created now, `too-low` = already there). */
export interface FencingInitResult {
  /** True when a quorum of nodes now has the counter. */
  readonly ready: boolean;
  /** The highest counter seen (or the floor). */
  readonly highest: number;
  readonly nodes: readonly NodeReport[];
}

type FenceClaim =
  | { readonly outcome: 'claimed'; readonly token: number; readonly nodes: readonly NodeReport[] }
  | {
      readonly outcome: Exclude<AttemptReport['outcome'], 'acquired'>;
      readonly nodes: readonly NodeReport[];
    };

/** The outcome of a renew, for callers that want more than a boolean. */
export interface RenewResult {
  readonly renewed: boolean;
  /** Why not: the local deadline had passed, the lock was released, or the vote was lost or too late. */
  readonly reason?: 'expired' | 'released' | 'no-quorum' | 'validity-exhausted';
  /** New validity in ms (0 when not renewed). */
  readonly validityMs: number;
  readonly votes: number;
  readonly quorum: number;
  readonly nodes: readonly NodeReport[];
}

const VALUE_BYTES = 16;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Bound on how many live locks the registry keeps before sweeping expired ones. */
const REGISTRY_SWEEP_AT = 1024;

/**
 * Redlock over N independent Redis masters. A lock is granted only when a majority of nodes
 * set it within its validity; see docs/spec.md for every rule and the test that enforces it.
 */
export class Redlock {
  /** floor(N/2) + 1. */
  readonly quorum: number;
  readonly options: ResolvedOptions;
  readonly #nodes: readonly NodeState[];
  readonly #runtime: Runtime;
  readonly #live = new Map<string, Lock>();
  readonly #handoff: Handoff;
  /** Names this set of nodes, so that local hand-off only pairs Redlocks over the same servers. */
  readonly #nodeSetId: string;
  #sweepAt = REGISTRY_SWEEP_AT;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #valueBytes = new Uint8Array(VALUE_BYTES);
  readonly #track = (delta: 1 | -1) => {
    this.#inFlight += delta;
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  };
  readonly #onInfo = (node: NodeState, info: NodeInfo, first: boolean) => this.#checkInfo(node, info, first);
  readonly #onInfoRefused = (node: NodeState, error: Error) => {
    process.emitWarning(
      `node ${node.index} (${node.endpoint}) refuses INFO (${error.message}): it cannot be checked for being the same server as another node, nor for eviction and persistence` +
        (this.options.minNodeUptimeMs > 0
          ? '; its votes do not count, because minNodeUptimeMs needs its uptime'
          : ''),
      { code: 'QUORUMLOCK_INFO_REFUSED' },
    );
  };
  /** The private way from a Lock back to this Redlock. */
  readonly #owner: LockOwner = {
    release: (lock, options) => this.#releaseHeld(lock, options),
    renew: (lock, ttl, options) => {
      requireTtl('ttl', ttl, this.options.driftFactor);
      const { signal } = requireOptions('options', options, OPERATION_KEYS);
      requireSignal('options.signal', signal);
      return this.#renew(lock.resources, lock.value, ttl, lock, signal);
    },
  };

  constructor(clients: readonly RedisClient[], options?: RedlockOptions) {
    if (!Array.isArray(clients) || clients.length === 0) {
      throw new InvalidArgumentError('clients', 'a non-empty array of RedisClient adapters', clients);
    }
    const resolved = resolveOptions(options);
    this.options = resolved.options;
    this.#runtime = resolved.runtime;
    const endpoints = new Map<string, number>();
    this.#nodes = clients.map((client: unknown, index) => {
      if (!isRedisClient(client)) {
        const raw = rawClientKind(client);
        const hint = raw
          ? `wrap a raw ${raw} client with ${raw === 'ioredis' ? 'ioredisAdapter(client)' : 'nodeRedisAdapter(client)'}`
          : 'an adapter has `endpoint: string` and `exec(commands)`';
        throw new InvalidArgumentError(`clients[${index}]`, 'a RedisClient adapter', client, hint);
      }
      const previous = endpoints.get(client.endpoint);
      if (previous !== undefined) {
        throw new InvalidArgumentError(
          `clients[${index}]`,
          'a node not already in the list',
          client.endpoint,
          `same endpoint as clients[${previous}]; Redlock needs N independent masters`,
        );
      }
      endpoints.set(client.endpoint, index);
      const send: NodeState['send'] = this.options.coalesce
        ? sendVia(new NodePipe(client))
        : (commands) => client.exec(commands);
      return {
        index,
        client,
        endpoint: client.endpoint,
        send,
        identity: 'unknown',
        runId: undefined,
        info: undefined,
      };
    });
    this.quorum = quorumOf(clients.length);
    this.#handoff = handoffFor(this.#runtime.clock);
    this.#nodeSetId = this.#nodes
      .map((n) => n.endpoint)
      .sort()
      .join(',');
    if (clients.length % 2 === 0) {
      process.emitWarning(
        `Redlock over ${clients.length} nodes needs ${this.quorum} votes and tolerates no more failures than ${clients.length - 1} nodes would; use an odd number`,
        { code: 'QUORUMLOCK_EVEN_N' },
      );
    }
  }

  /** The number of nodes. */
  get size(): number {
    return this.#nodes.length;
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
  acquireLockWithCustomRetry(
    resource: string | readonly string[],
    ttl: number,
    retryStrategy: RetryStrategy,
    options?: Omit<AcquireOptions, 'retryStrategy'>,
  ): Promise<Lock | null> {
    if (typeof retryStrategy !== 'function') {
      return Promise.reject(
        new InvalidArgumentError(
          'retryStrategy',
          'a function (attempt, context) => number | null',
          retryStrategy,
        ),
      );
    }
    return this.acquireLock(resource, ttl, { ...options, retryStrategy });
  }

  /**
   * As `acquireLock`, but a failure rejects with a LockAcquireError that carries every attempt's
   * per-node report and says why: contended, unavailable or validity-exhausted.
   */
  acquire(resource: string | readonly string[], ttl: number, options: AcquireOptions = {}): Promise<Lock> {
    return traced(
      channels.acquire,
      { operation: 'acquire', resources: typeof resource === 'string' ? [resource] : resource, ttl },
      () => this.#acquire(resource, ttl, options),
      (lock, context) => {
        context.attempts = [lock.report];
        context.nodes = lock.report.nodes;
        context.result = { ok: true, validityMs: lock.validityMs, fencingToken: lock.fencingToken };
      },
    );
  }

  async #acquire(resource: string | readonly string[], ttl: number, options: AcquireOptions): Promise<Lock> {
    const resources = requireResources('resource', resource);
    if (this.options.fencing && resources.length !== 1) {
      throw new InvalidArgumentError('resource', 'a single resource when fencing is on', resource);
    }
    requireTtl('ttl', ttl, this.options.driftFactor);
    const { signal, timeoutMs, retryStrategy } = requireOptions('options', options, ACQUIRE_KEYS);
    requireSignal('options.signal', signal);
    if (timeoutMs !== undefined) requireInteger('options.timeoutMs', timeoutMs, 0, 2_147_483_647);
    if (retryStrategy !== undefined && typeof retryStrategy !== 'function') {
      throw new InvalidArgumentError(
        'options.retryStrategy',
        'a function (attempt, context) => number | null',
        retryStrategy,
      );
    }
    const { clock, timers, random } = this.#runtime;
    const strategy = retryStrategy ?? jitteredRetry(this.options.retryDelay, this.options.retryJitter);
    const keys = this.#keys(resources);
    const began = clock.now();
    const until = timeoutMs === undefined ? Number.POSITIVE_INFINITY : began + timeoutMs;
    const reports: AttemptReport[] = [];
    const id = this.#resourceId(keys);
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw signal.reason;
      const outcome = await this.#attempt(resource, resources, keys, ttl, attempt, signal);
      if (outcome instanceof Lock) return outcome;
      reports.push(outcome);
      if (outcome.outcome === 'aborted') throw signal!.reason;
      // Retrying cannot create a missing fencing counter: that takes an explicit initFencing.
      if (outcome.outcome === 'fencing-uninitialized' || attempt > this.options.retryCount) break;
      const context: RetryContext = Object.freeze({
        lastAttempt: outcome,
        elapsedMs: clock.now() - began,
        random: () => random.float(),
      });
      const delay = retryDelayOf(strategy(attempt, context));
      if (delay === null || clock.now() + delay >= until) break;
      // The strategy's delay, cut short when a lock of this process on the same resource is
      // released (the first waiter in arrival order is woken): a hand-off without polling.
      await this.#handoff.wait(id, timers, delay, signal);
    }
    throw new LockAcquireError(resources, reports);
  }

  /**
   * Extend a lock on a quorum (R7). For a lock this Redlock holds, refused locally once its
   * deadline has passed, and the Lock's validity is updated on success. A value from elsewhere
   * gets the strict server-side renew only. Never re-creates keys unless the strict renew
   * already reached quorum (R8).
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
    const { signal } = requireOptions('options', options, OPERATION_KEYS);
    requireSignal('options.signal', signal);
    return this.#renew(resources, value, ttl, this.#held(value, resources), signal);
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
    const { signal } = requireOptions('options', options, OPERATION_KEYS);
    requireSignal('options.signal', signal);
    const lock = this.#held(value, resources);
    if (lock) return this.#releaseOf(lock, resources, signal);
    return this.#tracedRelease(resources, value, this.#releaseTimeout(undefined), signal);
  }

  #releaseHeld(lock: Lock, options: OperationOptions | undefined): Promise<ReleaseResult> {
    try {
      const { signal } = requireOptions('options', options, OPERATION_KEYS);
      requireSignal('options.signal', signal);
      return this.#releaseOf(lock, lock.resources, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Release a lock of this Redlock: its keepers stop and it reads released before anything is sent. */
  #releaseOf(
    lock: Lock,
    resources: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<ReleaseResult> {
    leaseOf(lock).markReleased();
    this.#live.delete(lock.value);
    const id = this.#resourceId(this.#keys(lock.resources));
    return this.#tracedRelease(resources, lock.value, this.#releaseTimeout(lock.ttl), signal).finally(() =>
      this.#handoff.released(id),
    );
  }

  /** The lock of this Redlock with `value`, when it covers any of `resources` (order does not matter). */
  #held(value: string, resources: readonly string[]): Lock | undefined {
    const lock = this.#live.get(value);
    return lock && resources.some((r) => lock.resources.includes(r)) ? lock : undefined;
  }

  #tracedRelease(
    resources: readonly string[],
    value: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ReleaseResult> {
    return traced(
      channels.release,
      { operation: 'release', resources },
      () => this.#release(resources, value, timeoutMs, signal),
      (result, context) => {
        context.nodes = result.nodes;
        context.result = { ok: result.releasedCount > 0, releasedCount: result.releasedCount };
      },
    );
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
    const keys = this.#keys(resources);
    const seen = new Map<number, InspectResult['nodes'][number]['keys']>();
    const round = await this.#round(
      { type: 'eval', script: inspectScript, keys, args: [] },
      (reply, node) => {
        const entries = parseInspectReply(reply, keys.length).map(({ value, pttl }, i) => ({
          resource: resources[i]!,
          holder: value === null ? null : holderHash(value),
          ttlMs: pttl,
          ...(options.value !== undefined ? { mine: value === options.value } : {}),
        }));
        seen.set(node, entries);
        return { outcome: entries.some((e) => e.holder !== null) ? 'held' : 'not-held', yes: true };
      },
      this.#releaseTimeout(undefined),
      'all',
      options.signal,
    );
    if (round.decision === 'aborted') throw options.signal!.reason;
    return Object.freeze({
      resources,
      nodes: round.nodes.map((report) => ({ ...report, keys: seen.get(report.node) ?? [] })),
    });
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
    if (typeof fn !== 'function')
      throw new InvalidArgumentError('fn', 'a function (signal, lock) => result', fn);
    requireOptions('options', options, USING_KEYS);
    validateKeepOptions(options, this.options.driftFactor);
    const { maxRenewals, ttl: renewTtl, ...acquireOptions } = options;
    const lock = await this.acquire(resource, ttl, acquireOptions);
    const keeper = this.keep(lock, {
      ...(maxRenewals === undefined ? {} : { maxRenewals }),
      ...(renewTtl === undefined ? {} : { ttl: renewTtl }),
    });
    const signal = options.signal ? AbortSignal.any([keeper.signal, options.signal]) : keeper.signal;
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
        const deadline = sleep(
          this.#runtime.timers,
          Math.max(0, lock.deadlineMs - this.#runtime.clock.now()),
          stop.signal,
        );
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

  /**
   * Keep a held lock alive until `stop()`: renewals a third of the way into each validity, and
   * a signal that aborts with a LockLostError before the deadline when the lock is lost.
   */
  keep(lock: Lock, options: KeepOptions = {}): LeaseKeeper {
    if (!(lock instanceof Lock)) throw new InvalidArgumentError('lock', 'a Lock taken by a Redlock', lock);
    requireOptions('options', options, KEEP_KEYS);
    validateKeepOptions(options, this.options.driftFactor);
    return new LeaseKeeper(
      {
        renew: (held, ttl) => this.#renew(held.resources, held.value, ttl, held, undefined),
        quorum: this.quorum,
      },
      this.#runtime,
      lock,
      options,
    );
  }

  /**
   * Campaign for leadership of `resource`: see LeaderElection. The election starts at once and
   * runs until `stop()`.
   */
  campaign(resource: string, options: LeaderOptions): LeaderElection {
    return new LeaderElection(this, this.#runtime, resource, options);
  }

  /**
   * Resolves once every node call this Redlock started has answered or timed out, stragglers of
   * decided rounds included. For tests and graceful shutdown: after it, no timer of ours is left.
   */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
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
    const round = await this.#round(
      {
        type: 'eval',
        script: initFenceScript,
        keys: [fenceKeyOf(this.#keys([name])[0]!)],
        args: [String(floor)],
      },
      (reply) => {
        const r = parseInitFenceReply(reply);
        return { outcome: r.created ? 'claimed' : 'too-low', yes: true, counter: r.value };
      },
      this.#releaseTimeout(undefined),
      'all',
      options.signal,
    );
    if (round.decision === 'aborted') throw options.signal!.reason;
    const present = round.nodes.filter((n) => n.counter !== undefined);
    return Object.freeze({
      ready: present.length >= this.quorum,
      highest: Math.max(floor, ...present.map((n) => n.counter ?? 0)),
      nodes: round.nodes,
    });
  }

  async #attempt(
    resource: string | readonly string[],
    resources: readonly string[],
    keys: readonly string[],
    ttl: number,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<Lock | AttemptReport> {
    const { clock, wallClock } = this.#runtime;
    const value = this.#newValue();
    const timeoutMs = nodeTimeoutMs(ttl, this.options.driftFactor, this.options.nodeTimeoutMs);
    const fenceKey = this.options.fencing ? fenceKeyOf(keys[0]!) : undefined;
    const round = await this.#round(
      {
        type: 'eval',
        script: acquireScript,
        // With fencing, the counter is read in the same call (docs/fencing.md, "How tokens are made", step 1).
        keys: fenceKey ? [...keys, fenceKey] : keys,
        args: [value, String(ttl), String(keys.length)],
      },
      fenceKey ? classifyFencedAcquire : classifyAcquire,
      timeoutMs,
      'vote',
      signal,
    );
    const deadline = deadlineMs(round.startMs, ttl, this.options.driftFactor);
    let outcome: AttemptReport['outcome'] =
      round.decision === 'aborted'
        ? 'aborted'
        : round.decision !== 'won'
          ? classifyFailure(round.nodes, this.quorum)
          : clock.now() < deadline
            ? 'acquired'
            : 'validity-exhausted';
    let claim: FenceClaim | undefined;
    if (outcome === 'acquired' && fenceKey) {
      claim = await this.#claim(fenceKey, round.nodes, deadline, timeoutMs, signal);
      // The token is handed out only after this final validity check (R13; docs/fencing.md, step 3).
      outcome =
        claim.outcome === 'claimed'
          ? clock.now() < deadline
            ? 'acquired'
            : 'validity-exhausted'
          : claim.outcome;
    }
    const report: AttemptReport = Object.freeze({
      attempt,
      outcome,
      votes: round.votes,
      quorum: this.quorum,
      elapsedMs: round.decidedMs - round.startMs,
      nodes: round.nodes,
      ...(claim ? { claim: claim.nodes } : {}),
    });
    if (outcome === 'acquired') {
      const lock = new Lock({
        resource,
        resources,
        value,
        ttl,
        attempts: attempt,
        report,
        fencingToken: claim?.outcome === 'claimed' ? claim.token : null,
        lease: new Lease(clock, wallClock, deadline, round.startMs + forgetAfter(ttl)),
        owner: this.#owner,
      });
      this.#register(lock);
      return lock;
    }
    // Every node that may hold the key gets the release, those that errored or timed out
    // included: their SET may have landed (R5). A "held" answer proves the script wrote nothing,
    // so those nodes are spared. Done before the next attempt, so a client never blocks itself (R9).
    const suspects = round.nodes.filter((n) => n.outcome !== 'held').map((n) => this.#nodes[n.node]!);
    if (suspects.length > 0) await this.#release(resources, value, timeoutMs, undefined, suspects);
    return report;
  }

  /**
   * The claim round of docs/fencing.md: propose one more than the highest counter seen, and keep
   * it only if a quorum of nodes accepts it (each accepts a token at most once, and only above
   * its counter). A node without a counter answers "absent" and refuses: a wiped node can never
   * vote a token backwards (docs/fencing.md, "Lost counters: absent, never stale"). Re-proposes above any "too low" answer, while validity lasts.
   */
  async #claim(
    fenceKey: string,
    acquired: readonly NodeReport[],
    deadline: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<FenceClaim> {
    let proposal = 1 + Math.max(0, ...acquired.map((n) => n.counter ?? 0));
    let nodes: readonly NodeReport[] = [];
    for (let round = 0; round < DEFAULTS.maxClaimRounds && this.#runtime.clock.now() < deadline; round++) {
      const result = await this.#round(
        { type: 'eval', script: claimScript, keys: [fenceKey], args: [String(proposal)] },
        classifyClaim,
        timeoutMs,
        'vote',
        signal,
      );
      nodes = result.nodes;
      if (result.decision === 'aborted') return { outcome: 'aborted', nodes };
      if (result.decision === 'won') return { outcome: 'claimed', token: proposal, nodes };
      const absent = nodes.filter((n) => n.outcome === 'not-held').length;
      if (absent > this.#nodes.length - this.quorum) return { outcome: 'fencing-uninitialized', nodes };
      proposal =
        1 + Math.max(proposal, ...nodes.map((n) => (n.outcome === 'too-low' ? (n.counter ?? 0) : 0)));
    }
    const outOfTime = this.#runtime.clock.now() >= deadline;
    return { outcome: outOfTime ? 'validity-exhausted' : classifyFailure(nodes, this.quorum), nodes };
  }

  #renew(
    resources: readonly string[],
    value: string,
    ttl: number,
    lock: Lock | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RenewResult> {
    return traced(
      channels.renew,
      { operation: 'renew', resources, ttl },
      () => this.#renewRound(resources, value, ttl, lock, signal),
      (result, context) => {
        context.nodes = result.nodes;
        context.result = {
          ok: result.renewed,
          validityMs: result.validityMs,
          ...(result.reason ? { reason: result.reason } : {}),
        };
      },
    );
  }

  async #renewRound(
    resources: readonly string[],
    value: string,
    ttl: number,
    lock: Lock | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RenewResult> {
    const { clock } = this.#runtime;
    const lease = lock ? leaseOf(lock) : undefined;
    const refused = (reason: 'expired' | 'released'): RenewResult => ({
      renewed: false,
      reason,
      validityMs: 0,
      votes: 0,
      quorum: this.quorum,
      nodes: [],
    });
    if (lease?.released) return refused('released');
    if (lease && clock.now() >= lease.deadlineMs) return refused('expired');
    if (signal?.aborted) throw signal.reason;
    const keys = this.#keys(resources);
    const timeoutMs = nodeTimeoutMs(ttl, this.options.driftFactor, this.options.nodeTimeoutMs);
    // From the moment it is sent, the nodes may hold the keys only for ttl: whatever the outcome,
    // the lock's deadline is at most that of this renew.
    const sentAt = clock.now();
    let seq = lease?.renewSent(deadlineMs(sentAt, ttl, this.options.driftFactor), sentAt + forgetAfter(ttl));
    let extended: number | undefined;
    try {
      const round = await this.#round(
        { type: 'eval', script: extendScript, keys, args: [value, String(ttl)] },
        classifyExtend,
        timeoutMs,
        'vote',
        signal,
      );
      if (round.decision === 'aborted') throw signal!.reason;
      const deadline = deadlineMs(round.startMs, ttl, this.options.driftFactor);
      const result = (renewed: boolean, reason?: RenewResult['reason']): RenewResult => ({
        renewed,
        ...(reason ? { reason } : {}),
        validityMs: renewed ? deadline - clock.now() : 0,
        votes: round.votes,
        quorum: this.quorum,
        nodes: round.nodes,
      });
      if (round.decision !== 'won') return result(false, 'no-quorum');
      if (clock.now() >= deadline) return result(false, 'validity-exhausted');
      if (lease?.released) return result(false, 'released');
      // Only a renew of every key of the lock moves its deadline on; part of them only bounds it.
      if (lock && sameSet(lock.resources, resources)) extended = deadline;
      if (seq !== undefined) lease!.renewSettled(seq, extended);
      seq = undefined;
      // R8: the strict renew reached quorum, so we held a majority throughout; only now may
      // nodes that answered "absent" get our key back (restoring redundancy after a restart).
      const absent = round.nodes
        .filter((n) => n.outcome === 'not-held' && n.holder === 'absent')
        .map((n) => n.node);
      // Not awaited: the verdict is already in and must not wait past its own deadline. The repair
      // round is bounded by the per-node timeout and tracked, so idle() still waits for it.
      if (absent.length > 0) void this.#repair(absent, keys, value, ttl, timeoutMs);
      return result(true);
    } finally {
      // Failed, too late or aborted: the bound set when it was sent stays.
      if (seq !== undefined) lease!.renewSettled(seq);
    }
  }

  async #repair(
    indexes: readonly number[],
    keys: readonly string[],
    value: string,
    ttl: number,
    timeoutMs: number,
  ) {
    await this.#round(
      { type: 'eval', script: repairScript, keys, args: [value, String(ttl)] },
      (reply) =>
        parseRepairReply(reply)
          ? { outcome: 'renewed', yes: true }
          : { outcome: 'not-held', yes: false, holder: 'foreign' },
      timeoutMs,
      'all',
      undefined,
      indexes.map((i) => this.#nodes[i]!),
    );
  }

  async #release(
    resources: readonly string[],
    value: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    nodes: readonly NodeState[] = this.#nodes,
  ): Promise<ReleaseResult> {
    const round = await this.#round(
      { type: 'eval', script: releaseScript, keys: this.#keys(resources), args: [value] },
      classifyRelease,
      timeoutMs,
      'all',
      signal,
      nodes,
    );
    if (round.decision === 'aborted') throw signal!.reason;
    let releasedCount = 0;
    let notHeldCount = 0;
    for (const n of round.nodes) {
      if (n.outcome === 'released') releasedCount++;
      else if (n.outcome === 'not-held') notHeldCount++;
    }
    return Object.freeze({
      resources,
      releasedCount,
      notHeldCount,
      failedCount: round.nodes.length - releasedCount - notHeldCount,
      nodes: round.nodes,
    });
  }

  #round(
    command: Parameters<typeof runRound>[0]['command'],
    classify: (reply: unknown, node: number) => Verdict,
    timeoutMs: number,
    mode: 'vote' | 'all',
    signal: AbortSignal | undefined,
    nodes: readonly NodeState[] = this.#nodes,
  ): Promise<RoundResult> {
    return runRound({
      nodes,
      command,
      classify,
      timeoutMs,
      quorum: this.quorum,
      mode,
      signal,
      runtime: this.#runtime,
      infoEveryCall: this.options.minNodeUptimeMs > 0,
      onInfo: this.#onInfo,
      onInfoRefused: this.#onInfoRefused,
      track: this.#track,
    });
  }

  #releaseTimeout(ttl: number | undefined): number {
    if (this.options.nodeTimeoutMs !== undefined) return this.options.nodeTimeoutMs;
    return ttl === undefined
      ? DEFAULTS.releaseNodeTimeoutMs
      : nodeTimeoutMs(ttl, this.options.driftFactor, undefined);
  }

  /** Names a set of keys on this set of nodes, whatever the order the keys are given in. */
  #resourceId(keys: readonly string[]): string {
    return `${this.#nodeSetId}|${keys.length === 1 ? keys[0] : [...keys].sort().join(RESERVED)}`;
  }

  #keys(resources: readonly string[]): string[] {
    const prefix = this.options.keyPrefix;
    return prefix ? resources.map((r) => prefix + r) : (resources as string[]);
  }

  #newValue(): string {
    const bytes = this.#valueBytes;
    this.#runtime.random.fill(bytes);
    let out = '';
    for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
    return out;
  }

  #register(lock: Lock): void {
    this.#live.set(lock.value, lock);
    if (this.#live.size < this.#sweepAt) return;
    // Amortised sweep: a lock past its deadline is refused any renew, by whatever name; once no
    // node can still hold its keys, a renew by its value fails on the nodes too, so forget it.
    const now = this.#runtime.clock.now();
    for (const [value, l] of this.#live) if (now >= leaseOf(l).forgetAfterMs) this.#live.delete(value);
    this.#sweepAt = Math.max(REGISTRY_SWEEP_AT, this.#live.size * 2);
  }

  /**
   * Guards on what a node's INFO says (R1, R14): on first contact, warn when it is the same
   * server as another node, when it may evict keys, and when it does not persist; on every
   * vetted call, refuse its vote while its uptime is below `minNodeUptimeMs`.
   */
  #checkInfo(node: NodeState, info: NodeInfo, first: boolean): boolean {
    if (first) {
      for (const other of this.#nodes) {
        if (other !== node && other.runId !== undefined && other.runId === node.runId) {
          process.emitWarning(
            `nodes ${other.index} (${other.endpoint}) and ${node.index} (${node.endpoint}) are the same Redis server (run_id ${node.runId}): only one of their votes counts`,
            { code: 'QUORUMLOCK_DUPLICATE_NODE' },
          );
        }
      }
      if (info.maxmemoryPolicy !== undefined && info.maxmemoryPolicy !== 'noeviction') {
        process.emitWarning(
          `node ${node.index} (${node.endpoint}) has maxmemory-policy ${info.maxmemoryPolicy}: eviction can delete lock keys early and break mutual exclusion; use noeviction`,
          { code: 'QUORUMLOCK_EVICTION_POLICY' },
        );
      }
      if (info.aofEnabled === false && this.options.minNodeUptimeMs === 0) {
        process.emitWarning(
          `node ${node.index} (${node.endpoint}) runs without AOF: a crash and restart forgets its locks; use appendonly yes with appendfsync always, or set minNodeUptimeMs to the longest TTL (delayed restart)`,
          { code: 'QUORUMLOCK_PERSISTENCE' },
        );
      }
    }
    const min = this.options.minNodeUptimeMs;
    // uptime_in_seconds is a difference of truncated Unix seconds: it can read up to 1 s ahead of
    // the real uptime, so count one second less.
    return min === 0 || info.uptimeSeconds === undefined || (info.uptimeSeconds - 1) * 1000 >= min;
  }

  /** Each node as its last INFO described it (undefined before first contact): a diagnostic. */
  nodeInfo(): ReadonlyArray<{
    readonly node: number;
    readonly endpoint: string;
    readonly info: NodeInfo | undefined;
  }> {
    return this.#nodes.map((n) => ({ node: n.index, endpoint: n.endpoint, info: n.info }));
  }
}

function sendVia(pipe: NodePipe): NodeState['send'] {
  return (commands) => pipe.send(commands);
}

function classifyAcquire(reply: unknown): Verdict {
  return parseAcquireReply(reply).acquired
    ? { outcome: 'acquired', yes: true }
    : { outcome: 'held', yes: false };
}

function classifyFencedAcquire(reply: unknown): Verdict {
  const r = parseAcquireReply(reply);
  return { outcome: r.acquired ? 'acquired' : 'held', yes: r.acquired, counter: r.counter };
}

function classifyClaim(reply: unknown): Verdict {
  const r = parseClaimReply(reply);
  if (r.kind === 'accepted') return { outcome: 'claimed', yes: true, counter: r.value };
  if (r.kind === 'too-low') return { outcome: 'too-low', yes: false, counter: r.value };
  return { outcome: 'not-held', yes: false, holder: 'absent', counter: null };
}

/**
 * The fencing counter lives beside the lock key, without a TTL. Its key carries a NUL character,
 * which no lock key may contain (resources and keyPrefix refuse it), so no resource name can ever
 * produce a counter's key (docs/fencing.md).
 */
export function fenceKeyOf(lockKey: string): string {
  return `${lockKey}${RESERVED}fence`;
}

/**
 * How long after a send with `ttl` its keys may outlive the sender's knowledge: the node's TTL,
 * plus at most one per-node timeout (never above ttl) and the drift. Twice the TTL covers both.
 */
function forgetAfter(ttl: number): number {
  return 2 * ttl;
}

function classifyExtend(reply: unknown): Verdict {
  const r = parseExtendReply(reply);
  if (r.extended) return { outcome: 'renewed', yes: true };
  return { outcome: 'not-held', yes: false, holder: r.foreign > 0 ? 'foreign' : 'absent' };
}

function classifyRelease(reply: unknown): Verdict {
  const r = parseReleaseReply(reply);
  if (r.deleted > 0) return { outcome: 'released', yes: true };
  return { outcome: 'not-held', yes: false, holder: r.foreign > 0 ? 'foreign' : 'absent' };
}

/**
 * "contended" when the refusals alone (a key held elsewhere, or a fencing counter already past
 * the proposal) make quorum impossible; otherwise "unavailable".
 */
function classifyFailure(nodes: readonly NodeReport[], quorum: number): 'contended' | 'unavailable' {
  let refused = 0;
  for (const n of nodes) if (n.outcome === 'held' || n.outcome === 'too-low') refused++;
  return refused > nodes.length - quorum ? 'contended' : 'unavailable';
}

/** The same resources, in any order (both lists are free of duplicates). */
function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && b.every((x) => a.includes(x));
}
