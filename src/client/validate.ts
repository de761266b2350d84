import { InvalidArgumentError } from '../index.js';

/**
 * Input checks of the client entry. They throw the core's InvalidArgumentError (argument, accepted
 * range, what was received), reached through the public entry only: the client imports nothing of
 * the core's internals.
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

export function requireInt(name: string, value: unknown, min: number, max: number, hint?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `an integer in [${min}, ${max}]`, value, hint);
  }
  return value;
}

export function requireFn(name: string, value: unknown, shape: string): void {
  if (typeof value !== 'function') throw new InvalidArgumentError(name, shape, value);
}

export function requireAbortSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidArgumentError(name, 'an AbortSignal or undefined', value);
  }
  return value;
}

/**
 * An options argument: undefined, or a plain object whose keys are all known. An unknown key is
 * named with a close known one (two edits at most ignoring case, or one a prefix of the other),
 * as the core does for its own options: a typo must not pass silently.
 */
export function requireKnown<T extends object>(
  name: string,
  value: T | undefined,
  known: readonly string[],
): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(name, 'an object or undefined', value);
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const k = key.toLowerCase();
    const near = known.find((c) => {
      const l = c.toLowerCase();
      return l.startsWith(k) || k.startsWith(l) || distance(k, l) <= 2;
    });
    throw new InvalidArgumentError(
      `${name}.${key}`,
      `one of the known keys (${known.join(', ')})`,
      (value as Record<string, unknown>)[key],
      near ? `did you mean ${near}?` : undefined,
    );
  }
  return value;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
