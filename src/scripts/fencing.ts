import { defineScript, integers } from './define.js';

/**
 * Claim a fencing token on one node (the claim round of docs/fencing.md, with its "absent, never stale" rule).
 * Never creates the counter: a node that lost it answers ABSENT and refuses, so a wiped node
 * can never vote a token backwards.
 *
 * KEYS[1]  the fencing counter (no TTL)
 * ARGV[1]  T, the proposed token
 *
 * Returns {1, T}   the counter was below T and is now T (this node accepts T)
 *         {0, c}   the counter is already c >= T (too low: propose above c)
 *         {-1, 0}  the counter is absent (uninitialised or wiped)
 */
export const claimScript = defineScript(
  'quorumlock:claim',
  `local c = redis.call('GET', KEYS[1])
if not c then return {-1, 0} end
c = tonumber(c)
local t = tonumber(ARGV[1])
if c < t then
  redis.call('SET', KEYS[1], ARGV[1])
  return {1, t}
end
return {0, c}
`,
);

export type ClaimReply = { readonly kind: 'accepted' | 'too-low' | 'absent'; readonly value: number };

export function parseClaimReply(reply: unknown): ClaimReply {
  const [code, value] = integers(reply, claimScript, 2);
  return { kind: code === 1 ? 'accepted' : code === 0 ? 'too-low' : 'absent', value: value! };
}

/**
 * Create a fencing counter where it is absent, at `floor`; leave a present one alone.
 *
 * KEYS[1]  the fencing counter; ARGV[1] floor
 * Returns {1, floor} created, {0, c} already present at c.
 */
export const initFenceScript = defineScript(
  'quorumlock:init-fence',
  `local c = redis.call('GET', KEYS[1])
if c then return {0, tonumber(c)} end
redis.call('SET', KEYS[1], ARGV[1])
return {1, tonumber(ARGV[1])}
`,
);

export function parseInitFenceReply(reply: unknown): { created: boolean; value: number } {
  const [code, value] = integers(reply, initFenceScript, 2);
  return { created: code === 1, value: value! };
}
