import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLASSES, type PrimitiveClass } from '../support/simulation/classes.js';
import { PINS } from '../support/simulation/pins.js';
import { runPrimitive, withoutFaults } from '../support/simulation/primitive-scenario.js';

/**
 * The semaphore's and the read-write lock's negative controls (a node restarted without its data,
 * a key evicted, a node's clock jumped ahead) and broken pieces (scripts that forget to trim, a
 * majority quorum for several permits, a reader that ignores a writer's intent), each replayed
 * from the shrunk counterexample random search found once (`npx tsx test/soak/pin.ts <class>`),
 * pinned by fast-check seed and path in test/support/simulation/pins.ts: a replay, never a
 * search. How often random schedules find them is the soak's report (docs/semaphore.md).
 */
const pinned = CLASSES.filter(
  (c): c is PrimitiveClass => c.primitive !== undefined && c.primitive.caughtBy !== undefined,
);

describe.each(pinned.map((c) => [c.name, c] as const))('%s', (name, klass) => {
  const { arbitrary, variant, caughtBy } = klass.primitive;

  it(`its pinned counterexample is caught by the ${caughtBy} checker, and is clean ${variant ? 'with the real pieces' : 'without its faults'}`, async () => {
    const pin = PINS[name];
    expect(pin, `no pin for ${name}: find one with npx tsx test/soak/pin.ts ${name}`).toBeDefined();
    const out = await fc.check(
      fc.asyncProperty(arbitrary, async (scenario) => {
        const result = await runPrimitive(scenario, variant);
        return !result.violations.some((v) => v.kind === caughtBy);
      }),
      { seed: pin!.seed, path: pin!.path, endOnFailure: true },
    );
    expect(out.failed, `seed ${pin!.seed} path ${pin!.path} shows no ${caughtBy} violation`).toBe(true);
    const [minimal] = out.counterexample!;
    const replay = await runPrimitive(minimal, variant);
    expect(replay.violations.map((v) => v.kind)).toContain(caughtBy);
    // The violation is the broken piece's: the same schedule without it is clean.
    const repaired = await runPrimitive(variant ? minimal : withoutFaults(minimal));
    expect(repaired.violations).toEqual([]);
    if (!variant) expect(minimal.faults.length).toBeGreaterThan(0);
  });
});
