import { defineScript, integers } from './define.js';

/**
 * Compare-and-delete every lock key on one node.
 *
 * KEYS[1..n]  lock keys
 * ARGV[1]     lock value
 *
 * Returns {deleted, foreign}: keys that held the value and were deleted, and keys held by
 * another value (left untouched). The rest were absent.
 */
export const releaseScript = defineScript(
  'quorumlock:release',
  `local deleted, foreign = 0, 0
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[1] then
    redis.call('DEL', KEYS[i])
    deleted = deleted + 1
  elseif v then
    foreign = foreign + 1
  end
end
return {deleted, foreign}
`,
);

export function parseReleaseReply(reply: unknown): { deleted: number; foreign: number } {
  const [deleted, foreign] = integers(reply, releaseScript, 2);
  return { deleted: deleted!, foreign: foreign! };
}
