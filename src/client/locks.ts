import {
  type AcquireOptions,
  InvalidArgumentError,
  Lock,
  type RedisClient as Node,
  Redlock,
  type RedlockOptions,
  type UsingOptions,
} from '../index.js';
import { requireKnown } from './validate.js';

/** Options of the client's locks: a Redlock's, but the key prefix is the client's. */
export type ClientLockOptions = Omit<RedlockOptions, 'keyPrefix'>;

const LOCK_OPTION_KEYS = [
  'retryCount',
  'retryDelay',
  'retryJitter',
  'driftFactor',
  'nodeTimeoutMs',
  'fencing',
  'minNodeUptimeMs',
  'coalesce',
  'runtime',
] as const;

/**
 * A Redlock over this one node (N = 1, quorum 1): the core's own acquisition, validity, retry
 * strategies, renew, release and errors, not a second implementation. Errors in `options` are
 * named as `options.locks.<key>`.
 */
export function oneNodeRedlock(
  node: Node,
  keyPrefix: string,
  options: ClientLockOptions | undefined,
  name = 'options.locks',
): Redlock {
  const given = requireKnown(name, options, LOCK_OPTION_KEYS);
  try {
    return new Redlock([node], { ...given, keyPrefix });
  } catch (error) {
    if (error instanceof InvalidArgumentError && error.argument.startsWith('options.')) {
      const path = error.argument.slice('options.'.length);
      throw new InvalidArgumentError(`${name}.${path}`, error.expected, valueAt(given, path));
    }
    throw error;
  }
}

function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value;
}

/** The lock methods of a RedisClient, over its one-node Redlock. */
export class ClientLocks {
  readonly redlock: Redlock;

  constructor(redlock: Redlock) {
    this.redlock = redlock;
  }

  acquireLock(
    key: string | readonly string[],
    ttlMs: number,
    options?: AcquireOptions,
  ): Promise<Lock | null> {
    return this.redlock.acquireLock(key, ttlMs, options);
  }

  /** Owner-checked release (compare-and-delete): true when this node deleted the key. */
  async releaseLock(lockOrKey: Lock | string | readonly string[], value?: string): Promise<boolean> {
    if (lockOrKey instanceof Lock) {
      if (value !== undefined) {
        throw new InvalidArgumentError(
          'value',
          'undefined when a Lock is given (it carries its value)',
          value,
        );
      }
      return (await lockOrKey.release()).releasedCount === 1;
    }
    return (await this.redlock.releaseLock(lockOrKey, value as string)).releasedCount === 1;
  }

  withLock<T>(
    key: string | readonly string[],
    ttlMs: number,
    fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
    options?: UsingOptions,
  ): Promise<T> {
    return this.redlock.using(key, ttlMs, fn, options);
  }
}
