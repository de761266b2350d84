import { requireFunction, requireInteger, requireNumber, requireOptions, requireSignal } from './check.js';
import { defaultRuntime, type Runtime } from './clock.js';
import { InvalidArgumentError } from './errors.js';
import type { RetryStrategy } from './retry.js';
import { MAX_DRIFT_FACTOR, MAX_TTL_MS, MIN_VALIDITY_MS, minTtlMs } from './validity.js';

/** Options of `new Redlock(clients, options)`; all optional. */
export interface RedlockOptions {
  /**
   * Retries after the first attempt: `3` means up to 4 attempts. Caps custom strategies too.
   * @default 3
   */
  readonly retryCount?: number;
  /** Base delay between attempts, in ms. @default 200 */
  readonly retryDelay?: number;
  /**
   * The delay is `retryDelay + uniform(-retryJitter, +retryJitter)`, in ms; at most retryDelay.
   * @default min(100, retryDelay)
   */
  readonly retryJitter?: number;
  /** Clock rate error budget: drift = floor(ttl × driftFactor) + 2 ms. In [0, 0.99]. @default 0.01 */
  readonly driftFactor?: number;
  /**
   * Per-node timeout of every call, in ms. A node that has not answered by then is "unknown":
   * not a vote, still sent the release. For acquire and renew it is capped at ttl − drift.
   * @default max(50, 5% of ttl) for acquire and renew; for release, that of the lock's own TTL
   *   when this Redlock took it, else 500
   */
  readonly nodeTimeoutMs?: number;
  /** Prepended to every resource to form the Redis key. @default '' */
  readonly keyPrefix?: string;
  /**
   * Issue a fencing token with every lock (docs/fencing.md, "How tokens are made"): unique and strictly increasing
   * across acquisitions of a resource, read from a counter beside the lock key (the key and NUL then `fence`, no
   * TTL). Single-resource locks only. The counter must be created once with `initFencing`.
   * @default false
   */
  readonly fencing?: boolean;
  /**
   * Ignore the votes of a node whose uptime is below this, in ms: the delayed restart of docs/spec.md,
   * enforced by the client (R14). Set it to the longest TTL in use when nodes may restart without
   * persistence. Each call then carries `INFO server`, so every vote is vetted by the uptime
   * the node reported in the same round trip. 0 turns it off. @default 0
   */
  readonly minNodeUptimeMs?: number;
  /**
   * Coalesce the operations bound for one node that are issued in the same turn of the event
   * loop into one call and one batch script (ADR 009). Nothing waits for a reply to be sent.
   * @default true
   */
  readonly coalesce?: boolean;
  /** Injected clock, timers and randomness (simulation, tests). @default the system's */
  readonly runtime?: Partial<Runtime>;
}

/** Per-call options of the acquire family. */
export interface AcquireOptions {
  /** Aborting rejects with `signal.reason` unchanged, after releasing what the attempt took. */
  readonly signal?: AbortSignal;
  /**
   * Overall budget for the acquisition, in ms from the call: no attempt starts and no delay is
   * slept past it. @default none (bounded by the retries)
   */
  readonly timeoutMs?: number;
  /** Replaces the retry delays; still capped by `retryCount`. @default jittered retryDelay */
  readonly retryStrategy?: RetryStrategy;
}

/** Per-call options of renew and release. */
export interface OperationOptions {
  readonly signal?: AbortSignal;
}

/** The defaults of `RedlockOptions` (ms for times), and of a release's per-node timeout for a value this Redlock did not take. */
export const DEFAULTS = Object.freeze({
  retryCount: 3,
  retryDelay: 200,
  retryJitter: 100,
  driftFactor: 0.01,
  keyPrefix: '',
  fencing: false,
  minNodeUptimeMs: 0,
  coalesce: true,
  releaseNodeTimeoutMs: 500,
  /** Claim rounds per fenced acquisition before the attempt counts as contended. */
  maxClaimRounds: 5,
});

/** `RedlockOptions` with every default filled in: `redlock.options`. */
export interface ResolvedOptions {
  readonly retryCount: number;
  readonly retryDelay: number;
  readonly retryJitter: number;
  readonly driftFactor: number;
  readonly nodeTimeoutMs: number | undefined;
  readonly keyPrefix: string;
  readonly fencing: boolean;
  readonly minNodeUptimeMs: number;
  readonly coalesce: boolean;
}

const MAX_RETRY_COUNT = 1_000_000;
/** The longest delay a Node timer can wait; longer ones fire at once (TimeoutOverflowWarning). */
export const MAX_DELAY_MS = MAX_TTL_MS;

/** The keys of each options object, for the unknown-key check. */
const REDLOCK_KEYS = [
  'retryCount',
  'retryDelay',
  'retryJitter',
  'driftFactor',
  'nodeTimeoutMs',
  'keyPrefix',
  'fencing',
  'minNodeUptimeMs',
  'coalesce',
  'runtime',
] as const;
const RUNTIME_KEYS = ['clock', 'timers', 'random', 'wallClock'] as const;
export const ACQUIRE_KEYS = ['signal', 'timeoutMs', 'retryStrategy'] as const;
export const OPERATION_KEYS = ['signal'] as const;

export function resolveOptions(options: RedlockOptions | undefined): {
  options: ResolvedOptions;
  runtime: Runtime;
} {
  const o = requireOptions('options', options, REDLOCK_KEYS);
  const retryCount = o.retryCount ?? DEFAULTS.retryCount;
  requireInteger('options.retryCount', retryCount, 0, MAX_RETRY_COUNT);
  const retryDelay = o.retryDelay ?? DEFAULTS.retryDelay;
  requireNumber('options.retryDelay', retryDelay, 0, MAX_DELAY_MS);
  const retryJitter = o.retryJitter ?? Math.min(DEFAULTS.retryJitter, retryDelay);
  requireNumber('options.retryJitter', retryJitter, 0, retryDelay, 'retryJitter may not exceed retryDelay');
  if (retryDelay + retryJitter > MAX_DELAY_MS) {
    throw new InvalidArgumentError(
      'options.retryJitter',
      `a number with retryDelay + retryJitter ≤ ${MAX_DELAY_MS} ms (the longest a timer can wait)`,
      retryJitter,
    );
  }
  const driftFactor = o.driftFactor ?? DEFAULTS.driftFactor;
  requireNumber('options.driftFactor', driftFactor, 0, MAX_DRIFT_FACTOR);
  if (o.nodeTimeoutMs !== undefined) requireInteger('options.nodeTimeoutMs', o.nodeTimeoutMs, 1, MAX_TTL_MS);
  const keyPrefix = o.keyPrefix ?? DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix.includes(RESERVED))
    throw new InvalidArgumentError('options.keyPrefix', 'a string without NUL characters', keyPrefix);
  const fencing = o.fencing ?? DEFAULTS.fencing;
  if (typeof fencing !== 'boolean') throw new InvalidArgumentError('options.fencing', 'a boolean', fencing);
  const minNodeUptimeMs = o.minNodeUptimeMs ?? DEFAULTS.minNodeUptimeMs;
  requireInteger('options.minNodeUptimeMs', minNodeUptimeMs, 0, MAX_TTL_MS);
  const coalesce = o.coalesce ?? DEFAULTS.coalesce;
  if (typeof coalesce !== 'boolean')
    throw new InvalidArgumentError('options.coalesce', 'a boolean', coalesce);
  const given = requireOptions('options.runtime', o.runtime, RUNTIME_KEYS);
  const runtime = { ...defaultRuntime(), ...definedOnly(given) };
  for (const [name, method] of [
    ['clock', 'now'],
    ['timers', 'setTimeout'],
    ['timers', 'clearTimeout'],
    ['random', 'fill'],
    ['random', 'float'],
    ['wallClock', 'now'],
  ] as const) {
    const part = runtime[name] as unknown as Record<string, unknown>;
    if (typeof part?.[method] !== 'function') {
      throw new InvalidArgumentError(`options.runtime.${name}.${method}`, 'a function', part?.[method]);
    }
  }
  return {
    options: Object.freeze({
      retryCount,
      retryDelay,
      retryJitter,
      driftFactor,
      nodeTimeoutMs: o.nodeTimeoutMs,
      keyPrefix,
      fencing,
      minNodeUptimeMs,
      coalesce,
    }),
    runtime,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A TTL must be an integer that leaves at least MIN_VALIDITY_MS of validity after its drift: the
 * per-node timeout is capped at that validity, and below it healthy nodes miss it.
 */
export function requireTtl(name: string, ttl: unknown, driftFactor: number): asserts ttl is number {
  const min = minTtlMs(driftFactor);
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < min || ttl > MAX_TTL_MS) {
    throw new InvalidArgumentError(
      name,
      `an integer in [${min}, ${MAX_TTL_MS}] ms (MIN_TTL: ttl − drift, drift = floor(ttl × ${driftFactor}) + 2 ms, ` +
        `must leave ${MIN_VALIDITY_MS} ms for a round trip)`,
      ttl,
    );
  }
}

export const MAX_RESOURCES = 1024;

/**
 * The one character no lock key may contain: fencing counter keys carry it, so that no resource
 * name can ever produce a counter's key.
 */
export const RESERVED = '\u0000';

const RESOURCE = 'a non-empty string without NUL characters';

/** One resource: a non-empty string without NUL. */
export function requireResource(name: string, resource: unknown): string {
  if (typeof resource !== 'string' || resource.length === 0 || resource.includes(RESERVED)) {
    throw new InvalidArgumentError(name, RESOURCE, resource);
  }
  return resource;
}

/** `string | string[]`: non-empty strings without NUL, no duplicates. Returns the list. */
export function requireResources(name: string, resource: unknown): readonly string[] {
  if (typeof resource === 'string') {
    if (resource.length === 0 || resource.includes(RESERVED))
      throw new InvalidArgumentError(name, `${RESOURCE}, or an array of them`, resource);
    return [resource];
  }
  if (!Array.isArray(resource) || resource.length === 0 || resource.length > MAX_RESOURCES) {
    throw new InvalidArgumentError(
      name,
      `a non-empty string or an array of 1 to ${MAX_RESOURCES} of them`,
      resource,
    );
  }
  const seen = new Set<string>();
  resource.forEach((r, i) => {
    if (typeof r !== 'string' || r.length === 0 || r.includes(RESERVED)) {
      throw new InvalidArgumentError(`${name}[${i}]`, RESOURCE, r);
    }
    if (seen.has(r)) throw new InvalidArgumentError(`${name}[${i}]`, 'a resource not already in the list', r);
    seen.add(r);
  });
  return Object.freeze([...resource]);
}

export function requireValue(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(name, 'a non-empty string (the lock value)', value);
  }
}

/**
 * A retry strategy's answer: a delay in [0, MAX_DELAY_MS] ms, or a stop (null or negative). A
 * delay a timer cannot wait, NaN or a non-number is a bug in the strategy: named, never slept.
 */
export function retryDelayOf(delay: unknown): number | null {
  if (delay === null || (typeof delay === 'number' && delay < 0)) return null;
  if (typeof delay !== 'number' || !(delay <= MAX_DELAY_MS)) {
    throw new InvalidArgumentError(
      'retryStrategy(attempt, context)',
      `a number of ms in [0, ${MAX_DELAY_MS}] (negative or null to stop)`,
      delay,
    );
  }
  return delay;
}

/** The argument checks, from check.ts, for the modules that import them from here. */
export { requireFunction, requireInteger, requireNumber, requireOptions, requireSignal };
