import { defineScript } from './define.js';

/**
 * The read-write lock's scripts (docs/semaphore.md, "Read-write lock"). Three keys per resource:
 * the writer's key (a plain lock key: renewed by the lock's extend script), the readers' sorted
 * set (a semaphore's, without a bound: renewed and released by the semaphore's scripts) and the
 * writers' intents, a sorted set of waiting writers by expiry. Both sets carry a NUL, which no
 * resource may contain, so no resource name reaches them.
 *
 * KEYS[1]  writer key; KEYS[2] readers' sorted set; KEYS[3] writers' intents
 * KEYS[4]  optional: a fencing counter key, read (never written) in the same call
 *
 * Both acquire scripts return {1, 0, c} granted, or {0, why, c} refused with nothing written but
 * the writer's intent: why = 1 a writer holds the node, 2 a writer's intent stands (read only),
 * 3 readers hold it (write only); c is the counter's value, or -1 when absent or not asked for.
 */

const PREAMBLE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local c = -1
if #KEYS > 3 then
  local v = redis.call('GET', KEYS[4])
  if v then c = tonumber(v) end
end
`;

/** A shared lease: refused while a writer holds the node or any writer's intent stands. ARGV: value, ttl. */
export const rwReadScript = defineScript(
  'quorumlock:rw-read',
  `${PREAMBLE}if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 1, c} end
if redis.call('ZCARD', KEYS[3]) > 0 then return {0, 2, c} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return {1, 0, c}
`,
);

/**
 * The exclusive lease: granted only when no writer and no live reader holds the node. Every
 * attempt, granted or refused, marks this writer's intent (ARGV[4], one id for all attempts of
 * one write call) for ARGV[3] ms (0: none), which new readers respect: an attempt that wins here
 * but loses the vote keeps new readers out here too. The intent goes with the won lease's
 * release (rwWriteReleaseScript), or lapses. ARGV: value, ttl, intent ms, intent id.
 */
export const rwWriteScript = defineScript(
  'quorumlock:rw-write',
  `${PREAMBLE}local intent = tonumber(ARGV[3])
if intent > 0 then
  redis.call('ZADD', KEYS[3], now + intent, ARGV[4])
  if redis.call('PTTL', KEYS[3]) < intent then redis.call('PEXPIRE', KEYS[3], intent) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 1, c} end
if redis.call('ZCARD', KEYS[2]) > 0 then return {0, 3, c} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, 0, c}
`,
);

/**
 * The release of a write lease: compare-and-delete the writer key, and withdraw this writer's
 * intent. KEYS[1] writer key, KEYS[2] writers' intents; ARGV[1] value, ARGV[2] intent id.
 * Returns {deleted, foreign}
 * for the writer key, as the lock's release script does.
 */
export const rwWriteReleaseScript = defineScript(
  'quorumlock:rw-write-release',
  `local deleted, foreign = 0, 0
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('DEL', KEYS[1])
  deleted = 1
elseif v then
  foreign = 1
end
redis.call('ZREM', KEYS[2], ARGV[2])
return {deleted, foreign}
`,
);
