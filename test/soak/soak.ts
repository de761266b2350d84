/**
 * The simulation soak: `npm run soak -- --minutes 1` (or `--seconds N`, `--seed N`).
 *
 * Runs schedules from every class in turn until the time is up: admissible schedules (which
 * must show zero violations), one class per negative control (each breaks one assumption and
 * should show violations), and the broken variants (`--only <prefixes>` picks classes). Prints schedules and operations checked
 * per minute and the violation counts per class. Every schedule is `fc.sample` of its class's
 * arbitrary at seed `base + i`: `npm run soak -- --replay <class> <seed>` prints its history.
 * Exit code 1 when an admissible schedule showed an unexpected violation.
 */

import {
  CLASSES,
  classNamed,
  primitiveScenarioOf,
  runClass as run,
  runSeed,
  type SoakClass,
  scenarioOf,
} from '../support/simulation/classes.js';
import { describeRun } from '../support/simulation/run.js';

interface Tally {
  schedules: number;
  operations: number;
  nodeCalls: number;
  ms: number;
  /** Schedules with at least one violation of each kind (`known:` for known bugs). */
  readonly byKind: Map<string, number>;
  violating: number;
}

function parseArgs(argv: readonly string[]) {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const replay = argv.indexOf('--replay');
  return {
    seconds: Number(get('seconds') ?? Number(get('minutes') ?? 1) * 60),
    seed: Number(get('seed') ?? Math.floor(Math.random() * 0x7fffffff)),
    replay: replay >= 0 ? { name: argv[replay + 1]!, seed: Number(argv[replay + 2]) } : undefined,
    /** `--only admissible/,variant/` runs only the classes whose names start so. */
    only: get('only')?.split(','),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.replay) {
    const klass = classNamed(args.replay.name);
    if (klass.primitive) {
      const scenario = primitiveScenarioOf(klass, args.replay.seed);
      const { violations } = await runSeed(klass, args.replay.seed);
      console.log(JSON.stringify(scenario, null, 1));
      console.log(violations.map((v) => `${v.kind}: ${v.detail}`).join('\n') || 'no violation');
    } else console.log(describeRun(await run(klass, scenarioOf(klass, args.replay.seed)), 2_000));
    return 0;
  }
  if (!(args.seconds > 0)) throw new Error('--minutes or --seconds must be a positive number');
  console.log(`soak: ${args.seconds} s, base seed ${args.seed}, node ${process.version}`);
  const classes = CLASSES.filter((c) => !args.only || args.only.some((prefix) => c.name.startsWith(prefix)));
  if (classes.length === 0) throw new Error(`--only ${args.only?.join(',')} matches no class`);
  const cycle = classes.flatMap((c) => new Array<SoakClass>(c.weight).fill(c));
  const tallies = new Map<string, Tally>(
    classes.map((c) => [
      c.name,
      { schedules: 0, operations: 0, nodeCalls: 0, ms: 0, byKind: new Map(), violating: 0 },
    ]),
  );
  const started = performance.now();
  const until = started + args.seconds * 1_000;
  let failures = 0;
  let nextReport = started + 10_000;
  for (let i = 0; performance.now() < until; i++) {
    const klass = cycle[i % cycle.length]!;
    const seed = (args.seed + i) | 0;
    const t0 = performance.now();
    const result = await runSeed(klass, seed);
    const tally = tallies.get(klass.name)!;
    tally.ms += performance.now() - t0;
    tally.schedules++;
    tally.operations += result.stats.operations;
    tally.nodeCalls += result.stats.nodeCalls;
    const kinds = new Set(result.violations.map((v) => (v.known ? `known:${v.known}` : v.kind)));
    for (const k of kinds) tally.byKind.set(k, (tally.byKind.get(k) ?? 0) + 1);
    const unexpected = result.violations.filter((v) => !v.known);
    if (unexpected.length > 0) tally.violating++;
    if (klass.mustBeClean && unexpected.length > 0) {
      failures++;
      console.log(
        `\nVIOLATION in ${klass.name}, seed ${seed} (replay: npm run soak -- --replay ${klass.name} ${seed})`,
      );
      if ('world' in result) console.log(describeRun(result as Parameters<typeof describeRun>[0], 200));
      else console.log(result.violations.map((v) => `${v.kind}: ${v.detail}`).join('\n'));
    }
    if (performance.now() >= nextReport) {
      nextReport += 10_000;
      const done = [...tallies.values()].reduce((n, t) => n + t.schedules, 0);
      console.log(`  ${((performance.now() - started) / 1_000).toFixed(0)} s: ${done} schedules`);
    }
  }
  const minutes = (performance.now() - started) / 60_000;
  report(tallies, minutes);
  return failures > 0 ? 1 : 0;
}

function report(tallies: ReadonlyMap<string, Tally>, minutes: number): void {
  const rows = [...tallies].map(([name, t]) => {
    const kinds = [...t.byKind].map(([k, n]) => `${k} ${n}`).join(', ') || '—';
    return `| ${name} | ${t.schedules} | ${(t.schedules / minutes).toFixed(0)} | ${t.operations} | ${t.nodeCalls} | ${t.violating} (${((100 * t.violating) / Math.max(1, t.schedules)).toFixed(1)}%) | ${kinds} |`;
  });
  const total = [...tallies.values()].reduce(
    (a, t) => ({ schedules: a.schedules + t.schedules, operations: a.operations + t.operations }),
    { schedules: 0, operations: 0 },
  );
  console.log(
    [
      '',
      `${total.schedules} schedules (${(total.schedules / minutes).toFixed(0)}/min), ${total.operations} client operations (${(total.operations / minutes).toFixed(0)}/min) in ${minutes.toFixed(2)} min`,
      '',
      '| class | schedules | per min | operations | node calls | schedules with violations | by kind (schedules) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows,
    ].join('\n'),
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
