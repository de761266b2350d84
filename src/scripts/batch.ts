import type { EvalCommand, Script } from '../client.js';
import { acquireScript } from './acquire.js';
import { defineScript } from './define.js';
import { extendScript, repairScript } from './extend.js';
import { claimScript, initFenceScript } from './fencing.js';
import { inspectScript } from './inspect.js';
import { releaseScript } from './release.js';

/** The scripts one batch call can carry, by 1-based index in the batch script's table. */
export const BATCHABLE: readonly Script[] = [
  acquireScript,
  releaseScript,
  extendScript,
  repairScript,
  claimScript,
  initFenceScript,
  inspectScript,
];
const INDEX = new Map(BATCHABLE.map((script, i) => [script.sha, i + 1]));

/**
 * Several operations for one node in one script call (the performance work's coalescing): each
 * operation runs the very source of its own script, wrapped as a Lua function of (KEYS, ARGV),
 * in order, each protected by pcall so that one error reply does not abort the others.
 *
 * KEYS  every operation's keys, concatenated
 * ARGV  ARGV[1] = count, then per operation: script index, number of keys, number of args, args...
 * Returns one {1, reply} or {0, error message} per operation.
 */
export const batchScript = defineScript(
  'quorumlock:batch',
  `local fns = {
${BATCHABLE.map((s) => `function(KEYS, ARGV)\n${s.source}end`).join(',\n')}
}
local out = {}
local k, a = 1, 2
for op = 1, tonumber(ARGV[1]) do
  local id, nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local keys, args = {}, {}
  for i = 1, nk do keys[i] = KEYS[k]; k = k + 1 end
  for i = 1, na do args[i] = ARGV[a]; a = a + 1 end
  local ok, res = pcall(fns[id], keys, args)
  if ok then
    out[op] = {1, res}
  else
    out[op] = {0, type(res) == 'table' and res.err or tostring(res)}
  end
end
return out
`,
);

/** Whether this command can travel inside a batch call. */
export function batchable(command: EvalCommand): boolean {
  return INDEX.has(command.script.sha);
}

/** One batch call carrying `commands` (all batchable), in order. */
export function encodeBatch(commands: readonly EvalCommand[]): EvalCommand {
  const keys: string[] = [];
  const args: string[] = [String(commands.length)];
  for (const command of commands) {
    args.push(
      String(INDEX.get(command.script.sha)),
      String(command.keys.length),
      String(command.args.length),
    );
    for (const key of command.keys) keys.push(key);
    for (const arg of command.args) args.push(arg);
  }
  return { type: 'eval', script: batchScript, keys, args };
}

/** Split a batch reply into one reply (or Error) per operation. */
export function decodeBatch(reply: unknown, count: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== count) {
    throw new TypeError(`unexpected reply to ${batchScript.name}: ${JSON.stringify(reply)}`);
  }
  return reply.map((entry) => {
    if (!Array.isArray(entry)) return new TypeError(`unexpected entry in ${batchScript.name} reply`);
    return Number(entry[0]) === 1 ? entry[1] : new Error(String(entry[1]));
  });
}
