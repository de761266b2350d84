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
  // The time limit may interrupt a run in flight: wait for it before replaying.
  let inFlight: Promise<unknown> = Promise.resolve();
  const out = await fc.check(
    fc.asyncProperty(klass.arbitrary, async (scenario) => {
      const run = runScenario(scenario, variant ? { variant: variant(scenario) } : {});
      inFlight = run.catch(() => {});
      const result = await run;
      return variant ? unexpected(result).length === 0 : !result.violations.some((v) => v.kind === kind);
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
    console.log(`${klass.name}: no counterexample from seed ${search.seed} in ${out.numRuns} runs`);
    return;
  }
  const [scenario] = out.counterexample!;
  const replay = await runScenario(scenario, variant ? { variant: variant(scenario) } : {});
  console.log(found(klass.name, search.seed, out, replay.violations));
  console.log(describeRun(replay, 40));
  if (variant) {
    const real = await runScenario(scenario);
    console.log(`the same schedule with the real core: ${unexpected(real).length} unexpected violation(s)`);
  }
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
  let inFlight: Promise<unknown> = Promise.resolve();
  const out = await fc.check(
    fc.asyncProperty(arbitrary, async (scenario) => {
      const run = runPrimitive(scenario, variant);
      inFlight = run.catch(() => {});
      return !(await run).violations.some((v) => v.kind === caughtBy);
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
    console.log(`${klass.name}: no counterexample from seed ${search.seed} in ${out.numRuns} runs`);
    return;
  }
  const [scenario] = out.counterexample!;
  const replay = await runPrimitive(scenario, variant);
  console.log(found(klass.name, search.seed, out, replay.violations));
  console.log(JSON.stringify(scenario));
  console.log(replay.violations.map((v) => `${v.kind}: ${v.detail}`).join('\n'));
  const real = await runPrimitive(variant ? scenario : withoutFaults(scenario));
  console.log(
    `the same schedule ${variant ? 'with the real pieces' : 'without its faults'}: ${real.violations.length} violation(s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
