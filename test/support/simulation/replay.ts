import type fc from 'fast-check';

/**
 * fast-check parameters for a simulation property, from the environment:
 * - `QUORUMLOCK_SEED` replays a run (fast-check's seed; printed by every run),
 * - `QUORUMLOCK_PATH` with it, replays just the failing (shrunk) case fast-check reported,
 * - `QUORUMLOCK_SIM_RUNS` raises (or lowers) the number of runs from the CI-sized default.
 * The seed is printed before the property runs, so that a run that hangs or crashes can be
 * replayed too; fast-check prints seed and path again with a failure.
 */
export function simParameters<T>(name: string, defaultRuns: number): fc.Parameters<T> {
  const seed = envInteger('QUORUMLOCK_SEED') ?? randomSeed();
  const numRuns = envInteger('QUORUMLOCK_SIM_RUNS') ?? defaultRuns;
  const path = process.env.QUORUMLOCK_PATH;
  console.log(
    `[sim] ${name}: seed ${seed}, ${numRuns} runs (replay: QUORUMLOCK_SEED=${seed}${path ? ` QUORUMLOCK_PATH=${path}` : ''})`,
  );
  return { seed, numRuns, ...(path ? { path, endOnFailure: true } : {}) };
}

function envInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

function randomSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
}
