import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type RedisClient as Node } from '../index.js';
import { counterScript, logScript } from './scripts.js';
import { MAX_MS, requireInt, requireKey, requireKnown } from './validate.js';

/** Options of `rateLimit`. */
export interface RateLimitOptions {
  /** Units admitted per window: an integer in [1, 100000] for `log`, [1, 1000000000] for `counter`. */
  readonly limit: number;
  /** The sliding window, in ms: an integer in [1, 2147483647]. */
  readonly windowMs: number;
  /** Units this decision takes, all or none: an integer in [1, limit]. @default 1 */
  readonly cost?: number;
  /**
   * `log`: exact sliding window, memory O(limit) per key. `counter`: O(1) memory per key, an
   * estimate that may admit up to (not quite) twice the limit in a window under bursts
   * (docs/client.md). @default 'log'
   */
  readonly algorithm?: 'log' | 'counter';
}

/** One decision. Times are in ms, rounded up, measured by the server's clock. */
export interface RateLimitResult {
  /** Whether the `cost` units were admitted (and recorded). */
  readonly allowed: boolean;
  /** Units still available in the window after this decision (0 when none). */
  readonly remaining: number;
  readonly limit: number;
  /** Until the window holds none of what it holds now (with no other arrival). */
  readonly resetMs: number;
  /** 0 when admitted; otherwise until a decision of the same cost would be admitted (no other arrival). */
  readonly retryAfterMs: number;
}

const KEYS = ['limit', 'windowMs', 'cost', 'algorithm'] as const;
export const MAX_LOG_LIMIT = 100_000;
export const MAX_COUNTER_LIMIT = 1_000_000_000;

/** Validated input of one decision. */
interface Decision {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly cost: number;
  readonly algorithm: 'log' | 'counter';
}

/** Check `rateLimit`'s arguments; throws InvalidArgumentError naming the argument and its range. */
export function decisionOf(key: unknown, options: RateLimitOptions | undefined): Decision {
  const name = requireKey('key', key);
  if (options === undefined) {
    throw new InvalidArgumentError('options', 'an object with limit and windowMs', options);
  }
  const o = requireKnown('options', options, KEYS);
  const algorithm = o.algorithm ?? 'log';
  if (algorithm !== 'log' && algorithm !== 'counter') {
    throw new InvalidArgumentError('options.algorithm', "'log' or 'counter'", algorithm);
  }
  const max = algorithm === 'log' ? MAX_LOG_LIMIT : MAX_COUNTER_LIMIT;
  const tooLarge = algorithm === 'log' && typeof o.limit === 'number' && o.limit > max;
  const limit = requireInt(
    'options.limit',
    o.limit,
    1,
    max,
    tooLarge ? "for larger limits use algorithm: 'counter'" : undefined,
  );
  const windowMs = requireInt('options.windowMs', o.windowMs, 1, MAX_MS);
  const cost = requireInt('options.cost', o.cost ?? 1, 1, limit, 'a cost above the limit is never admitted');
  return { key: name, limit, windowMs, cost, algorithm };
}

/**
 * One decision, in one atomic script on `node` (the client's own seam: EVALSHA, EVAL on NOSCRIPT).
 * `prefix` namespaces the key: `<prefix>rate:log:<key>` or `<prefix>rate:counter:<key>`.
 */
export async function decide(node: Node, prefix: string, d: Decision): Promise<RateLimitResult> {
  const script = d.algorithm === 'log' ? logScript : counterScript;
  const id = d.algorithm === 'log' ? randomBytes(9).toString('base64url') : '';
  const [reply] = await node.exec([
    {
      type: 'eval',
      script,
      keys: [`${prefix}rate:${d.algorithm}:${d.key}`],
      args: [String(d.limit), String(d.windowMs), String(d.cost), id],
    },
  ]);
  if (reply instanceof Error) throw reply;
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((n) => typeof n === 'number')) {
    throw new TypeError(`unexpected reply to ${script.name}: ${JSON.stringify(reply)}`);
  }
  const [allowed, used, resetUs, retryUs] = reply as number[];
  const remaining = d.algorithm === 'log' ? d.limit - used! : used!;
  return {
    allowed: allowed === 1,
    remaining: Math.max(0, remaining),
    limit: d.limit,
    resetMs: Math.max(0, Math.ceil(resetUs! / 1000)),
    retryAfterMs: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryUs! / 1000)),
  };
}
