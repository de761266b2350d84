import { defineScript } from './define.js';

/**
 * The read-write lock's acquire scripts (docs/semaphore.md, "Read-write lock"). Three keys per
 * resource: the writer's key (a plain lock key: released by the lock's release script and
 * renewed by its extend script), the readers' sorted set (a semaphore's, without a bound:
 * renewed and released by the semaphore's scripts) and the writer-intent marker. Both carry a
 * NUL, which no resource may contain, so no resource name reaches them.
 *
 * KEYS[1]  writer key; KEYS[2] readers' sorted set; KEYS[3] writer-intent marker
 * KEYS[4]  optional: a fencing counter key, read (never written) in the same call
 *
 * Both return {1, 0, c} granted, or {0, why, c} refused with nothing written but the intent
 * marker: why = 1 a writer holds the node, 2 a writer's intent is set (read only), 3 readers
 * hold it (write only); c is the counter's value, or -1 when absent or not asked for.
 */

const PREAMBLE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local c = -1
if #KEYS > 3 then
  local v = redis.call('GET', KEYS[4])
  if v then c = tonumber(v) end
end
`;

/** A shared lease: refused while a writer holds the node or a writer's intent is set. ARGV: value, ttl. */
export const rwReadScript = defineScript(
  'quorumlock:rw-read',
  `${PREAMBLE}if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 1, c} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {0, 2, c} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return {1, 0, c}
`,
);

/**
 * The exclusive lease: granted only when no writer and no live reader holds the node. Refused,
 * it sets the writer-intent marker for ARGV[3] ms (0: none), which new readers respect; granted,
 * it clears the marker. ARGV: value, ttl, intent ms.
 */
export const rwWriteScript = defineScript(
  'quorumlock:rw-write',
  `${PREAMBLE}local why = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  why = 1
elseif redis.call('ZCARD', KEYS[2]) > 0 then
  why = 3
end
if why > 0 then
  if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[3], '1', 'PX', ARGV[3]) end
  return {0, why, c}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[3])
return {1, 0, c}
`,
);
