import { acquireScript } from './acquire.js';
import { defineScript, type Script } from './define.js';
import { extendScript, repairScript } from './extend.js';
import { claimScript, initFenceScript } from './fencing.js';
import { inspectScript } from './inspect.js';
import { releaseScript } from './release.js';
import { rwReadScript, rwWriteReleaseScript, rwWriteScript } from './rwlock.js';
import { semAcquireScript, semExtendScript, semReleaseScript } from './semaphore.js';

/** The scripts one batch call can carry, by 1-based index in the batch script's table. */
export const BATCHABLE: readonly Script[] = [
  acquireScript,
  releaseScript,
  extendScript,
  repairScript,
  claimScript,
  initFenceScript,
  inspectScript,
  semAcquireScript,
  semExtendScript,
  semReleaseScript,
  rwReadScript,
  rwWriteScript,
  rwWriteReleaseScript,
];

/**
 * Several operations for one node in one script call (coalescing, ADR 009): each
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
