/**
 * Find a counterexample to pin: `npx tsx test/soak/pin.ts <class> [--seed N] [--runs N]
 * [--shrink-seconds N]`. Searches the class's arbitrary with fast-check from `seed` (default 1)
 * for a schedule that shows a violation (for a lock control/ class: of the kind given by
 * `--kind`, default S1; for a lock variant/ class: any unexpected one; for a semaphore or
 * read-write lock class: the kind its class names), shrinks it for at most the given seconds
 * (default 30), and prints the seed and path that replay it, for test/support/simulation/pins.ts.
 * A search tool, run once by hand: nothing in CI depends on how long it takes.
 */
import fc from 'fast-check';
import { classNamed, type PrimitiveClass } from '../support/simulation/classes.js';
import { runPrimitive, withoutFaults } from '../support/simulation/primitive-scenario.js';
import { describeRun, runScenario, unexpected } from '../support/simulation/run.js';
import type { Scenario } from '../support/simulation/scenario.js';

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

interface Search {
  readonly seed: number;
  readonly runs: number;
  readonly shrinkMs: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const klass = classNamed(argv[0] ?? '');
  const search: Search = {
    seed: Number(option(argv, 'seed') ?? 1),
    runs: Number(option(argv, 'runs') ?? 1_000),
    shrinkMs: Number(option(argv, 'shrink-seconds') ?? 30) * 1_000,
  };
  if (klass.primitive) return pinPrimitive(klass, search);
  const kind = option(argv, 'kind') ?? 'S1';
  const variant = klass.variant;
  const run = (scenario: Scenario) => runScenario(scenario, variant ? { variant: variant(scenario) } : {});
  const scenario = await searchFor(klass.name, klass.arbitrary, search, async (s) => {
    const result = await run(s);
    return variant ? unexpected(result).length > 0 : result.violations.some((v) => v.kind === kind);
  });
  if (!scenario) return;
  const replay = await run(scenario.counterexample);
  console.log(found(klass.name, search.seed, scenario.out, replay.violations));
  console.log(describeRun(replay, 40));
  if (variant) {
    const real = await runScenario(scenario.counterexample);
    console.log(`the same schedule with the real core: ${unexpected(real).length} unexpected violation(s)`);
  }
}

interface Found<S> {
  readonly counterexample: S;
  readonly out: {
    counterexamplePath: string | null;
    numRuns: number;
    numShrinks: number;
    interrupted: boolean;
  };
}

/** fast-check from `search.seed` for a schedule where `violates` holds, shrunk within the time limit. */
async function searchFor<S>(
  name: string,
  arbitrary: fc.Arbitrary<S>,
  search: Search,
  violates: (scenario: S) => Promise<boolean>,
): Promise<Found<S> | undefined> {
  // The time limit may interrupt a run in flight: wait for it before replaying.
  let inFlight: Promise<unknown> = Promise.resolve();
  const out = await fc.check(
    fc.asyncProperty(arbitrary, async (scenario) => {
      const run = violates(scenario);
      inFlight = run.catch(() => {});
      return !(await run);
    }),
    {
      seed: search.seed,
      numRuns: search.runs,
      interruptAfterTimeLimit: search.shrinkMs,
      markInterruptAsFailure: false,
    },
  );
  await inFlight;
  if (!out.failed) {
    console.log(`${name}: no counterexample from seed ${search.seed} in ${out.numRuns} runs`);
    return undefined;
  }
  return { counterexample: out.counterexample![0], out };
}

function found(
  name: string,
  seed: number,
  out: { counterexamplePath: string | null; numRuns: number; numShrinks: number; interrupted: boolean },
  violations: ReadonlyArray<{ kind: string }>,
): string {
  const kinds = [...new Set(violations.map((v) => v.kind))].sort().join(', ');
  return `${name}: seed ${seed}, path '${out.counterexamplePath}' (found after ${out.numRuns} runs, ${out.numShrinks} shrinks${out.interrupted ? ', shrinking cut' : ''}); kinds ${kinds}`;
}

async function pinPrimitive(klass: PrimitiveClass, search: Search): Promise<void> {
  const { arbitrary, variant, caughtBy } = klass.primitive;
  if (!caughtBy) throw new Error(`${klass.name} is admissible: there is nothing to pin`);
  const scenario = await searchFor(klass.name, arbitrary, search, async (s) =>
    (await runPrimitive(s, variant)).violations.some((v) => v.kind === caughtBy),
  );
  if (!scenario) return;
  const { counterexample } = scenario;
  const replay = await runPrimitive(counterexample, variant);
  console.log(found(klass.name, search.seed, scenario.out, replay.violations));
  console.log(JSON.stringify(counterexample));
  console.log(replay.violations.map((v) => `${v.kind}: ${v.detail}`).join('\n'));
  const real = await runPrimitive(variant ? counterexample : withoutFaults(counterexample));
  console.log(
    `the same schedule ${variant ? 'with the real pieces' : 'without its faults'}: ${real.violations.length} violation(s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
