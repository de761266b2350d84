import { requireInteger } from '../check.js';
import { InvalidArgumentError } from '../index.js';

/**
 * Input checks of the client entry. They throw the core's InvalidArgumentError (argument, accepted
 * range, what was received), and reuse the core's argument checks (src/check.ts, a leaf module
 * that imports only the errors).
 */

/** The longest delay a Node timer can wait, and the longest window or lock TTL accepted. */
export const MAX_MS = 2_147_483_647;

/** Keys of the client's own methods: non-empty, no NUL (the core reserves it), at most 1024 chars. */
export function requireKey(name: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024 || key.includes('\u0000')) {
    throw new InvalidArgumentError(name, 'a non-empty string of at most 1024 characters without NUL', key);
  }
  return key;
}

/** An integer in [min, max], returned; the core's check (src/check.ts), with an optional hint. */
export function requireInt(name: string, value: unknown, min: number, max: number, hint?: string): number {
  if (hint === undefined) requireInteger(name, value, min, max);
  else if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `an integer in [${min}, ${max}]`, value, hint);
  }
  return value as number;
}

/** The core's checks, under the names the client's modules use. */
export {
  requireFunction as requireFn,
  requireOptions as requireKnown,
  requireSignal as requireAbortSignal,
} from '../check.js';
