import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admissibleScenario, BROAD, CONTENTION } from '../support/simulation/arbitraries.js';
import { simParameters } from '../support/simulation/replay.js';
import { describeRun, runScenario, unexpected } from '../support/simulation/run.js';
import { brokenAssumptions } from '../support/simulation/scenario.js';

/**
 * The real Redlock on simulated nodes, links and clocks, under fault schedules that stay within
 * Redlock's assumptions (docs/spec.md, 'Assumptions'): node clock rates within the drift factor, no
 * forward steps, restarts that keep their data or stay down for the max TTL, no eviction, and
 * client pauses within what the application allows for. Zero violations of S1, S3, S4, the
 * guarded resource, release coverage (L3) and hygiene (H).
 */
describe('safety within the assumptions', () => {
  for (const [name, profile, runs] of [
    ['1–5 clients, 1–7 nodes, any faults', BROAD, 200],
    ['contention: long holds, few nodes', CONTENTION, 100],
  ] as const) {
    it(`${name}: no violation`, async () => {
      let acquired = 0;
      await fc.assert(
        fc.asyncProperty(admissibleScenario(profile), async (scenario) => {
          expect(brokenAssumptions(scenario)).toEqual([]);
          const result = await runScenario(scenario);
          acquired += result.stats.acquired;
          const failures = unexpected(result);
          if (failures.length > 0) throw new Error(describeRun(result));
        }),
        simParameters(`admissible (${name})`, runs),
      );
      // Not vacuous: the schedules let clients take locks.
      expect(acquired).toBeGreaterThan(0);
    });
  }
});
