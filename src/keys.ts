import { createHash } from 'node:crypto';

/**
 * Key layout: the Redis key of a resource is `keyPrefix + resource`, or, when that would be
 * longer than MAX_KEY_BYTES, `keyPrefix + NUL + "sha256:" + the SHA-256 of the resource`
 * (base64url). A fencing counter's key carries a NUL character too, which no resource or prefix
 * may contain, so no resource name can ever produce a counter's key or a hashed key
 * (docs/fencing.md, "The counter's key"; docs/operations.md, "Long resource names").
 */

/** The one character no lock key may contain. */
export const RESERVED = '\u0000';

/** The longest key, in UTF-8 bytes, stored as it is; a longer one is stored hashed. */
export const MAX_KEY_BYTES = 512;

/** The Redis key of one resource: as it is, or hashed when it is too long. */
export function keyOf(prefix: string, resource: string): string {
  const key = prefix + resource;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short keys need no byte count.
  if (key.length * 3 <= MAX_KEY_BYTES || Buffer.byteLength(key) <= MAX_KEY_BYTES) return key;
  return `${prefix}${RESERVED}sha256:${createHash('sha256').update(resource).digest('base64url')}`;
}

/** The Redis keys of `resources`. */
export function keysOf(prefix: string, resources: readonly string[]): readonly string[] {
  let keys: string[] | undefined;
  for (let i = 0; i < resources.length; i++) {
    const key = keyOf(prefix, resources[i]!);
    if (key !== resources[i]) {
      keys ??= resources.slice(0, i);
      keys.push(key);
    } else keys?.push(key);
  }
  return keys ?? resources;
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
