import { InvalidArgumentError } from './errors.js';
import type { KeepOptions, LeaseKeeper } from './keeper.js';
import { KEEP_KEYS } from './keeper.js';
import type { Lock } from './lock.js';
import {
  ACQUIRE_KEYS,
  type AcquireOptions,
  type OperationOptions,
  requireFunction,
  requireInteger,
  requireOptions,
  requireResource,
  requireTtl,
  requireValue,
} from './options.js';
import type { Primitive } from './primitive.js';
import { orNull, usingOptions } from './primitive.js';
import { ABSENT, grantVerdict, type Protocol, RELEASED, RENEWED } from './protocol.js';
import type { ReleaseResult } from './release.js';
import type { RenewResult } from './renew.js';
import {
  parseGrantReply,
  parseSemExtendReply,
  parseSemReleaseReply,
  semAcquireScript,
  semExtendScript,
  semReleaseScript,
} from './scripts/index.js';
import { countingQuorumOf } from './validity.js';

/** Options of `redlock.semaphore`. */
export interface SemaphoreOptions {
  /** How many permits exist: an integer in [1, MAX_PERMITS]. Every user of the resource must agree. */
  readonly permits: number;
}

/** Per-call options of a semaphore's acquire: those of the lock's, and how many permits to take. */
export interface PermitOptions extends AcquireOptions {
  /** Permits taken at once, all or nothing on each node: an integer in [1, permits]. @default 1 */
  readonly count?: number;
}

/** Options of a semaphore's `using`: those of `acquire`, and those of the renewals. */
export interface PermitUsingOptions extends PermitOptions, KeepOptions {}

/** The most permits a semaphore may have. */
export const MAX_PERMITS = 1_000_000;
export const SEMAPHORE_KEYS = ['permits'] as const;
const PERMIT_KEYS = [...ACQUIRE_KEYS, 'count'] as const;
const USING_KEYS = [...PERMIT_KEYS, ...KEEP_KEYS] as const;

/**
 * A counting semaphore over the Redlock's nodes (docs/semaphore.md): at most `permits` holders
 * at once, each holding a Lock-shaped permit with its own fresh value, validity and (with
 * fencing) token. A grant needs `quorum` = floor(N × permits / (permits + 1)) + 1 nodes, the
 * counting argument's quorum (a majority for one permit, more for several).
 */
export class Semaphore {
  readonly resource: string;
  readonly permits: number;
  /** Votes a grant and a renew need: floor(N × permits / (permits + 1)) + 1. */
  readonly quorum: number;
  readonly #primitive: Primitive;
  /** The protocol of a one-permit acquisition, made once; other counts make their own. */
  readonly #one: Protocol;

  /** @internal Made by `redlock.semaphore(resource, { permits })`. */
  constructor(primitive: Primitive, resource: string, permits: number) {
    this.#primitive = primitive;
    this.resource = resource;
    this.permits = permits;
    this.quorum = countingQuorumOf(primitive.core.nodes.size, permits);
    this.#one = semaphoreProtocol(permits, 1, this.quorum);
  }

  /**
   * Take `options.count` permits (default 1) for `ttl` ms. Rejects with a LockAcquireError
   * (contended, unavailable, validity-exhausted) after the retries, as `redlock.acquire` does.
   */
  acquire(ttl: number, options?: PermitOptions): Promise<Lock> {
    requireTtl('ttl', ttl, this.#primitive.core.options.driftFactor);
    const { count, ...rest } = requireOptions('options', options, PERMIT_KEYS);
    const protocol = this.#protocolFor(count);
    return this.#primitive.acquire(this.resource, ttl, rest, protocol);
  }

  /** As `acquire`, resolving with null when no attempt won (as `redlock.acquireLock`). */
  acquirePermit(ttl: number, options?: PermitOptions): Promise<Lock | null> {
    return orNull(this.acquire(ttl, options));
  }

  /** Renew a permit by value on `quorum` nodes (R7); the permit's own `renew()` does the same. */
  renew(value: string, ttl: number, options?: OperationOptions): Promise<RenewResult> {
    requirePermitValue(value);
    return this.#primitive.renewValue(this.resource, value, ttl, this.#one, options);
  }

  /** Release a permit by value on every node (R6); the permit's own `release()` does the same. */
  release(value: string, options?: OperationOptions): Promise<ReleaseResult> {
    requirePermitValue(value);
    return this.#primitive.releaseValue(this.resource, value, this.#one, options);
  }

  /** Keep a permit of this semaphore alive until `stop()` (as `redlock.keep`). */
  keep(permit: Lock, options?: KeepOptions): LeaseKeeper {
    return this.#primitive.keep(permit, options);
  }

  /** Run `fn(signal, permit)` under a permit that renews itself (as `redlock.using`). */
  async using<T>(
    ttl: number,
    fn: (signal: AbortSignal, permit: Lock) => T | Promise<T>,
    options: PermitUsingOptions = {},
  ): Promise<T> {
    requireFunction('fn', fn, 'a function (signal, permit) => result');
    const split = usingOptions(options, USING_KEYS, this.#primitive.core.options.driftFactor);
    return this.#primitive.using(() => this.acquire(ttl, split.acquire), fn, split.keep, options.signal);
  }

  #protocolFor(count: number | undefined): Protocol {
    if (count === undefined || count === 1) return this.#one;
    requireInteger('options.count', count, 1, this.permits);
    return semaphoreProtocol(this.permits, count, this.quorum);
  }
}

/** The semaphore's scripts (src/scripts/semaphore.ts) as a protocol; no repair (R8 re-creates nothing). */
export function semaphoreProtocol(permits: number, count: number, quorum: number): Protocol {
  const args = [String(permits), String(count)];
  return Object.freeze({
    quorum,
    acquire: (keys: readonly string[], value: string, ttl: number, fenceKey: string | undefined) => ({
      type: 'eval' as const,
      script: semAcquireScript,
      keys: fenceKey ? [keys[0]!, fenceKey] : keys,
      args: [value, String(ttl), ...args],
    }),
    classifyAcquire: (reply: unknown) =>
      grantVerdict(parseGrantReply(reply, semAcquireScript).granted, false, null),
    classifyFencedAcquire: (reply: unknown) => {
      const r = parseGrantReply(reply, semAcquireScript);
      return grantVerdict(r.granted, true, r.counter);
    },
    release: semReleaseCommand,
    classifyRelease: (reply: unknown) => (parseSemReleaseReply(reply) ? RELEASED : ABSENT),
    extend: semExtendCommand,
    classifyExtend: (reply: unknown) => (parseSemExtendReply(reply) ? RENEWED : ABSENT),
  });
}

export function semReleaseCommand(keys: readonly string[], value: string) {
  return { type: 'eval' as const, script: semReleaseScript, keys, args: [value] };
}

export function semExtendCommand(keys: readonly string[], value: string, ttl: number) {
  return { type: 'eval' as const, script: semExtendScript, keys, args: [value, String(ttl)] };
}

/**
 * A permit's value: `value#2`, `value#3` ... name the members of a grant of several permits, and
 * releasing one alone would leave its holder counting permits it no longer has.
 */
function requirePermitValue(value: unknown): void {
  requireValue('value', value);
  if ((value as string).includes('#')) {
    throw new InvalidArgumentError('value', "a permit's value (without '#')", value);
  }
}

/** `redlock.semaphore(resource, options)`, its arguments checked. */
export function semaphore(primitive: Primitive, resource: string, options: SemaphoreOptions): Semaphore {
  const name = requireResource('resource', resource);
  const { permits } = requireOptions('options', options, SEMAPHORE_KEYS);
  requireInteger('options.permits', permits, 1, MAX_PERMITS);
  return new Semaphore(primitive, name, permits);
}
