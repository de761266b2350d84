import { defineScript, integers } from './define.js';

/**
 * The counting semaphore's scripts (docs/semaphore.md). One sorted set per semaphore: a member
 * per permit held, scored by its expiry on the server's own clock (`TIME`, in ms). Every script
 * first trims the leases whose expiry has come, so a count or a membership test sees only live
 * leases. A holder of `n` permits has the members `value`, `value#2` ... `value#n`, written,
 * renewed, trimmed and removed together (one score), so "stop at the first missing one" is exact.
 */

/** The server's time in ms, then the trim of expired leases: the preamble of every script. */
const TRIM = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
`;

/** PEXPIRE the set to the longest lease in it: the key outlives no lease and dies with the last. */
const KEY_TTL = `if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
`;

/**
 * Take `count` permits on one node if fewer than `permits - count + 1` live leases exist there.
 *
 * KEYS[1]  the semaphore's sorted set
 * KEYS[2]  optional: a fencing counter key, read (never written) in the same call
 * ARGV[1]  value (fresh for every attempt); ARGV[2] ttl in ms; ARGV[3] permits; ARGV[4] count
 *
 * Returns {1, live, c}  granted: `count` leases added, expiring at now + ttl; live counts them
 *         {0, live, c}  refused: `live` live leases leave no room; nothing was written
 * where c is the counter's value, or -1 when absent or not asked for.
 */
export const semAcquireScript = defineScript(
  'quorumlock:sem-acquire',
  `${TRIM}local c = -1
if #KEYS > 1 then
  local v = redis.call('GET', KEYS[2])
  if v then c = tonumber(v) end
end
local live = redis.call('ZCARD', KEYS[1])
local n = tonumber(ARGV[4])
if live + n > tonumber(ARGV[3]) then return {0, live, c} end
local at = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], at, ARGV[1])
for i = 2, n do redis.call('ZADD', KEYS[1], at, ARGV[1] .. '#' .. i) end
${KEY_TTL}return {1, live + n, c}
`,
);

/**
 * Strict renew of one holder's leases on one node: never creates a lease.
 *
 * KEYS[1]  the sorted set; ARGV[1] value; ARGV[2] new ttl in ms
 * Returns {1, 0, 0} renewed to now + ttl, {0, 1, 0} no live lease with that value.
 */
export const semExtendScript = defineScript(
  'quorumlock:sem-extend',
  `${TRIM}if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {0, 1, 0} end
local at = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], at, ARGV[1])
local i = 2
while redis.call('ZSCORE', KEYS[1], ARGV[1] .. '#' .. i) do
  redis.call('ZADD', KEYS[1], at, ARGV[1] .. '#' .. i)
  i = i + 1
end
${KEY_TTL}return {1, 0, 0}
`,
);

/**
 * Remove one holder's leases on one node.
 *
 * KEYS[1]  the sorted set; ARGV[1] value
 * Returns {removed, 0}: 1 when a live lease with that value was removed, else 0.
 */
export const semReleaseScript = defineScript(
  'quorumlock:sem-release',
  `${TRIM}local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then
  local i = 2
  while redis.call('ZREM', KEYS[1], ARGV[1] .. '#' .. i) == 1 do i = i + 1 end
end
return {removed, 0}
`,
);

/** `{granted, n, c}` replies of sem-acquire and the read-write lock's acquire scripts. */
export function parseGrantReply(
  reply: unknown,
  script: { readonly name: string },
): { granted: boolean; detail: number; counter: number | null } {
  if (!Array.isArray(reply) || reply.length < 3) {
    throw new TypeError(`unexpected reply to ${script.name}: ${JSON.stringify(reply)}`);
  }
  const counter = Number(reply[2]) >= 0 ? Number(reply[2]) : null;
  return { granted: Number(reply[0]) === 1, detail: Number(reply[1]), counter };
}

export function parseSemExtendReply(reply: unknown): boolean {
  return integers(reply, semExtendScript, 3)[0] === 1;
}

export function parseSemReleaseReply(reply: unknown): boolean {
  return integers(reply, semReleaseScript, 2)[0] === 1;
}
