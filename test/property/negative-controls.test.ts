import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakingScenario } from '../support/simulation/arbitraries.js';
import { shrinkBudgetMs } from '../support/simulation/replay.js';
import { describeRun, runScenario, unexpected } from '../support/simulation/run.js';
import { type Assumption, brokenAssumptions, type Scenario } from '../support/simulation/scenario.js';
import { BREAKING_SCHEDULES } from '../support/simulation/schedules.js';
import type { Violation } from '../support/simulation/workload.js';

/**
 * Negative controls (docs/spec.md, 'The fault matrix and negative controls'; rows 13, 19, 21, 24,
 * 25, 28 of the fault matrix in docs/testing.md): the same simulation and checkers on schedules
 * that break one assumption each. A green run proves something only if these turn red. CI replays a
 * hand-built schedule per assumption, and a pinned fast-check seed that discovers and shrinks a
 * violation; how often random search finds them is the soak's report (`npm run soak`), not an
 * assertion.
 */
interface Control {
  readonly assumption: Assumption;
  /** The checker that must see it. */
  readonly caughtBy: Violation['kind'];
  /** A fast-check seed that finds a violation early and shrinks it quickly. */
  readonly seed: number;
}

const CONTROLS: readonly Control[] = [
  { assumption: 'clock-jump', caughtBy: 'S1', seed: 4 },
  { assumption: 'wipe-restart', caughtBy: 'S1', seed: 6 },
  { assumption: 'rollback-restart', caughtBy: 'S1', seed: 5 },
  { assumption: 'clock-rate', caughtBy: 'S1', seed: 2 },
  { assumption: 'eviction', caughtBy: 'S1', seed: 5 },
  // A holder paused past its deadline: the lease windows end at the deadline and stay disjoint;
  // only the resource, written late, shows it.
  { assumption: 'pause', caughtBy: 'resource', seed: 3 },
];

const kinds = (violations: readonly Violation[]) => [...new Set(violations.map((v) => v.kind))];

/** The scenario with the faults that break an assumption taken out. */
function withoutBreakingFaults(scenario: Scenario): Scenario {
  const faults = scenario.faults.filter((f) => brokenAssumptions({ ...scenario, faults: [f] }).length === 0);
  return { ...scenario, faults };
}

describe.each(CONTROLS)('negative control: $assumption', ({ assumption, caughtBy, seed }) => {
  it(`the hand-built schedule is caught by the ${caughtBy} checker, and is clean without the fault`, async () => {
    const scenario = BREAKING_SCHEDULES[assumption];
    expect(brokenAssumptions(scenario)).toEqual([assumption]);
    const result = await runScenario(scenario);
    expect(kinds(result.violations), describeRun(result)).toContain(caughtBy);
    if (caughtBy === 'resource') expect(kinds(result.violations), describeRun(result)).not.toContain('S1');

    const repaired = await runScenario(withoutBreakingFaults(scenario));
    expect(unexpected(repaired), describeRun(repaired)).toEqual([]);
  });

  it('fast-check finds a violation from a pinned seed and shrinks it', async () => {
    const out = await fc.check(
      fc.asyncProperty(breakingScenario(assumption), async (scenario) => {
        const result = await runScenario(scenario);
        return !result.violations.some((v) => v.kind === caughtBy);
      }),
      { seed, numRuns: 500, interruptAfterTimeLimit: shrinkBudgetMs() },
    );
    expect(out.failed, `seed ${seed} found no ${caughtBy} violation in ${out.numRuns} runs`).toBe(true);
    expect(out.numShrinks).toBeGreaterThan(0);
    const [minimal] = out.counterexample!;
    // The shrunk schedule breaks exactly this assumption, and still shows the violation.
    expect(brokenAssumptions(minimal)).toEqual([assumption]);
    const replay = await runScenario(minimal);
    expect(kinds(replay.violations)).toContain(caughtBy);
    if (caughtBy === 'resource') expect(kinds(replay.violations)).not.toContain('S1');
    console.log(
      `[sim] negative control ${assumption}: seed ${seed}, found after ${out.numRuns} runs, ${out.numShrinks} shrinks${out.interrupted ? ' (shrinking cut at the time budget)' : ''}; minimal schedule:\n${describeRun(replay, 60)}`,
    );
  });
});
