import fc from 'fast-check';
import { admissibleScenario, BROAD, breakingScenario, CONTENTION, WIDE } from './arbitraries.js';
import {
  type PrimitiveFaultKind,
  type PrimitiveKind,
  type PrimitiveScenario,
  type PrimitiveVariant,
  primitiveScenario,
  runPrimitive,
} from './primitive-scenario.js';
import { NO_TRIM, READ_IGNORES_INTENT } from './primitive-variants.js';
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

interface ClassBase {
  readonly name: string;
  /** Share of the cycle this class gets. */
  readonly weight: number;
  /** Admissible with the real Redlock: any violation not matching a known bug fails the soak. */
  readonly mustBeClean: boolean;
}

/** A class of the lock's scenarios (scenario.ts), run by `runScenario`. */
export interface LockClass extends ClassBase {
  readonly arbitrary: fc.Arbitrary<Scenario>;
  readonly variant?: (scenario: Scenario) => Variant;
  readonly primitive?: undefined;
}

/** A class of the semaphore's or the read-write lock's scenarios (primitive-scenario.ts). */
export interface PrimitiveClass extends ClassBase {
  readonly primitive: {
    readonly arbitrary: fc.Arbitrary<PrimitiveScenario>;
    readonly variant?: PrimitiveVariant;
    /** The checker that must see a control's or a variant's schedules. */
    readonly caughtBy?: Violation['kind'];
  };
}

/** One class of schedule the soak runs, and the pinned replays draw from. */
export type SoakClass = LockClass | PrimitiveClass;

/** What one schedule of a class found: its violations, and how much it did. */
export interface SeedResult {
  readonly violations: readonly Violation[];
  readonly stats: { readonly operations: number; readonly nodeCalls: number };
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
const wideVariant = (name: string, variant: () => Variant): LockClass => ({
  name: `variant/${name}`,
  // Their schedules need a rarer coincidence (a short renew's replies lost, a stall in a term).
  weight: 2,
  arbitrary: admissibleScenario(WIDE),
  variant,
  mustBeClean: false,
});

const primitiveClass = (
  name: string,
  kind: PrimitiveKind,
  options: { fault?: PrimitiveFaultKind; variant?: PrimitiveVariant; caughtBy?: Violation['kind'] } = {},
): PrimitiveClass => ({
  name,
  weight: 1,
  mustBeClean: options.caughtBy === undefined,
  primitive: {
    arbitrary: primitiveScenario(kind, options.fault),
    ...(options.variant ? { variant: options.variant } : {}),
    ...(options.caughtBy ? { caughtBy: options.caughtBy } : {}),
  },
});

/** The semaphore's and the read-write lock's classes: admissible, a control per fault, the broken pieces. */
const PRIMITIVE_CLASSES: readonly PrimitiveClass[] = [
  primitiveClass('admissible/semaphore', 'semaphore'),
  primitiveClass('admissible/rwlock', 'rwlock'),
  ...(['wipe', 'evict', 'clock-jump'] as const).flatMap((fault) => [
    primitiveClass(`control/sem-${fault}`, 'semaphore', { fault, caughtBy: 'S1' }),
    primitiveClass(`control/rw-${fault}`, 'rwlock', { fault, caughtBy: 'S1' }),
  ]),
  primitiveClass('variant/sem-no-trim', 'semaphore', { variant: { overrides: NO_TRIM }, caughtBy: 'S1' }),
  primitiveClass('variant/sem-majority', 'semaphore', { variant: { majorityQuorum: true }, caughtBy: 'S1' }),
  primitiveClass('variant/rw-read-ignores-intent', 'rwlock', {
    variant: { overrides: READ_IGNORES_INTENT },
    caughtBy: 'intent',
  }),
];

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
  ...PRIMITIVE_CLASSES,
];

export function classNamed(name: string): SoakClass {
  const klass = CLASSES.find((c) => c.name === name);
  if (!klass) throw new Error(`no class ${name}; classes: ${CLASSES.map((c) => c.name).join(', ')}`);
  return klass;
}

/** A class of the lock's scenarios, by name. */
export function lockClass(name: string): LockClass {
  const klass = classNamed(name);
  if (klass.primitive) throw new Error(`${name} is a class of the primitives' scenarios`);
  return klass;
}

/** A class of the primitives' scenarios, by name. */
export function primitiveClassNamed(name: string): PrimitiveClass {
  const klass = classNamed(name);
  if (!klass.primitive) throw new Error(`${name} is a class of the lock's scenarios`);
  return klass;
}

/** The schedule of a lock class at a seed: `fc.sample` of its arbitrary. */
export function scenarioOf(klass: LockClass, seed: number): Scenario {
  return fc.sample(klass.arbitrary, { seed, numRuns: 1 })[0]!;
}

/** The schedule of a primitive class at a seed. */
export function primitiveScenarioOf(klass: PrimitiveClass, seed: number): PrimitiveScenario {
  return fc.sample(klass.primitive.arbitrary, { seed, numRuns: 1 })[0]!;
}

/** Run one schedule of a class at a seed. */
export function runSeed(klass: SoakClass, seed: number): Promise<SeedResult> {
  if (!klass.primitive) return runClass(klass, scenarioOf(klass, seed));
  return runPrimitive(primitiveScenarioOf(klass, seed), klass.primitive.variant);
}

export function runClass(klass: LockClass, scenario: Scenario): Promise<RunResult> {
  return runScenario(scenario, klass.variant ? { variant: klass.variant(scenario) } : {});
}
