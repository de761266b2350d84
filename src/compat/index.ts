/**
 * `quorumlock/compat`: node-redlock v5's public API on quorumlock's core, so that a node-redlock
 * user migrates by changing one import (docs/migrating.md, ADR 013). Same class shape, settings
 * names and defaults, methods, error classes, messages and events; underneath, every acquisition
 * is quorumlock's: a fresh value per attempt, a release of partial keys before the next one, a
 * lock returned only while its validity lasts, and a `using` whose signal aborts before the
 * deadline rather than after it.
 */
import { EventEmitter } from 'node:events';
import { type IoredisLike, ioredisAdapter } from '../adapters/ioredis.js';
import { endpointOf } from '../adapters/shared.js';
import { InvalidArgumentError, LockAcquireError } from '../errors.js';
import type { Lock as CoreLock } from '../lock.js';
import { MAX_DELAY_MS, requireInteger, requireNumber, requireOptions } from '../options.js';
import { Redlock as CoreRedlock } from '../redlock.js';
import { MAX_DRIFT_FACTOR, quorumOf } from '../validity.js';
import { ExecutionError, type ExecutionResult, type ExecutionStats, NO_QUORUM } from './errors.js';
import { statsOf } from './stats.js';

export {
  ExecutionError,
  type ExecutionResult,
  type ExecutionStats,
  ResourceLockedError,
} from './errors.js';

/** An ioredis `Redis` or `Cluster` instance: one per independent master (or cluster). */
export type Client = IoredisLike & {
  /** Closes the connection: what `redlock.quit()` calls. */
  quit?(): Promise<unknown>;
};

/** node-redlock's settings, with its defaults. */
export interface Settings {
  /** drift = floor(duration × driftFactor) + 2 ms. In [0, 0.99]. @default 0.01 */
  readonly driftFactor: number;
  /** Retries after the first attempt (10: up to 11 attempts); -1 retries without limit. @default 10 */
  readonly retryCount: number;
  /** Delay between attempts, in ms. @default 200 */
  readonly retryDelay: number;
  /** Up to this many ms added to or taken from each delay, at random. @default 100 */
  readonly retryJitter: number;
  /** `using` checks `duration ≥ automaticExtensionThreshold + 100`, in ms. @default 500 */
  readonly automaticExtensionThreshold: number;
}

/** node-redlock v5's defaults, as its code sets them (its README's example shows retryJitter 200). */
export const defaultSettings: Readonly<Settings> = Object.freeze({
  driftFactor: 0.01,
  retryCount: 10,
  retryDelay: 200,
  retryJitter: 100,
  automaticExtensionThreshold: 500,
});

const SETTINGS_KEYS = Object.keys(defaultSettings);
/** A bound on "retry without limit" (`retryCount: -1`), so that every loop ends. */
const MAX_ATTEMPTS = 1_000_000;

/** The signal `using` hands its routine: aborted, with `error` set, when the lock is lost. */
export type RedlockAbortSignal = AbortSignal & { error?: Error };

/** The quorumlock lock behind each compat Lock taken by a Redlock (none for a hand-made one). */
const cores = new WeakMap<Lock, CoreLock>();

/** A held lock, as node-redlock shapes it. `expiration` is a wall-clock time in ms (0 once released or extended). */
export class Lock {
  readonly redlock: Redlock;
  readonly resources: string[];
  readonly value: string;
  readonly attempts: ReadonlyArray<Promise<ExecutionStats<Client>>>;
  expiration: number;
  constructor(
    redlock: Redlock,
    resources: string[],
    value: string,
    attempts: ReadonlyArray<Promise<ExecutionStats<Client>>>,
    expiration: number,
  ) {
    this.redlock = redlock;
    this.resources = resources;
    this.value = value;
    this.attempts = attempts;
    this.expiration = expiration;
  }
  /** `redlock.release(this)`. */
  release(): Promise<ExecutionResult<Client>> {
    return this.redlock.release(this);
  }
  /** `redlock.extend(this, duration)`: a new Lock; this one's `expiration` becomes 0. */
  extend(duration: number): Promise<Lock> {
    return this.redlock.extend(this, duration);
  }
}

/**
 * node-redlock's Redlock: `new Redlock(clients, settings?)`, then `acquire`, `release`, `extend`
 * and `using`. Emits `error` (and `clientError`, node-redlock v4's name) for every node that voted
 * against, as node-redlock does; an `error` listener is installed so that this never throws.
 */
export class Redlock extends EventEmitter {
  readonly clients: Set<Client>;
  readonly settings: Settings;
  readonly #list: readonly Client[];
  readonly #core: CoreRedlock;

  constructor(clients: Iterable<Client>, settings: Partial<Settings> = {}, scripts?: undefined) {
    super();
    this.on('error', () => {});
    if (scripts !== undefined) {
      throw new InvalidArgumentError('scripts', 'undefined (quorumlock runs its own scripts)', scripts);
    }
    if (clients === null || typeof (clients as Iterable<Client>)?.[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError('clients', 'an iterable of ioredis clients', clients);
    }
    this.clients = new Set(clients);
    this.#list = [...this.clients];
    if (this.#list.length === 0) {
      throw new InvalidArgumentError(
        'clients',
        'a non-empty iterable of ioredis clients',
        this.#list,
        'Redlock must be instantiated with at least one redis client.',
      );
    }
    this.settings = Object.freeze(mergeSettings(defaultSettings, settings, 'settings'));
    const adapters = this.#list.map((client, i) => {
      if (typeof client?.call !== 'function' || typeof client.pipeline !== 'function') {
        throw new InvalidArgumentError(`clients[${i}]`, 'an ioredis Redis or Cluster instance', client);
      }
      return ioredisAdapter(client, { endpoint: endpointOfClient(client) });
    });
    // One attempt per core call: the retry loop is this class's, with node-redlock's settings.
    this.#core = new CoreRedlock(adapters, { retryCount: 0, driftFactor: this.settings.driftFactor });
  }

  /** Runs `quit()` on every client. */
  async quit(): Promise<void> {
    await Promise.all(this.#list.map((client) => client.quit?.()));
  }

  /** Locks `resources` for `duration` ms, retrying as the settings say; rejects with an ExecutionError. */
  async acquire(resources: string[], duration: number, settings?: Partial<Settings>): Promise<Lock> {
    const s = this.#merge(settings);
    const attempts: Promise<ExecutionStats<Client>>[] = [];
    let last: unknown;
    for (let n = 1; n <= maxAttempts(s); n++) {
      try {
        const core = await this.#core.acquire(resources, duration);
        attempts.push(Promise.resolve(this.#stats(core.report.nodes, resources.length)));
        const lock = new Lock(this, [...core.resources], core.value, attempts, core.expiresAt);
        cores.set(lock, core);
        return lock;
      } catch (error) {
        if (!(error instanceof LockAcquireError)) throw error;
        last = error;
        attempts.push(Promise.resolve(this.#stats(error.nodes, resources.length)));
      }
      if (n < maxAttempts(s)) await sleep(delayOf(s));
    }
    throw new ExecutionError(NO_QUORUM, attempts, { cause: last });
  }

  /**
   * Releases the lock on every node (one round: a compare-and-delete that found nothing finds
   * nothing again). Rejects with an ExecutionError when fewer than a quorum released it.
   */
  async release(lock: Lock, settings?: Partial<Settings>): Promise<ExecutionResult<Client>> {
    this.#merge(settings);
    lock.expiration = 0;
    const result = await this.#core.releaseLock(lock.resources, lock.value);
    const attempts = [Promise.resolve(this.#stats(result.nodes, lock.resources.length))];
    if (result.releasedCount >= quorumOf(this.#list.length)) return { attempts };
    throw new ExecutionError(NO_QUORUM, attempts);
  }

  /** Extends a lock that is still valid to `duration` ms from now; returns a new Lock. */
  async extend(existing: Lock, duration: number, settings?: Partial<Settings>): Promise<Lock> {
    const s = this.#merge(settings);
    if (existing.expiration < Date.now()) {
      throw new ExecutionError('Cannot extend an already-expired lock.', []);
    }
    const attempts: Promise<ExecutionStats<Client>>[] = [];
    for (let n = 1; n <= maxAttempts(s); n++) {
      const start = Date.now();
      const result = await this.#core.renew(existing.resources, existing.value, duration);
      attempts.push(Promise.resolve(this.#stats(result.nodes, existing.resources.length)));
      if (result.renewed) {
        existing.expiration = 0;
        const core = cores.get(existing);
        const lock = new Lock(
          this,
          existing.resources,
          existing.value,
          attempts,
          core?.expiresAt ?? start + result.validityMs,
        );
        if (core) cores.set(lock, core);
        return lock;
      }
      // Refused locally (past the deadline, released): retrying cannot change it.
      if (result.reason === 'expired' || result.reason === 'released') break;
      if (n >= maxAttempts(s) || Date.now() >= existing.expiration) break;
      await sleep(delayOf(s));
    }
    throw new ExecutionError(NO_QUORUM, attempts);
  }

  /**
   * Runs `routine(signal)` under a lock that extends itself, then releases it. The signal aborts,
   * with `signal.error` set, when the lock is lost: before its deadline (quorumlock's keeper
   * renews a third of the way into each validity).
   */
  using<T>(
    resources: string[],
    duration: number,
    settings: Partial<Settings>,
    routine?: (signal: RedlockAbortSignal) => Promise<T>,
  ): Promise<T>;
  using<T>(
    resources: string[],
    duration: number,
    routine: (signal: RedlockAbortSignal) => Promise<T>,
  ): Promise<T>;
  async using<T>(
    resources: string[],
    duration: number,
    settingsOrRoutine: Partial<Settings> | ((signal: RedlockAbortSignal) => Promise<T>) | undefined,
    optionalRoutine?: (signal: RedlockAbortSignal) => Promise<T>,
  ): Promise<T> {
    const settings = typeof settingsOrRoutine === 'function' ? undefined : settingsOrRoutine;
    const routine = optionalRoutine ?? settingsOrRoutine;
    if (typeof routine !== 'function') {
      throw new InvalidArgumentError('routine', 'a function (signal) => Promise<T>', routine);
    }
    const s = this.#merge(settings);
    if (typeof duration !== 'number' || !(s.automaticExtensionThreshold <= duration - 100)) {
      throw new InvalidArgumentError(
        'duration',
        `a number of ms at least automaticExtensionThreshold + 100 (${s.automaticExtensionThreshold + 100})`,
        duration,
        'A lock `duration` must be at least 100ms greater than the `automaticExtensionThreshold` setting.',
      );
    }
    const lock = await this.acquire(resources, duration, settings);
    const keeper = this.#core.keep(cores.get(lock)!, { ttl: duration });
    const controller = new AbortController();
    const signal = controller.signal as RedlockAbortSignal;
    const onLost = () => {
      const reason = keeper.signal.reason;
      signal.error = reason instanceof Error ? reason : new Error(String(reason));
      controller.abort(reason);
    };
    if (keeper.signal.aborted) onLost();
    else keeper.signal.addEventListener('abort', onLost, { once: true });
    try {
      return await routine(signal);
    } finally {
      keeper.signal.removeEventListener('abort', onLost);
      await keeper.stop();
      await this.release(lock);
    }
  }

  /** Statistics of one round, and node-redlock's `error` / `clientError` events for each vote against. */
  #stats(nodes: Parameters<typeof statsOf>[0], resources: number): ExecutionStats<Client> {
    const stats = statsOf(nodes, quorumOf(this.#list.length), this.#list, resources);
    for (const error of stats.votesAgainst.values()) {
      this.emit('error', error);
      this.emit('clientError', error);
    }
    return stats;
  }

  #merge(settings: Partial<Settings> | undefined): Settings {
    if (settings === undefined) return this.settings;
    const merged = mergeSettings(this.settings, settings, 'settings');
    if (merged.driftFactor !== this.settings.driftFactor) {
      throw new InvalidArgumentError(
        'settings.driftFactor',
        `the Redlock's own driftFactor (${this.settings.driftFactor}) in a per-call setting`,
        merged.driftFactor,
      );
    }
    return merged;
  }
}

export default Redlock;

/** Settings over `base`: unknown keys refused, each value in its range (typed errors). */
function mergeSettings(base: Settings, given: Partial<Settings>, name: string): Settings {
  const o = requireOptions(name, given, SETTINGS_KEYS);
  const s = {
    ...base,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  } as Settings;
  requireNumber(`${name}.driftFactor`, s.driftFactor, 0, MAX_DRIFT_FACTOR);
  requireInteger(`${name}.retryCount`, s.retryCount, -1, MAX_ATTEMPTS);
  requireNumber(`${name}.retryDelay`, s.retryDelay, 0, MAX_DELAY_MS / 2);
  requireNumber(`${name}.retryJitter`, s.retryJitter, 0, MAX_DELAY_MS / 2);
  requireNumber(`${name}.automaticExtensionThreshold`, s.automaticExtensionThreshold, 0, MAX_DELAY_MS);
  return s;
}

function maxAttempts(s: Settings): number {
  return s.retryCount < 0 ? MAX_ATTEMPTS : s.retryCount + 1;
}

/** node-redlock's delay: retryDelay ± up to retryJitter, never negative. */
function delayOf(s: Settings): number {
  return Math.max(0, s.retryDelay + Math.floor((Math.random() * 2 - 1) * s.retryJitter));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A name per client: `host:port/db` for a Redis, `cluster:` and its startup nodes for a Cluster. */
function endpointOfClient(client: Client): string {
  const startup = (client as { startupNodes?: unknown }).startupNodes;
  if (Array.isArray(startup)) {
    const nodes = startup.map((n) =>
      typeof n === 'object' && n !== null
        ? `${(n as { host?: string }).host ?? 'localhost'}:${(n as { port?: number }).port ?? 6379}`
        : String(n),
    );
    return `cluster:${nodes.join(',')}`;
  }
  const o = client.options ?? {};
  return endpointOf(o.host, o.port, o.db, o.path);
}
