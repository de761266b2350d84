import { defineScript } from './define.js';

/**
 * Acquire all lock keys on one node, all or nothing.
 *
 * KEYS[1..n]  lock keys (n = ARGV[3])
 * KEYS[n+1]   optional: a fencing counter key, read (never written) in the same call
 * ARGV[1]     lock value (fresh for every attempt)
 * ARGV[2]     ttl in ms
 * ARGV[3]     n, the number of lock keys
 *
 * One key is a single SET NX PX; several are checked with EXISTS first, then all set.
 *
 * Returns {1, 0, c}  every lock key was absent and is now set to the value with PX ttl
 *         {0, i, c}  KEYS[i] exists (held by someone); nothing was written
 * where c is the counter's value, or -1 when the counter key is absent or was not asked for.
 */
export const acquireScript = defineScript(
  'quorumlock:acquire',
  `local n = tonumber(ARGV[3])
local c = -1
if #KEYS > n then
  local v = redis.call('GET', KEYS[n + 1])
  if v then c = tonumber(v) end
end
if n == 1 then
  if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, 0, c} end
  return {0, 1, c}
end
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then return {0, i, c} end
end
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return {1, 0, c}
`,
);

export interface AcquireReply {
  readonly acquired: boolean;
  /** 1-based index of the first held key, 0 when acquired. */
  readonly heldIndex: number;
  /** The fencing counter read in the same call, or null when absent or not asked for. */
  readonly counter: number | null;
}

export function parseAcquireReply(reply: unknown): AcquireReply {
  if (!Array.isArray(reply) || reply.length < 2) {
    throw new TypeError(`unexpected reply to ${acquireScript.name}: ${JSON.stringify(reply)}`);
  }
  const counter = reply.length > 2 && Number(reply[2]) >= 0 ? Number(reply[2]) : null;
  return { acquired: Number(reply[0]) === 1, heldIndex: Number(reply[1]), counter };
}
