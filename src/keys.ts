/**
 * Key layout: the Redis key of a resource is `keyPrefix + resource`. A fencing counter's key
 * carries a NUL character, which no lock key may contain (resources and keyPrefix refuse it), so
 * no resource name can ever produce a counter's key (docs/fencing.md, "The counter's key").
 */

/** The one character no lock key may contain. */
export const RESERVED = '\u0000';

/** The Redis keys of `resources`. */
export function keysOf(prefix: string, resources: readonly string[]): readonly string[] {
  return prefix ? resources.map((r) => prefix + r) : resources;
}

/** The fencing counter of a lock key: the key, NUL, then `fence`. No TTL. */
export function fenceKeyOf(lockKey: string): string {
  return `${lockKey}${RESERVED}fence`;
}

/** Names a set of keys on a set of nodes, whatever the order the keys are given in. */
export function resourceId(nodesId: string, keys: readonly string[]): string {
  return `${nodesId}|${keys.length === 1 ? keys[0] : [...keys].sort().join(RESERVED)}`;
}

/** The same resources, in any order (both lists are free of duplicates). */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && b.every((x) => a.includes(x));
}

/** A read-write lock's readers' sorted set and writer-intent marker, beside its writer key. */
export function rwKeysOf(writerKey: string): { readonly readers: string; readonly intent: string } {
  return { readers: `${writerKey}${RESERVED}readers`, intent: `${writerKey}${RESERVED}intent` };
}
