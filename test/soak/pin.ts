/**
 * Find a counterexample to pin: `npx tsx test/soak/pin.ts <class> [--seed N] [--runs N]
 * [--shrink-seconds N]`. Searches the class's arbitrary with fast-check from `seed` (default 1)
 * for a schedule that shows a violation (for a control/ class: of the kind given by `--kind`,
 * default S1; for a variant/ class: any unexpected one), shrinks it for at most the given
 * seconds (default 30), and prints the seed and path that replay it, for
 * test/property/negative-controls.test.ts and broken-variants.test.ts. A search tool, run once
 * by hand: nothing in CI depends on how long it takes.
 */
import fc from 'fast-check';
import { classNamed } from '../support/simulation/classes.js';
import { describeRun, runScenario, unexpected } from '../support/simulation/run.js';

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const klass = classNamed(argv[0] ?? '');
  if (klass.runSeed)
    throw new Error(`${klass.name} runs its own seeded schedules: replay one with npm run soak -- --replay`);
  const seed = Number(option(argv, 'seed') ?? 1);
  const runs = Number(option(argv, 'runs') ?? 1_000);
  const shrinkMs = Number(option(argv, 'shrink-seconds') ?? 30) * 1_000;
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
    { seed, numRuns: runs, interruptAfterTimeLimit: shrinkMs, markInterruptAsFailure: false },
  );
  await inFlight;
  if (!out.failed) {
    console.log(`${klass.name}: no counterexample from seed ${seed} in ${out.numRuns} runs`);
    return;
  }
  const [scenario] = out.counterexample!;
  const replay = await runScenario(scenario, variant ? { variant: variant(scenario) } : {});
  console.log(
    `${klass.name}: seed ${seed}, path '${out.counterexamplePath}' (found after ${out.numRuns} runs, ${out.numShrinks} shrinks${out.interrupted ? ', shrinking cut' : ''}); kinds ${[...new Set(replay.violations.map((v) => v.kind))].sort().join(', ')}`,
  );
  console.log(describeRun(replay, 40));
  if (variant) {
    const real = await runScenario(scenario);
    console.log(`the same schedule with the real core: ${unexpected(real).length} unexpected violation(s)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
