import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakingScenario } from '../support/simulation/arbitraries.js';
import { PINS } from '../support/simulation/pins.js';
import { describeRun, runScenario, unexpected } from '../support/simulation/run.js';
import { type Assumption, brokenAssumptions, type Scenario } from '../support/simulation/scenario.js';
import { BREAKING_SCHEDULES } from '../support/simulation/schedules.js';
import type { Violation } from '../support/simulation/workload.js';

/**
 * Negative controls (docs/spec.md, 'The fault matrix and negative controls'; rows 13, 19, 21, 24,
 * 25, 28 of the fault matrix in docs/testing.md): the same simulation and checkers on schedules
 * that break one assumption each. A green run proves something only if these turn red. CI replays a
 * hand-built schedule per assumption, and the shrunk counterexample random search found once,
 * pinned by its fast-check seed and path (test/support/simulation/pins.ts): a replay, never a
 * search, so the outcome does not depend on how much CPU the run gets. How often random search
 * finds them is the soak's report (`npm run soak`), not an assertion.
 */
interface Control {
  readonly assumption: Assumption;
  /** The checker that must see it. */
  readonly caughtBy: Violation['kind'];
}

const CONTROLS: readonly Control[] = [
  { assumption: 'clock-jump', caughtBy: 'S1' },
  { assumption: 'wipe-restart', caughtBy: 'S1' },
  { assumption: 'rollback-restart', caughtBy: 'S1' },
  { assumption: 'clock-rate', caughtBy: 'S1' },
  { assumption: 'eviction', caughtBy: 'S1' },
  // A holder paused past its deadline: the lease windows end at the deadline and stay disjoint;
  // only the resource, written late, shows it.
  { assumption: 'pause', caughtBy: 'resource' },
];

const kinds = (violations: readonly Violation[]) => [...new Set(violations.map((v) => v.kind))];

/** The scenario with the faults that break an assumption taken out. */
function withoutBreakingFaults(scenario: Scenario): Scenario {
  const faults = scenario.faults.filter((f) => brokenAssumptions({ ...scenario, faults: [f] }).length === 0);
  return { ...scenario, faults };
}

describe.each(CONTROLS)('negative control: $assumption', ({ assumption, caughtBy }) => {
  it(`the hand-built schedule is caught by the ${caughtBy} checker, and is clean without the fault`, async () => {
    const scenario = BREAKING_SCHEDULES[assumption];
    expect(brokenAssumptions(scenario)).toEqual([assumption]);
    const result = await runScenario(scenario);
    expect(kinds(result.violations), describeRun(result)).toContain(caughtBy);
    if (caughtBy === 'resource') expect(kinds(result.violations), describeRun(result)).not.toContain('S1');

    const repaired = await runScenario(withoutBreakingFaults(scenario));
    expect(unexpected(repaired), describeRun(repaired)).toEqual([]);
  });

  it('its pinned counterexample (seed and path, replayed) breaks only this assumption and is caught', async () => {
    const pin = PINS[`control/${assumption}`]!;
    const out = await fc.check(
      fc.asyncProperty(breakingScenario(assumption), async (scenario) => {
        const result = await runScenario(scenario);
        return !result.violations.some((v) => v.kind === caughtBy);
      }),
      { seed: pin.seed, path: pin.path, endOnFailure: true },
    );
    expect(out.failed, `seed ${pin.seed} path ${pin.path} shows no ${caughtBy} violation`).toBe(true);
    const [minimal] = out.counterexample!;
    // The shrunk schedule breaks exactly this assumption, and still shows the violation.
    expect(brokenAssumptions(minimal)).toEqual([assumption]);
    const replay = await runScenario(minimal);
    expect(kinds(replay.violations), describeRun(replay, 60)).toContain(caughtBy);
    if (caughtBy === 'resource') expect(kinds(replay.violations)).not.toContain('S1');
    // Without the fault that breaks the assumption, the same schedule is clean.
    const repaired = await runScenario(withoutBreakingFaults(minimal));
    expect(unexpected(repaired), describeRun(repaired, 60)).toEqual([]);
  });
});
