import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lockClass } from '../support/simulation/classes.js';
import { PINS } from '../support/simulation/pins.js';
import { describeRun, runScenario, unexpected, type Variant } from '../support/simulation/run.js';
import type { Scenario } from '../support/simulation/scenario.js';
import {
  BUSY_THEN_WIPE,
  KEEPER_RELEASE,
  LEADER_STALL,
  LOST_REPLY,
  PERMUTED_RELEASE,
  SHORT_RENEW_LOST,
  SLOW_ROUND,
} from '../support/simulation/schedules.js';
import type { Violation } from '../support/simulation/workload.js';

/**
 * The suite must catch a Redlock with one piece broken, swapped in through a seam without
 * changing src/: a clock that stands still while acquire calls are in flight (validity not
 * reduced by the time the round took); releases sent only to nodes whose acquire answered
 * (against R5); and issue 9's defects 1-5 put back one at a time (R16-R20): a failed renew that
 * leaves the deadline, a first INFO error that switches vetting off, leadership that outlives
 * the lock, a registry that looks locks up by ordered list, a keeper that renews after release.
 * Each is caught on a hand-built schedule and on the pinned counterexample of its soak class
 * (test/support/simulation/pins.ts: fast-check seed and path, replayed, never searched for);
 * the real core is clean on both.
 */
interface BrokenPiece {
  readonly name: string;
  /** Its soak class (test/support/simulation/classes.ts). */
  readonly klass: string;
  /** A hand-built schedule that shows it, and is clean with the real piece. */
  readonly schedule: Scenario;
  /** What the checkers see on that schedule. */
  readonly caughtBy: readonly Violation['kind'][];
}

const PIECES: readonly BrokenPiece[] = [
  {
    name: 'validity not reduced by elapsed time',
    klass: 'variant/stalled-clock',
    schedule: SLOW_ROUND,
    caughtBy: ['S1', 'S4', 'resource'],
  },
  {
    name: 'no release of keys whose acquire did not answer',
    klass: 'variant/release-only-answered',
    schedule: LOST_REPLY,
    caughtBy: ['L3', 'H'],
  },
  {
    name: 'a failed renew leaves the deadline (defect 1)',
    klass: 'variant/renew-bound-ignored',
    schedule: SHORT_RENEW_LOST,
    caughtBy: ['S1', 'S5', 'resource'],
  },
  {
    name: 'a first INFO error switches vetting off (defect 2)',
    klass: 'variant/unvetted-first-contact',
    schedule: BUSY_THEN_WIPE,
    caughtBy: ['S1', 'S4', 'resource'],
  },
  {
    name: 'leadership outlives the lock (defect 3)',
    klass: 'variant/leader-ignores-deadline',
    schedule: LEADER_STALL,
    caughtBy: ['S5'],
  },
  {
    name: 'the registry looks locks up by ordered list (defect 4)',
    klass: 'variant/ordered-registry',
    schedule: PERMUTED_RELEASE,
    caughtBy: ['S4', 'S5'],
  },
  {
    name: 'a keeper renews after release (defect 5)',
    klass: 'variant/keeper-outlives-release',
    schedule: KEEPER_RELEASE,
    caughtBy: ['H'],
  },
];

const kinds = (violations: readonly Violation[]) => [...new Set(violations.map((v) => v.kind))].sort();

describe.each(PIECES)('broken variant: $name', ({ klass, schedule, caughtBy }) => {
  const { arbitrary, variant } = lockClass(klass);
  const broken = (s: Scenario): Variant => variant!(s);

  it('is clean with the real piece and caught with the broken one on a hand-built schedule', async () => {
    const real = await runScenario(schedule);
    expect(unexpected(real), describeRun(real)).toEqual([]);
    const result = await runScenario(schedule, { variant: broken(schedule) });
    expect(kinds(result.violations), describeRun(result)).toEqual([...caughtBy].sort());
  });

  it('fails the admissible property on its pinned counterexample, which the real core passes', async () => {
    const pin = PINS[klass]!;
    const out = await fc.check(
      fc.asyncProperty(arbitrary, async (scenario) => {
        const result = await runScenario(scenario, { variant: broken(scenario) });
        return unexpected(result).length === 0;
      }),
      { seed: pin.seed, path: pin.path, endOnFailure: true },
    );
    expect(out.failed, `seed ${pin.seed} path ${pin.path}: the broken piece went unnoticed`).toBe(true);
    const [minimal] = out.counterexample!;
    const replay = await runScenario(minimal, { variant: broken(minimal) });
    expect(kinds(unexpected(replay)), describeRun(replay, 60)).toEqual([...pin.kinds].sort());
    // The same schedule with the real piece is clean: the broken piece, not the schedule, fails it.
    const real = await runScenario(minimal);
    expect(unexpected(real), describeRun(real, 60)).toEqual([]);
  });
});
