import { defineScript } from './define.js';

/**
 * Read each lock key's holder and remaining TTL on one node, for diagnostics only (R12).
 *
 * KEYS[1..n]  lock keys
 * Returns {v1, pttl1, v2, pttl2, ...}: the value (false when absent) and PTTL (-2 absent).
 */
export const inspectScript = defineScript(
  'quorumlock:inspect',
  `local out = {}
for i = 1, #KEYS do
  out[#out + 1] = redis.call('GET', KEYS[i])
  out[#out + 1] = redis.call('PTTL', KEYS[i])
end
return out
`,
);

export function parseInspectReply(
  reply: unknown,
  keys: number,
): Array<{ value: string | null; pttl: number }> {
  if (!Array.isArray(reply) || reply.length !== keys * 2) {
    throw new TypeError(`unexpected reply to ${inspectScript.name}: ${JSON.stringify(reply)}`);
  }
  return Array.from({ length: keys }, (_, i) => ({
    value: typeof reply[2 * i] === 'string' ? (reply[2 * i] as string) : null,
    pttl: Number(reply[2 * i + 1]),
  }));
}
