import { createHash } from 'node:crypto';
import type { Script } from '../index.js';

/**
 * The rate limiter's two scripts: data, as the core's are (a name, the source, its SHA1). Both
 * read the time from the server (`TIME`), so that clients whose clocks disagree make the same
 * decisions, and both return times in whole microseconds; the client turns them into ms.
 * Times in µs (about 1.7e15) are written with `%.0f`: Lua's own number-to-string keeps 14
 * significant digits and would round them.
 */
function script(name: string, source: string): Script {
  return Object.freeze({ name, source, sha: createHash('sha1').update(source).digest('hex') });
}

/**
 * Exact sliding-window log: a sorted set of one member per admitted unit, scored by the server's
 * time in µs. A unit admitted at `s` counts for a decision at `now` while `now − s < window`.
 *
 * KEYS[1]  the log
 * ARGV[1]  limit; ARGV[2] window in ms; ARGV[3] cost (1 ≤ cost ≤ limit); ARGV[4] a unique id
 *
 * Trim the units that left the window, count, admit all `cost` units or none, expire the key a
 * window (+1 ms) after its newest unit. Returns {allowed, count, resetUs, retryUs}: count after
 * the decision; resetUs until the newest unit leaves (the log is then empty); retryUs, when
 * refused, until enough units left for `cost` (0 when admitted).
 */
export const logScript = script(
  'quorumlock:rate-log',
  `local key = KEYS[1]
local limit, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000, tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local score = string.format('%.0f', now)
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - window))
local count = redis.call('ZCARD', key)
local allowed, retry = 0, 0
if count + cost <= limit then
  local i = 1
  while i <= cost do
    local batch = {}
    local last = math.min(cost, i + 499)
    for j = i, last do
      batch[#batch + 1] = score
      batch[#batch + 1] = ARGV[4] .. ':' .. j
    end
    redis.call('ZADD', key, unpack(batch))
    i = last + 1
  end
  count = count + cost
  allowed = 1
  redis.call('PEXPIRE', key, tonumber(ARGV[2]) + 1)
else
  local nth = redis.call('ZRANGE', key, count + cost - limit - 1, count + cost - limit - 1, 'WITHSCORES')
  retry = tonumber(nth[2]) + window - now
end
local reset = window
if allowed == 0 then
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  reset = tonumber(newest[2]) + window - now
end
return {allowed, count, reset, retry}
`,
);

/**
 * Sliding-window counter: O(1) memory per key (one hash: the fixed window's index, its count
 * and the previous window's count). The estimate of the sliding window at `now`, a fraction `f`
 * into the current fixed window, is `previous × (1 − f) + current`; a decision admits `cost`
 * when `estimate + cost ≤ limit`. docs/client.md says how far this is from the exact log.
 *
 * KEYS[1]  the counter hash; ARGV as for the log (ARGV[4] unused)
 *
 * Returns {allowed, remaining, resetUs, retryUs}: remaining = floor(limit − estimate) after the
 * decision; resetUs until the estimate reaches 0; retryUs, when refused, until it has fallen
 * enough for `cost` with no other arrival.
 */
export const counterScript = script(
  'quorumlock:rate-counter',
  `local key = KEYS[1]
local limit, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000, tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local index = math.floor(now / window)
local into = now - index * window
local state = redis.call('HMGET', key, 'w', 'c', 'p')
local w, cur, prev = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
if w ~= index then
  if w == index - 1 then prev = cur else prev = 0 end
  cur = 0
end
local estimate = prev * (window - into) / window + cur
local allowed, retry = 0, 0
if estimate + cost <= limit then
  cur = cur + cost
  estimate = estimate + cost
  allowed = 1
  redis.call('HSET', key, 'w', string.format('%.0f', index), 'c', cur, 'p', prev)
  redis.call('PEXPIRE', key, 2 * tonumber(ARGV[2]) + 1)
elseif cur + cost <= limit then
  retry = math.ceil((window - into) - (limit - cur - cost) * window / prev)
else
  retry = math.ceil((window - into) + window - (limit - cost) * window / cur)
end
local reset = 0
if cur > 0 then reset = 2 * window - into elseif prev > 0 then reset = window - into end
return {allowed, math.floor(limit - estimate), reset, retry}
`,
);
