import { InvalidArgumentError, QuorumlockError } from '../index.js';

/** A stored cache value that is not valid JSON: named by its key, never a crash of the caller. */
export class CacheValueError extends QuorumlockError {
  override name = 'CacheValueError';
  /** The cache key as the caller named it (without the client's prefix). */
  readonly key: string;
  constructor(key: string, cause: unknown) {
    super(
      'ERR_QUORUMLOCK_CACHE_VALUE',
      `cache value of ${JSON.stringify(key)} is not valid JSON (written by something else?): ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.key = key;
  }
}

const MAX_DEPTH = 256;
const FAITHFUL =
  'a value JSON represents faithfully: null, a boolean, a finite number, a string, or arrays and plain objects of them';

/**
 * Encode `value` as JSON only if reading it back gives an equal value. JSON.stringify would
 * silently drop or change some values: `undefined`, functions and symbols vanish (or become null
 * in arrays), NaN and Infinity become null, a Date becomes a string, a Map or Set becomes `{}`,
 * array holes become null; BigInt and cycles throw. All of these are refused here, naming where
 * the value sits (`value.a[2]`), before anything is sent.
 */
export function encodeJson(name: string, value: unknown): string {
  check(name, value, name, new Set(), 0);
  return JSON.stringify(value);
}

function refuse(name: string, path: string, what: string, value: unknown): never {
  throw new InvalidArgumentError(name, FAITHFUL, value, `${path} is ${what}`);
}

function check(name: string, value: unknown, path: string, open: Set<object>, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(name, path, String(value), value);
      return;
    case 'bigint':
      refuse(name, path, 'a BigInt', value);
      break;
    case 'undefined':
      refuse(name, path, 'undefined', value);
      break;
    case 'function':
    case 'symbol':
      refuse(name, path, `a ${typeof value}`, value);
      break;
  }
  if (value === null) return;
  const object = value as object;
  if (depth >= MAX_DEPTH) refuse(name, path, `nested deeper than ${MAX_DEPTH} levels`, value);
  if (open.has(object)) refuse(name, path, 'a cycle (it contains itself)', value);
  open.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      if (!(i in object)) refuse(name, `${path}[${i}]`, 'a hole in a sparse array', value);
      check(name, object[i], `${path}[${i}]`, open, depth + 1);
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? 'an object';
      refuse(name, path, `an instance of ${kind} (not a plain object)`, value);
    }
    if (Object.getOwnPropertySymbols(object).length > 0) refuse(name, path, 'keyed by a symbol', value);
    for (const key of Object.keys(object)) {
      check(name, (object as Record<string, unknown>)[key], `${path}.${key}`, open, depth + 1);
    }
  }
  open.delete(object);
}

/** Parse a stored value; anything but valid JSON is a CacheValueError naming the key. */
export function decodeJson<T>(key: string, text: unknown): T {
  if (typeof text !== 'string') throw new CacheValueError(key, new TypeError(`a ${typeof text} reply`));
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CacheValueError(key, error);
  }
}
