/** The bench command's plans, options and run metadata (run.ts uses them). */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ContenderSpec } from './contender.js';
import { CONTENDERS } from './contenders/index.js';
import { quorumlockBaseline } from './contenders/quorumlock.js';
import { type ContenderInfo, WORKLOADS, type WorkloadId } from './results.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Measured time per contender and workload, cut into slices: within a workload the contenders'
 * slices alternate (rotating order), so a burst of load from elsewhere on a shared machine falls
 * on all of them rather than on whoever happened to be running.
 */
export interface Plan {
  sliceMs: number;
  slices: number;
}
export const FULL_PLAN: Record<WorkloadId, Plan> = {
  latency: { sliceMs: 500, slices: 3 },
  'throughput-1': { sliceMs: 500, slices: 3 },
  'throughput-16': { sliceMs: 500, slices: 4 },
  'throughput-128': { sliceMs: 500, slices: 4 },
  contention: { sliceMs: 1250, slices: 2 },
  'scaling-n1': { sliceMs: 500, slices: 2 },
  'scaling-n3': { sliceMs: 500, slices: 2 },
  'scaling-n5': { sliceMs: 500, slices: 2 },
};
export const QUICK_PLAN: Record<WorkloadId, Plan> = {
  latency: { sliceMs: 200, slices: 1 },
  'throughput-1': { sliceMs: 200, slices: 1 },
  'throughput-16': { sliceMs: 200, slices: 1 },
  'throughput-128': { sliceMs: 200, slices: 1 },
  contention: { sliceMs: 300, slices: 1 },
  'scaling-n1': { sliceMs: 150, slices: 1 },
  'scaling-n3': { sliceMs: 150, slices: 1 },
  'scaling-n5': { sliceMs: 150, slices: 1 },
};

export interface Options {
  quick: boolean;
  reps: number;
  contenders: ContenderSpec[];
  workloads: WorkloadId[];
  seed: number;
  docs: boolean;
  partial: boolean;
  from: string | undefined;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      only: { type: 'string' },
      baseline: { type: 'string' },
      workloads: { type: 'string' },
      seed: { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
      from: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const reps = Number(values.reps ?? (quick ? 3 : 5));
  if (!Number.isInteger(reps) || reps < 1 || reps > 100)
    throw new Error('--reps must be an integer in [1, 100]');
  const ids = values.only?.split(',').map((s) => s.trim());
  const all = values.baseline
    ? [...CONTENDERS, quorumlockBaseline(values.baseline, `baseline ${values.baseline}`)]
    : CONTENDERS;
  const contenders = ids === undefined ? [...all] : all.filter((c) => ids.includes(c.id));
  const unknown = ids?.filter((id) => !all.some((c) => c.id === id)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `--only: unknown contender ${unknown.join(', ')}; known: ${CONTENDERS.map((c) => c.id).join(', ')}`,
    );
  }
  const wl = values.workloads?.split(',').map((s) => s.trim());
  const workloads = wl === undefined ? [...WORKLOADS] : WORKLOADS.filter((w) => wl.includes(w));
  const badWl = wl?.filter((w) => !(WORKLOADS as readonly string[]).includes(w)) ?? [];
  if (badWl.length > 0)
    throw new Error(`--workloads: unknown ${badWl.join(', ')}; known: ${WORKLOADS.join(', ')}`);
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  return {
    quick,
    reps,
    contenders,
    workloads,
    seed,
    docs: values['no-docs'] !== true,
    partial: ids !== undefined || wl !== undefined || values.baseline !== undefined,
    from: values.from,
  };
}

export function commandLine(argv: string[]): string {
  const args = argv.join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `tsx bench/run.ts${args ? ` ${args}` : ''}`;
}

/** Lay the JSON out the way the repository's formatter wants it, so `biome check .` stays clean. */
export function formatWithBiome(file: string): void {
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
      stdio: 'ignore',
    });
  } catch {
    console.log(
      `(could not run biome format on ${relative(ROOT, file)}; run \`npx biome format --write\` on it)`,
    );
  }
}

export function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? head : `${head} + uncommitted changes in src/`;
  } catch {
    return 'unknown (no git)';
  }
}

export async function packageVersion(name: string | undefined): Promise<string> {
  const file = join(ROOT, 'node_modules', ...(name ?? 'quorumlock').split('/'), 'package.json');
  const path = name === undefined ? join(ROOT, 'package.json') : file;
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function contenderInfo(spec: ContenderSpec): Promise<ContenderInfo> {
  const version =
    spec.kind === 'floor'
      ? `ioredis ${await packageVersion('ioredis')}`
      : spec.kind === 'variant'
        ? `${spec.floorId ? `${await packageVersion(undefined)}, dist/, ` : ''}${spec.package ?? 'redis'} ${await packageVersion(spec.package ?? 'redis')}`
        : spec.kind === 'library'
          ? `${await packageVersion(undefined)}, dist/`
          : (await packageVersion(spec.package)).replace(/^v/, '');
  return {
    id: spec.id,
    label: spec.label,
    kind: spec.kind,
    version,
    notes: spec.notes,
    ...(spec.floorId ? { floorId: spec.floorId } : {}),
  };
}
