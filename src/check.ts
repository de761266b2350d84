import { InvalidArgumentError } from './errors.js';

/*
 * Argument checks shared by the core and its entry points (`quorumlock/client`): each throws an
 * InvalidArgumentError naming the argument and the accepted range. Imports nothing but the
 * errors, so an entry may use it at no cost.
 */

/**
 * An options argument: undefined (no options) or a plain object whose keys are all known. An
 * unknown key is named, with the nearest valid key as a hint (a typo should not pass silently).
 */
export function requireOptions<T extends object>(
  name: string,
  value: T | undefined,
  known: readonly string[],
): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(name, 'an object or undefined', value);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const hint = nearest(key, known);
      throw new InvalidArgumentError(
        `${name}.${key}`,
        `one of the known keys (${known.join(', ')})`,
        (value as Record<string, unknown>)[key],
        hint ? `did you mean ${hint}?` : undefined,
      );
    }
  }
  return value;
}

/**
 * The known key closest to `key`: edit distance, case-insensitive, with a key that one of them
 * begins with counting as one edit (`timeout` → `timeoutMs`). None when nothing is close.
 */
function nearest(key: string, known: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const d = c.startsWith(k) || k.startsWith(c) ? 1 : editDistance(k, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
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

export function requireInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `an integer in [${min}, ${max}]`, value);
  }
}

export function requireNumber(
  name: string,
  value: unknown,
  min: number,
  max: number,
  hint?: string,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `a finite number in [${min}, ${max}]`, value, hint);
  }
}

export function requireFunction(name: string, value: unknown, shape: string): void {
  if (typeof value !== 'function') throw new InvalidArgumentError(name, shape, value);
}

export function requireSignal(name: string, signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(name, 'an AbortSignal or undefined', signal);
  }
}
