import { defineScript, integers } from './define.js';

/**
 * Strict compare-and-extend of every lock key on one node, all or nothing. Never creates a key.
 *
 * KEYS[1..n]  lock keys
 * ARGV[1]     lock value
 * ARGV[2]     new ttl in ms
 *
 * Returns {1, 0, 0}               every key held the value and now expires in ttl
 *         {0, absent, foreign}    some key did not hold the value; nothing was changed
 */
export const extendScript = defineScript(
  'quorumlock:extend',
  `local absent, foreign = 0, 0
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then
    absent = absent + 1
  elseif v ~= ARGV[1] then
    foreign = foreign + 1
  end
end
if absent + foreign > 0 then return {0, absent, foreign} end
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return {1, 0, 0}
`,
);

export function parseExtendReply(reply: unknown): { extended: boolean; absent: number; foreign: number } {
  const [ok, absent, foreign] = integers(reply, extendScript, 3);
  return { extended: ok === 1, absent: absent!, foreign: foreign! };
}

/**
 * Repair after a strict renew already reached quorum (R8): set the missing keys on one node
 * with our value and the new ttl, extend the ones we hold, refuse if any key is foreign.
 *
 * KEYS[1..n]  lock keys; ARGV[1] value; ARGV[2] ttl in ms
 * Returns {1, 0} repaired, {0, i} KEYS[i] is held by another value (nothing written).
 */
export const repairScript = defineScript(
  'quorumlock:repair',
  `for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and v ~= ARGV[1] then return {0, i} end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return {1, 0}
`,
);

export function parseRepairReply(reply: unknown): boolean {
  return integers(reply, repairScript, 2)[0] === 1;
}
