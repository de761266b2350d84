/**
 * The long randomised nemesis soak (fault matrix row 44; test/support/soak/):
 *
 *   npm run soak:faults -- --minutes 10 [--seed 1] [--contenders 6] [--resources 3] [--fenced 2]
 *                          [--ttl 1500] [--fault-every 600] [--unsafe] [--out DIR]
 *   npm run soak:faults -- --check DIR/history.json
 *
 * Starts its own 5 nodes (or uses QUORUMLOCK_NODES, then without kill/pause), runs contenders
 * while faults within the assumptions come and go, and writes `history.json` and `summary.json`
 * (default: a new directory under the system temp dir). Exits 1 when a checker found a violation
 * (unless --unsafe, whose violations are expected and only counted). `--check` re-runs the
 * checkers over a saved history.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeSet } from '../../tools/nodes.js';
import { recheckHistory, runSoak } from '../support/soak/index.js';

const USAGE =
  'usage: npm run soak:faults -- --minutes N [--seed S] [--contenders C] [--resources R] [--fenced F] [--ttl MS] [--fault-every MS] [--unsafe] [--out DIR]\n' +
  '       npm run soak:faults -- --check DIR/history.json';

function number(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(Number.isFinite(value) && value >= min)) {
    console.error(`--${name} must be a number >= ${min}, got ${JSON.stringify(raw)}\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        contenders: { type: 'string' },
        resources: { type: 'string' },
        fenced: { type: 'string' },
        ttl: { type: 'string' },
        'fault-every': { type: 'string' },
        unsafe: { type: 'boolean' },
        out: { type: 'string' },
        check: { type: 'string' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (typeof values.check === 'string') {
    const violations = await recheckHistory(values.check);
    console.log(JSON.stringify(violations, null, 2));
    return violations.total === 0 ? 0 : 1;
  }
  const minutes = number('minutes', values.minutes as string | undefined, 1, 0.05);
  const out = typeof values.out === 'string' ? values.out : await mkdtemp(join(tmpdir(), 'quorumlock-soak-'));
  const external = NodeSet.fromEnv();
  const summary = await runSoak({
    durationMs: Math.round(minutes * 60_000),
    seed: number('seed', values.seed as string | undefined, Date.now() % 1_000_000, 0),
    contenders: number('contenders', values.contenders as string | undefined, 6, 1),
    resources: number('resources', values.resources as string | undefined, 3, 1),
    fenced: number('fenced', values.fenced as string | undefined, 2, 0),
    ttlMs: number('ttl', values.ttl as string | undefined, 1_500, 100),
    faultEveryMs: number('fault-every', values['fault-every'] as string | undefined, 600, 50),
    unsafe: values.unsafe === true,
    outDir: out,
    log: (line) => console.log(line),
    ...(external ? { addresses: external } : {}),
  });
  console.log(JSON.stringify(summary, null, 2));
  const v = summary.violations;
  console.log(
    `\n${summary.acquisitions.total} acquisitions in ${(summary.durationMs / 1000).toFixed(0)} s, ` +
      `${summary.faults.total} faults; violations: ${v.leaseOverlaps} lease overlaps, ${v.lostUpdates} lost updates, ` +
      `${v.tokenOrder} token-order, ${v.falseSuccess} false successes, ${v.fencedWhileValid} fenced-while-valid` +
      `\nhistory: ${summary.files?.history}\nsummary: ${summary.files?.summary}`,
  );
  return v.total === 0 || summary.unsafe ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
