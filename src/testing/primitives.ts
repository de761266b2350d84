import {
  rwReadScript,
  rwWriteReleaseScript,
  rwWriteScript,
  type Script,
  semAcquireScript,
  semExtendScript,
  semReleaseScript,
} from '../scripts/index.js';

/** What the semaphore's and read-write lock's scripts use of a node (MemoryNode implements it). */
export interface SortedSetNode {
  now(): number;
  get(key: string): string | null;
  exists(key: string): boolean;
  set(key: string, value: string, ttlMs?: number): void;
  del(key: string): boolean;
  pttl(key: string): number;
  pexpire(key: string, ttlMs: number): boolean;
  zset(key: string): Map<string, number> | null;
  zadd(key: string, score: number, member: string): void;
  zrem(key: string, remove: (member: string, score: number) => boolean): number;
}

type Impl = (node: SortedSetNode, keys: readonly string[], args: readonly string[]) => unknown;

/** The scripts below, for the memory node's script cache. */
export const PRIMITIVE_SCRIPTS: readonly Script[] = [
  semAcquireScript,
  semExtendScript,
  semReleaseScript,
  rwReadScript,
  rwWriteScript,
  rwWriteReleaseScript,
];

/** `TIME`, then ZREMRANGEBYSCORE key -inf now: the preamble of every one of these scripts. */
function trim(node: SortedSetNode, key: string): number {
  const now = node.now();
  node.zrem(key, (_, score) => score <= now);
  return now;
}

function counter(node: SortedSetNode, key: string | undefined): number {
  if (key === undefined) return -1;
  const v = node.get(key);
  return v === null ? -1 : Number(v);
}

/** PEXPIRE the set to `ttl` when it would otherwise die sooner. */
function keyTtl(node: SortedSetNode, key: string, ttl: number): void {
  if (node.pttl(key) < ttl) node.pexpire(key, ttl);
}

/** A holder's members: value, value#2, value#3 ... while present. */
function membersOf(set: Map<string, number> | null, value: string): string[] {
  if (!set?.has(value)) return [];
  const out = [value];
  for (let i = 2; set.has(`${value}#${i}`); i++) out.push(`${value}#${i}`);
  return out;
}

/**
 * The semaphore's and the read-write lock's Lua scripts (src/scripts/semaphore.ts,
 * src/scripts/rwlock.ts), line by line, for the in-memory node.
 */
export const PRIMITIVE_IMPLEMENTATIONS: ReadonlyArray<readonly [string, Impl]> = [
  [
    semAcquireScript.name,
    (node, keys, [value, ttl, permits, count]) => {
      const now = trim(node, keys[0]!);
      const c = counter(node, keys[1]);
      const live = node.zset(keys[0]!)?.size ?? 0;
      const n = Number(count);
      if (live + n > Number(permits)) return [0, live, c];
      const at = now + Number(ttl);
      node.zadd(keys[0]!, at, value!);
      for (let i = 2; i <= n; i++) node.zadd(keys[0]!, at, `${value}#${i}`);
      keyTtl(node, keys[0]!, Number(ttl));
      return [1, live + n, c];
    },
  ],
  [
    semExtendScript.name,
    (node, [key], [value, ttl]) => {
      const now = trim(node, key!);
      const members = membersOf(node.zset(key!), value!);
      if (members.length === 0) return [0, 1, 0];
      for (const m of members) node.zadd(key!, now + Number(ttl), m);
      keyTtl(node, key!, Number(ttl));
      return [1, 0, 0];
    },
  ],
  [
    semReleaseScript.name,
    (node, [key], [value]) => {
      trim(node, key!);
      const members = new Set(membersOf(node.zset(key!), value!));
      node.zrem(key!, (member) => members.has(member));
      return [members.size > 0 ? 1 : 0, 0];
    },
  ],
  [
    rwReadScript.name,
    (node, [writer, readers, intent, fence], [value, ttl]) => {
      const now = trim(node, readers!);
      trim(node, intent!);
      const c = counter(node, fence);
      if (node.exists(writer!)) return [0, 1, c];
      if ((node.zset(intent!)?.size ?? 0) > 0) return [0, 2, c];
      node.zadd(readers!, now + Number(ttl), value!);
      keyTtl(node, readers!, Number(ttl));
      return [1, 0, c];
    },
  ],
  [
    rwWriteScript.name,
    (node, [writer, readers, intent, fence], [value, ttl, intentMs, intentId]) => {
      const now = trim(node, readers!);
      trim(node, intent!);
      const c = counter(node, fence);
      if (Number(intentMs) > 0) {
        node.zadd(intent!, now + Number(intentMs), intentId!);
        keyTtl(node, intent!, Number(intentMs));
      }
      if (node.exists(writer!)) return [0, 1, c];
      if ((node.zset(readers!)?.size ?? 0) > 0) return [0, 3, c];
      node.set(writer!, value!, Number(ttl));
      return [1, 0, c];
    },
  ],
  [
    rwWriteReleaseScript.name,
    (node, [writer, intent], [value, intentId]) => {
      const v = node.get(writer!);
      if (v === value) node.del(writer!);
      node.zrem(intent!, (member) => member === intentId);
      return [v === value ? 1 : 0, v !== null && v !== value ? 1 : 0];
    },
  ],
];
