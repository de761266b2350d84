import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acquire } from '../../src/acquire.js';
import type { Core } from '../../src/core.js';
import { handoffFor } from '../../src/handoff.js';
import { Nodes } from '../../src/nodes.js';
import { resolveOptions } from '../../src/options.js';
import { semaphoreProtocol } from '../../src/semaphore.js';
import {
  describeExcess,
  findExcess,
  findIntentBreaches,
  type HolderWindow,
  type IntentWindow,
} from '../support/primitive-checkers.js';
import { primitiveScenario, runPrimitive } from '../support/simulation/primitive-scenario.js';
import { NO_TRIM, READ_IGNORES_INTENT } from '../support/simulation/primitive-variants.js';
import { PrimitiveSim, type ScriptOverride } from '../support/simulation/primitives.js';

/**
 * The semaphore's and the read-write lock's claims in the simulation (docs/semaphore.md): generated
 * schedules from a fixed seed with a fixed run count, no time budget, show 0 violations; each
 * broken piece is caught by a hand-built replay that is clean with the real piece. The soak
 * classes' shrunk counterexamples are replayed in primitive-pins.test.ts.
 */
const RUNS = 100;

describe.each(['semaphore', 'rwlock'] as const)('%s: admissible schedules', (kind) => {
  it(`${RUNS} generated schedules (fixed seed): no claim broken`, async () => {
    let windows = 0;
    await fc.assert(
      fc.asyncProperty(primitiveScenario(kind), async (scenario) => {
        const result = await runPrimitive(scenario);
        windows += result.sim.windows.length;
        expect(result.violations).toEqual([]);
      }),
      { seed: 20261202, numRuns: RUNS, endOnFailure: true },
    );
    expect(windows).toBeGreaterThan(RUNS);
  });
});

/**
 * Three clients, each reaching a different set of nodes, each set a majority of five, placed so
 * that no node holds more than two leases: A {0,1,2}, B {2,3,4}, C {0,1,3,4}.
 */
const REACH = [
  [0, 1, 2],
  [2, 3, 4],
  [0, 1, 3, 4],
] as const;

async function threeHolders(quorum: number | undefined): Promise<HolderWindow[]> {
  const sim = new PrimitiveSim({ seed: 3, maxDelayMs: 0 });
  const windows: HolderWindow[] = [];
  for (const reach of REACH) {
    const { clients, runtime } = sim.client(reach);
    const { options } = resolveOptions({ retryCount: 0, nodeTimeoutMs: 50 });
    const nodes = new Nodes(clients, options, runtime);
    const core: Core = { nodes, options, runtime, handoff: handoffFor(runtime.clock) };
    const protocol = semaphoreProtocol(2, 1, quorum ?? 4);
    const plan = {
      signal: undefined,
      until: Number.POSITIVE_INFINITY,
      strategy: () => null,
      maxRetries: 0,
      keepReports: true,
    };
    const granted = await sim.time
      .run(acquire(core, ['pool'], 10_000, plan, protocol))
      .catch(() => undefined);
    if (granted)
      windows.push({
        holder: granted.value,
        resource: 'pool',
        start: sim.time.now(),
        end: granted.deadlineMs,
      });
    await sim.time.run(nodes.idle());
  }
  return windows;
}

/**
 * Two permits: X holds long (so the set outlives A's lease), A's short permit lapses, B takes its
 * place, then A's value is renewed from elsewhere (a renew by value, R7).
 */
async function renewAfterLapse(
  overrides: ReadonlyMap<string, ScriptOverride> | undefined,
): Promise<HolderWindow[]> {
  const sim = new PrimitiveSim({ seed: 5, maxDelayMs: 0, ...(overrides ? { overrides } : {}) });
  const sem = () => sim.redlock().semaphore('pool', { permits: 2 });
  const x = await sim.time.run(sem().acquire(20_000));
  const endX = sim.hold(x, 'pool');
  const a = await sim.time.run(sem().acquire(500));
  sim.hold(a, 'pool')();
  await sim.time.run(sim.sleep(600));
  const b = await sim.time.run(sem().acquire(5_000));
  const endB = sim.hold(b, 'pool');
  const renewed = await sim.time.run(sem().renew(a.value, 5_000));
  if (renewed.renewed) {
    sim.windows.push({
      holder: a.value,
      resource: 'pool',
      start: sim.time.now(),
      end: sim.time.now() + renewed.validityMs,
    });
  }
  await sim.time.run(sim.sleep(100));
  endB();
  endX();
  return sim.windows;
}

/** A reader holds; a writer is refused and sets its intent; a new reader then tries. */
async function readerDuringIntent(
  overrides: ReadonlyMap<string, ScriptOverride> | undefined,
): Promise<{ windows: HolderWindow[]; intents: IntentWindow[] }> {
  const sim = new PrimitiveSim({ seed: 7, maxDelayMs: 0, ...(overrides ? { overrides } : {}) });
  const rw = sim.redlock([0, 1, 2, 3, 4], 0).readWrite('doc', { writerIntentMs: 1_000 });
  const first = await sim.time.run(rw.read(5_000));
  sim.hold(first, 'doc', { kind: 'read' })();
  expect(await sim.time.run(rw.tryWrite(5_000))).toBeNull();
  const intents = [{ resource: 'doc', at: sim.time.now(), until: sim.time.now() + 1_000 }];
  await sim.time.run(sim.sleep(10));
  const second = await sim.time.run(rw.tryRead(5_000));
  if (second) sim.hold(second, 'doc', { kind: 'read' })();
  return { windows: sim.windows, intents };
}

describe('broken pieces, caught by pinned replays', () => {
  it('a majority quorum for 2 permits (the counting argument ignored): three holders at once', async () => {
    const broken = await threeHolders(3);
    expect(broken).toHaveLength(3);
    expect(findExcess(broken, 2)).not.toEqual([]);
    // The counting quorum (4 of 5) refuses the clients that reach only three nodes.
    const real = await threeHolders(undefined);
    expect(real.length).toBeLessThanOrEqual(2);
    expect(findExcess(real, 2)).toEqual([]);
  });

  it('scripts that forget to trim expired leases: a lapsed permit is renewed beside its successor', async () => {
    const broken = await renewAfterLapse(NO_TRIM);
    expect(findExcess(broken, 2), 'the broken variant must be caught').not.toEqual([]);
    const real = await renewAfterLapse(undefined);
    expect(findExcess(real, 2), describeExcess(findExcess(real, 2))).toEqual([]);
  });

  it("a reader check that ignores the writer's intent: a new reader gets in ahead of the waiting writer", async () => {
    const broken = await readerDuringIntent(READ_IGNORES_INTENT);
    expect(findIntentBreaches(broken.windows, broken.intents)).toHaveLength(1);
    const real = await readerDuringIntent(undefined);
    expect(findIntentBreaches(real.windows, real.intents)).toEqual([]);
  });
});
