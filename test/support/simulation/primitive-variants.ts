/**
 * Broken variants of the semaphore's and the read-write lock's scripts, run by the simulation
 * (primitives.ts) in place of the nodes' own; src/ is untouched. The third broken piece, the
 * majority quorum, is `SimOptions.majorityQuorum`.
 */
import type { ScriptOverride } from './primitives.js';

/**
 * Broken variant: the semaphore's scripts without the trim. The acquire counts only live leases
 * (ZCOUNT now +inf, so it grants correctly) and leaves the expired ones in the set; the renew,
 * written for a set that is always trimmed, takes a member's presence for a live lease. An
 * expired permit can then be renewed after its place was given to another holder.
 */
export const NO_TRIM: ReadonlyMap<string, ScriptOverride> = new Map<string, ScriptOverride>([
  [
    'quorumlock:sem-acquire',
    (node, [key], [value, ttl, permits, count]) => {
      const now = node.now();
      const live = [...(node.zset(key!)?.values() ?? [])].filter((score) => score > now).length;
      if (live + Number(count) > Number(permits)) return [0, live, -1];
      node.zadd(key!, now + Number(ttl), value!);
      for (let i = 2; i <= Number(count); i++) node.zadd(key!, now + Number(ttl), `${value}#${i}`);
      if (node.pttl(key!) < Number(ttl)) node.pexpire(key!, Number(ttl));
      return [1, live + Number(count), -1];
    },
  ],
  [
    'quorumlock:sem-extend',
    (node, [key], [value, ttl]) => {
      if (!node.zset(key!)?.has(value!)) return [0, 1, 0];
      node.zadd(key!, node.now() + Number(ttl), value!);
      if (node.pttl(key!) < Number(ttl)) node.pexpire(key!, Number(ttl));
      return [1, 0, 0];
    },
  ],
]);

/** Broken variant: a reader's check that ignores the writer-intent marker. */
export const READ_IGNORES_INTENT: ReadonlyMap<string, ScriptOverride> = new Map<string, ScriptOverride>([
  [
    'quorumlock:rw-read',
    (node, [writer, readers], [value, ttl]) => {
      const now = node.now();
      node.zrem(readers!, (_, score) => score <= now);
      if (node.exists(writer!)) return [0, 1, -1];
      node.zadd(readers!, now + Number(ttl), value!);
      if (node.pttl(readers!) < Number(ttl)) node.pexpire(readers!, Number(ttl));
      return [1, 0, -1];
    },
  ],
]);
