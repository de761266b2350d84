import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admissibleScenario } from '../support/simulation/arbitraries.js';
import { shrinkBudgetMs } from '../support/simulation/replay.js';
import { describeRun, runScenario, unexpected, type Variant } from '../support/simulation/run.js';
import type { Scenario } from '../support/simulation/scenario.js';
import { LOST_REPLY, SLOW_ROUND } from '../support/simulation/schedules.js';
import { releaseOnlyAnsweredVariant, stalledClockVariant } from '../support/simulation/variants.js';
import type { Violation } from '../support/simulation/workload.js';

/**
 * The suite must catch a Redlock with one piece broken, swapped in without touching src/:
 * a clock that stands still while acquire calls are in flight (validity not reduced by the
 * time the round took), and an adapter layer that sends releases only to nodes whose acquire
 * answered (no release of partial keys whose reply was lost or late, against R5).
 */
interface BrokenPiece {
  readonly name: string;
  readonly variant: (scenario: Scenario) => Variant;
  /** A schedule that shows it, and is clean with the real piece. */
  readonly schedule: Scenario;
  readonly caughtBy: readonly Violation['kind'][];
  /** A seed for which the admissible property, with the broken piece, fails early. */
  readonly seed: number;
}

const PIECES: readonly BrokenPiece[] = [
  {
    name: 'validity not reduced by elapsed time',
    variant: (s) => stalledClockVariant(s),
    schedule: SLOW_ROUND,
    caughtBy: ['S1', 'S4', 'resource'],
    seed: 4,
  },
  {
    name: 'no release of keys whose acquire did not answer',
    variant: () => releaseOnlyAnsweredVariant(),
    schedule: LOST_REPLY,
    caughtBy: ['L3', 'H'],
    seed: 5,
  },
];

const kinds = (violations: readonly Violation[]) => [...new Set(violations.map((v) => v.kind))].sort();

describe.each(PIECES)('broken variant: $name', ({ variant, schedule, caughtBy, seed }) => {
  it('is clean with the real piece and caught with the broken one on a hand-built schedule', async () => {
    const real = await runScenario(schedule);
    expect(unexpected(real), describeRun(real)).toEqual([]);
    const broken = await runScenario(schedule, { variant: variant(schedule) });
    expect(kinds(broken.violations), describeRun(broken)).toEqual([...caughtBy].sort());
  });

  it('makes the admissible property fail (pinned seed), with a shrunk counterexample', async () => {
    const out = await fc.check(
      fc.asyncProperty(admissibleScenario(), async (scenario) => {
        const result = await runScenario(scenario, { variant: variant(scenario) });
        return unexpected(result).length === 0;
      }),
      { seed, numRuns: 300, interruptAfterTimeLimit: shrinkBudgetMs() },
    );
    expect(out.failed, `seed ${seed}: the broken piece went unnoticed for ${out.numRuns} runs`).toBe(true);
    const [minimal] = out.counterexample!;
    const replay = await runScenario(minimal, { variant: variant(minimal) });
    expect(kinds(unexpected(replay)).every((k) => caughtBy.includes(k))).toBe(true);
    // The same schedule with the real piece is clean: the broken piece, not the schedule, fails it.
    expect(unexpected(await runScenario(minimal))).toEqual([]);
    console.log(
      `[sim] broken variant caught: seed ${seed}, ${out.numShrinks} shrinks:\n${describeRun(replay, 40)}`,
    );
  });
});
