import fc from 'fast-check';
import type { Draft, Profile } from './profile.js';
import {
  type Assumption,
  type ClientPlan,
  maxSafeRate,
  maxTtl,
  type OpPlan,
  type Scenario,
  safeQuarantineMs,
} from './scenario.js';
import { wideDraft, wideOpArb } from './wide.js';

export type { Draft, Profile } from './profile.js';

export { WIDE } from './wide.js';

/** Everything the issue asks for: 1–5 clients, 1–7 nodes, up to 6 faults anywhere in the run. */
export const BROAD: Profile = {
  minClients: 1,
  maxClients: 5,
  minNodes: 1,
  maxNodes: 7,
  maxFaults: 6,
  horizonMs: 2_500,
  minWorkFraction: 0,
  minRetryCount: 0,
};

/**
 * Where negative controls look: several clients that hold long and retry, few nodes, and
 * faults while the locks are busy, so that one broken assumption has something to break.
 */
export const CONTENTION: Profile = {
  minClients: 2,
  maxClients: 4,
  minNodes: 1,
  maxNodes: 5,
  maxFaults: 3,
  horizonMs: 1_200,
  minWorkFraction: 0.5,
  minRetryCount: 3,
};

function opArb(p: Profile): fc.Arbitrary<OpPlan> {
  const op = baseOpArb(p);
  return p.wide
    ? fc.tuple(op, wideOpArb).map(([base, { renewTtlShare, ...wide }]) => ({
        ...base,
        ...wide,
        ...(renewTtlShare === undefined ? {} : { renewTtlShare }),
      }))
    : op;
}

function baseOpArb(p: Profile): fc.Arbitrary<OpPlan> {
  return fc.record({
    resources: fc.constantFrom<readonly number[]>([0], [1], [0, 1]),
    // Short TTLs, comparable to a round trip, as often as long ones.
    ttl: fc.oneof(fc.integer({ min: 20, max: 120 }), fc.integer({ min: 120, max: 800 })),
    gapMs: fc.integer({ min: 0, max: 300 }),
    workFraction: fc.double({ min: p.minWorkFraction, max: 1, noNaN: true }),
    renews: fc.integer({ min: 0, max: 2 }),
    writeDelayMs: fc.integer({ min: 0, max: 10 }),
    abandon: fc.constantFrom(false, false, false, true),
    customRetry: fc.boolean(),
  });
}

function clientArb(p: Profile): fc.Arbitrary<ClientPlan> {
  return fc.record({
    startMs: fc.integer({ min: 0, max: 300 }),
    retryCount: fc.integer({ min: p.minRetryCount, max: 8 }),
    retryDelay: fc.integer({ min: 0, max: 200 }),
    retryJitter: fc.integer({ min: 0, max: 100 }),
    ops: fc.array(opArb(p), { minLength: 1, maxLength: 3 }),
  });
}

export const index = fc.nat({ max: 6 });
export const clientIndex = fc.nat({ max: 4 });
/** A share in [0, 1], turned into a concrete amount once the scenario's bounds are known. */
export const share = fc.double({ min: 0, max: 1, noNaN: true });

/**
 * Faults within the assumptions: link faults of every kind; crashes that keep their data, or
 * lose or roll it back and then stay down for at least the max TTL; node clock rates in
 * [0.5, 1 + driftFactor]; backward steps; and pauses that add up, per client, to no more than
 * the application's pause budget.
 */
function admissibleDraft(p: Profile): fc.Arbitrary<Draft> {
  const draft = baseDraft(p);
  return p.wide ? fc.oneof({ weight: 4, arbitrary: draft }, { weight: 4, arbitrary: wideDraft(p) }) : draft;
}

function baseDraft(p: Profile): fc.Arbitrary<Draft> {
  const at = fc.integer({ min: 0, max: p.horizonMs });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record({
          kind: fc.constantFrom('partition', 'drop-replies', 'refuse', 'slow') as fc.Arbitrary<
            'partition' | 'drop-replies' | 'refuse' | 'slow'
          >,
          client: clientIndex,
          node: index,
          at,
          durationMs: fc.integer({ min: 1, max: 1_500 }),
          extraMs: fc.integer({ min: 0, max: 120 }),
        })
        .map(
          (f): Draft =>
            () =>
              f,
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          node: index,
          at,
          mode: fc.constantFrom('persist' as const, 'wipe' as const, 'rollback' as const),
          extraMs: fc.integer({ min: 0, max: 1_000 }),
          snapshotAgoMs: fc.integer({ min: 0, max: 1_000 }),
        })
        .map(
          ({ extraMs, ...f }): Draft =>
            (s) => ({
              kind: 'crash',
              ...f,
              // Data lost or rolled back: stay down for the max TTL, unless the uptime guard covers it.
              downMs:
                f.mode === 'persist' || s.minNodeUptimeMs >= safeQuarantineMs(s)
                  ? extraMs
                  : maxTtl(s) + extraMs,
            }),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ node: index, at, share }).map(
        ({ share, ...f }): Draft =>
          (s) => ({ kind: 'clock-rate', ...f, rate: 0.5 + share * (maxSafeRate(s.driftFactor) - 0.5) }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ node: index, at, deltaMs: fc.integer({ min: -2_000, max: 0 }) }).map(
        (f): Draft =>
          () => ({ kind: 'clock-jump', ...f }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ client: clientIndex, at, share, atCheck: fc.boolean() }).map(
        ({ share, ...f }): Draft =>
          (s, pauses) => ({
            kind: 'pause',
            ...f,
            durationMs: Math.floor((share * s.pauseBudgetMs) / pauses),
          }),
      ),
    },
  );
}

/** Faults that break `assumption`, and only it. */
function breakingDraft(assumption: Assumption, p: Profile): fc.Arbitrary<Draft> {
  const at = fc.integer({ min: 0, max: p.horizonMs });
  switch (assumption) {
    case 'clock-jump':
      return fc.record({ node: index, at, deltaMs: fc.integer({ min: 1, max: 2_000 }) }).map(
        (f): Draft =>
          () => ({ kind: 'clock-jump', ...f }),
      );
    case 'wipe-restart':
    case 'rollback-restart':
      return fc
        .record({ node: index, at, down: share, snapshotAgoMs: fc.integer({ min: 0, max: 1_000 }) })
        .map(
          ({ down, ...f }): Draft =>
            (s) => ({
              kind: 'crash',
              ...f,
              mode: assumption === 'wipe-restart' ? 'wipe' : 'rollback',
              downMs: Math.floor(down * (maxTtl(s) - 1)),
            }),
        );
    case 'clock-rate':
      return fc.record({ node: index, at, rate: fc.double({ min: 1.06, max: 4, noNaN: true }) }).map(
        (f): Draft =>
          () => ({ kind: 'clock-rate', ...f }),
      );
    case 'eviction':
      return fc.record({ node: index, at, resource: fc.nat({ max: 1 }) }).map(
        (f): Draft =>
          () => ({ kind: 'evict', ...f }),
      );
    case 'pause':
      return fc.record({ client: clientIndex, at, extraMs: fc.integer({ min: 1, max: 1_500 }) }).map(
        ({ extraMs, ...f }): Draft =>
          (s) => ({ kind: 'pause', ...f, atCheck: true, durationMs: s.pauseBudgetMs + extraMs }),
      );
  }
}

function baseArb(p: Profile, quarantine: fc.Arbitrary<boolean>): fc.Arbitrary<Omit<Scenario, 'faults'>> {
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      nodes: p.nodeCounts
        ? fc.constantFrom(...p.nodeCounts)
        : fc.integer({ min: p.minNodes, max: p.maxNodes }),
      maxDelayMs: fc.integer({ min: 0, max: 40 }),
      driftFactor: fc.constantFrom(0.01, 0, 0.05),
      nodeTimeoutMs: fc.option(fc.integer({ min: 5, max: 150 }), { nil: undefined }),
      pauseBudgetMs: fc.integer({ min: 0, max: 300 }),
      quarantine,
      clients: fc.array(clientArb(p), { minLength: p.minClients, maxLength: p.maxClients }),
    })
    .map(({ quarantine, ...base }) => {
      const scenario = { ...base, minNodeUptimeMs: 0 };
      return quarantine ? { ...scenario, minNodeUptimeMs: safeQuarantineMs(scenario) } : scenario;
    });
}

function build(base: Omit<Scenario, 'faults'>, drafts: readonly Draft[], pauses: number): Scenario {
  return { ...base, faults: drafts.flatMap((d) => d(base, Math.max(1, pauses))) };
}

/** Scenarios within every assumption of the safety argument: zero violations expected. */
export function admissibleScenario(p: Profile = BROAD): fc.Arbitrary<Scenario> {
  // The wider classes pair first-contact errors with the uptime guard most of the time.
  const quarantine = p.wide ? fc.constantFrom(false, true, true) : fc.constantFrom(false, false, false, true);
  return fc
    .tuple(baseArb(p, quarantine), fc.array(admissibleDraft(p), { maxLength: p.maxFaults }))
    .map(([base, drafts]) => {
      const scenario = build(base, drafts, 0);
      return build(base, drafts, scenario.faults.filter((f) => f.kind === 'pause').length);
    });
}

/**
 * Admissible scenarios plus one to three faults that each break `assumption` (and only it):
 * the negative controls.
 */
export function breakingScenario(assumption: Assumption, p: Profile = CONTENTION): fc.Arbitrary<Scenario> {
  // A restart that loses data is only a broken assumption without the uptime guard.
  const quarantine =
    assumption === 'wipe-restart' || assumption === 'rollback-restart'
      ? fc.constant(false)
      : fc.constantFrom(false, false, false, true);
  return fc
    .tuple(
      baseArb(p, quarantine),
      fc.array(admissibleDraft(p), { maxLength: p.maxFaults }),
      fc.array(breakingDraft(assumption, p), { minLength: 1, maxLength: 3 }),
    )
    .map(([base, drafts, breaking]) => {
      const admissible = build(base, drafts, 0);
      const pauses = admissible.faults.filter((f) => f.kind === 'pause').length;
      return { ...base, faults: [...build(base, drafts, pauses).faults, ...build(base, breaking, 1).faults] };
    });
}
