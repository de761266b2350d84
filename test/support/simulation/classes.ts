import fc from 'fast-check';
import {
  describeExcess,
  describeWriterOverlaps,
  findExcess,
  findWriterOverlaps,
} from '../primitive-checkers.js';
import { admissibleScenario, BROAD, breakingScenario, CONTENTION, WIDE } from './arbitraries.js';
import {
  NO_TRIM,
  nodeFaults,
  PrimitiveSim,
  readWriteSchedule,
  type ScriptOverride,
  semaphoreSchedule,
} from './primitives.js';
import type { Violation } from './record.js';
import { type RunResult, runScenario, type Variant } from './run.js';
import type { Assumption, Scenario } from './scenario.js';
import {
  keeperOutlivesReleaseVariant,
  leaderIgnoresDeadlineVariant,
  orderedRegistryVariant,
  releaseOnlyAnsweredVariant,
  renewBoundIgnoredVariant,
  stalledClockVariant,
  unvettedFirstContactVariant,
} from './variants.js';

/** One class of schedule the soak runs, and the pinned replays draw from. */
export interface SoakClass {
  readonly name: string;
  /** Share of the cycle this class gets. */
  readonly weight: number;
  readonly arbitrary: fc.Arbitrary<Scenario>;
  readonly variant?: (scenario: Scenario) => Variant;
  /** Admissible with the real Redlock: any violation not matching a known bug fails the soak. */
  readonly mustBeClean: boolean;
  /**
   * A class that is not a lock scenario (the semaphore, the read-write lock): runs its own
   * seeded schedule instead of `arbitrary` and `runScenario`.
   */
  readonly runSeed?: (seed: number) => Promise<SeedResult>;
}

/** What one schedule of a class found: its violations, and how much it did. */
export interface SeedResult {
  readonly violations: readonly Violation[];
  readonly stats: { readonly operations: number; readonly nodeCalls: number };
}

/** The semaphore's seeded schedule: never more than `permits` holders in overlapping windows. */
async function semaphoreSeed(
  seed: number,
  overrides?: ReadonlyMap<string, ScriptOverride>,
  nemesis?: (sim: PrimitiveSim) => Promise<void>,
): Promise<SeedResult> {
  const permits = (Math.abs(seed) % 3) + 1;
  const sim = new PrimitiveSim({ seed, ...(overrides ? { overrides } : {}) });
  await semaphoreSchedule(sim, permits, 6, nemesis);
  const excess = findExcess(sim.windows, permits);
  return {
    violations: excess.length > 0 ? [{ kind: 'S1', detail: describeExcess(excess) }] : [],
    stats: { operations: sim.windows.length, nodeCalls: 0 },
  };
}

/** The read-write lock's seeded schedule: a writer overlaps nobody. */
async function readWriteSeed(seed: number): Promise<SeedResult> {
  const sim = new PrimitiveSim({ seed });
  await readWriteSchedule(sim);
  const overlaps = findWriterOverlaps(sim.windows);
  return {
    violations: overlaps.length > 0 ? [{ kind: 'S1', detail: describeWriterOverlaps(overlaps) }] : [],
    stats: { operations: sim.windows.length, nodeCalls: 0 },
  };
}

const CONTROLS: readonly Assumption[] = [
  'clock-jump',
  'wipe-restart',
  'rollback-restart',
  'clock-rate',
  'eviction',
  'pause',
];

/** A broken variant on the wider admissible schedules (issue 9's defects 1-5, reintroduced). */
const wideVariant = (name: string, variant: () => Variant): SoakClass => ({
  name: `variant/${name}`,
  // Their schedules need a rarer coincidence (a short renew's replies lost, a stall in a term).
  weight: 2,
  arbitrary: admissibleScenario(WIDE),
  variant,
  mustBeClean: false,
});

export const CLASSES: readonly SoakClass[] = [
  { name: 'admissible/broad', weight: 4, arbitrary: admissibleScenario(BROAD), mustBeClean: true },
  { name: 'admissible/contention', weight: 2, arbitrary: admissibleScenario(CONTENTION), mustBeClean: true },
  { name: 'admissible/wide', weight: 4, arbitrary: admissibleScenario(WIDE), mustBeClean: true },
  ...CONTROLS.map((a) => ({
    name: `control/${a}`,
    weight: 1,
    arbitrary: breakingScenario(a),
    mustBeClean: false,
  })),
  {
    name: 'variant/stalled-clock',
    weight: 1,
    arbitrary: admissibleScenario(BROAD),
    variant: (s: Scenario) => stalledClockVariant(s),
    mustBeClean: false,
  },
  {
    name: 'variant/release-only-answered',
    weight: 1,
    arbitrary: admissibleScenario(BROAD),
    variant: () => releaseOnlyAnsweredVariant(),
    mustBeClean: false,
  },
  wideVariant('renew-bound-ignored', renewBoundIgnoredVariant),
  wideVariant('unvetted-first-contact', unvettedFirstContactVariant),
  wideVariant('leader-ignores-deadline', leaderIgnoresDeadlineVariant),
  wideVariant('ordered-registry', orderedRegistryVariant),
  wideVariant('keeper-outlives-release', keeperOutlivesReleaseVariant),
  {
    name: 'admissible/semaphore',
    weight: 1,
    arbitrary: admissibleScenario(BROAD),
    runSeed: semaphoreSeed,
    mustBeClean: true,
  },
  {
    name: 'control/sem-wipe',
    weight: 1,
    arbitrary: admissibleScenario(BROAD),
    runSeed: (seed) => semaphoreSeed(seed, undefined, nodeFaults('wipe')),
    mustBeClean: false,
  },
  {
    name: 'control/sem-evict',
    weight: 1,
    arbitrary: admissibleScenario(BROAD),
    runSeed: (seed) => semaphoreSeed(seed, undefined, nodeFaults('evict')),
    mustBeClean: false,
  },
  {
    name: 'variant/sem-no-trim',
    weight: 1,
    arbitrary: admissibleScenario(BROAD),
    runSeed: (seed) => semaphoreSeed(seed, NO_TRIM),
    mustBeClean: false,
  },
  {
    name: 'admissible/rwlock',
    weight: 1,
    arbitrary: admissibleScenario(BROAD),
    runSeed: readWriteSeed,
    mustBeClean: true,
  },
];

export function classNamed(name: string): SoakClass {
  const klass = CLASSES.find((c) => c.name === name);
  if (!klass) throw new Error(`no class ${name}; classes: ${CLASSES.map((c) => c.name).join(', ')}`);
  return klass;
}

/** The schedule of a class at a seed: `fc.sample` of its arbitrary. */
export function scenarioOf(klass: SoakClass, seed: number): Scenario {
  return fc.sample(klass.arbitrary, { seed, numRuns: 1 })[0]!;
}

/** Run one schedule of a class at a seed: its own schedule, or the lock scenario of its arbitrary. */
export function runSeed(klass: SoakClass, seed: number): Promise<SeedResult> {
  return klass.runSeed ? klass.runSeed(seed) : runClass(klass, scenarioOf(klass, seed));
}

export function runClass(klass: SoakClass, scenario: Scenario): Promise<RunResult> {
  return runScenario(scenario, klass.variant ? { variant: klass.variant(scenario) } : {});
}
