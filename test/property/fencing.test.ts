import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LockAcquireError } from '../../src/errors.js';
import { type Fault, faultArb, scheduleFault } from '../support/simulation/faults.js';
import { simParameters } from '../support/simulation/replay.js';
import type { CrashMode } from '../support/simulation/sim-node.js';
import { deriveSeed, SimWorld } from '../support/simulation/world.js';

/**
 * Fencing tokens in the simulation (R13; docs/fencing.md): several clients acquire and
 * release one fenced resource through the real Redlock on simulated nodes, under random fault
 * schedules within the fencing assumptions: per-client link faults (partitions, lost replies,
 * refused connections, slow links), node crashes that keep their data or wipe it and stay down
 * for the max TTL (lossless persistence or none; never an old snapshot), and client pauses.
 * When a majority reports the counter absent, the acquisition fails with
 * `fencing-uninitialized` and the test re-initialises with floor = the highest token issued.
 *
 * Checked: every issued token is unique, and whenever one acquisition's call completed before
 * another's started (true virtual time), the later token is greater.
 */

const RESOURCE = 'f';

interface FencedOp {
  readonly gapMs: number;
  readonly ttl: number;
  /** Hold for this share of the validity before releasing. */
  readonly hold: number;
  /** Walk away without releasing (a crashed holder). */
  readonly abandon: boolean;
}

interface FencedClient {
  readonly startMs: number;
  readonly retryCount: number;
  readonly retryDelay: number;
  readonly ops: readonly FencedOp[];
}

interface FencedScenario {
  readonly seed: number;
  readonly nodes: number;
  readonly maxDelayMs: number;
  readonly nodeTimeoutMs: number | undefined;
  readonly clients: readonly FencedClient[];
  readonly faults: readonly Fault[];
}

/** One successful acquisition, in true virtual time. */
interface Issued {
  readonly client: number;
  readonly token: number;
  readonly startedAt: number;
  readonly completedAt: number;
}

interface FencedRun {
  readonly issued: readonly Issued[];
  readonly reinits: number;
  readonly uninitialized: number;
  readonly violations: readonly string[];
  readonly world: SimWorld;
}

const maxTtlOf = (clients: readonly FencedClient[]) =>
  Math.max(0, ...clients.flatMap((c) => c.ops.map((o) => o.ttl)));

const opArb: fc.Arbitrary<FencedOp> = fc.record({
  gapMs: fc.integer({ min: 0, max: 150 }),
  ttl: fc.oneof(fc.integer({ min: 30, max: 150 }), fc.integer({ min: 150, max: 600 })),
  hold: fc.double({ min: 0, max: 1, noNaN: true }),
  abandon: fc.constantFrom(false, false, false, true),
});

const clientArb: fc.Arbitrary<FencedClient> = fc.record({
  startMs: fc.integer({ min: 0, max: 200 }),
  retryCount: fc.integer({ min: 0, max: 6 }),
  retryDelay: fc.integer({ min: 0, max: 100 }),
  ops: fc.array(opArb, { minLength: 2, maxLength: 6 }),
});

const HORIZON_MS = 2_000;

/** The fencing mix: link faults, crashes (wipes twice as often as persisted ones), pauses. */
const fencedFaults = (nodes: number, clients: number) =>
  faultArb({
    nodes,
    clients,
    horizonMs: HORIZON_MS,
    link: { weight: 5, maxMs: 1_200, maxExtraMs: 120 },
    crash: { weight: 3, modes: ['persist', 'wipe', 'wipe'], maxDownMs: 800 },
    evict: 0,
    pause: { weight: 1, durationMs: fc.integer({ min: 1, max: 600 }) },
  });

/**
 * Within the fencing assumptions: crashes keep their data, or lose all of it and stay down for
 * at least the max TTL (a lock and a claim in flight are over before the node is back). Any
 * number of nodes may be wiped over a run (their counters stay absent until re-initialised).
 */
const admissibleFenced: fc.Arbitrary<FencedScenario> = fc
  .record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    nodes: fc.integer({ min: 1, max: 5 }),
    maxDelayMs: fc.integer({ min: 0, max: 30 }),
    nodeTimeoutMs: fc.option(fc.integer({ min: 5, max: 120 }), { nil: undefined }),
    clients: fc.array(clientArb, { minLength: 2, maxLength: 4 }),
  })
  .chain((base) =>
    fc.array(fencedFaults(base.nodes, base.clients.length), { maxLength: 8 }).map((faults) => {
      const ttl = maxTtlOf(base.clients);
      return {
        ...base,
        faults: faults.map((f) =>
          f.kind === 'crash' && f.mode === 'wipe' ? { ...f, downMs: ttl + f.downMs } : f,
        ),
      };
    }),
  );

/**
 * Run a scenario: an operator process initialises the counter at t=0, and re-initialises it with
 * floor = highest token issued so far whenever an acquisition reports `fencing-uninitialized`.
 */
async function runFenced(scenario: FencedScenario): Promise<FencedRun> {
  const clients = scenario.clients.length;
  const operator = clients;
  const world = new SimWorld({
    nodes: scenario.nodes,
    clients: clients + 1,
    seed: scenario.seed,
    maxDelayMs: scenario.maxDelayMs,
    nodeClocks: Array.from({ length: scenario.nodes }, (_, i) => ({
      offsetMs: deriveSeed(scenario.seed, 3, i) % 100_000,
    })),
    redlock: (c) => {
      const plan = scenario.clients[c];
      return {
        fencing: true,
        driftFactor: 0.01,
        retryCount: plan?.retryCount ?? 0,
        retryDelay: plan?.retryDelay ?? 0,
        retryJitter: Math.min(20, plan?.retryDelay ?? 0),
        ...(scenario.nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs: scenario.nodeTimeoutMs }),
      };
    },
  });
  for (const f of scenario.faults) scheduleFault(world, f, [RESOURCE]);

  const issued: Issued[] = [];
  const violations: string[] = [];
  let reinits = 0;
  let uninitialized = 0;
  let reinit: Promise<unknown> | undefined;
  const highest = () => Math.max(0, ...issued.map((i) => i.token));
  const initialise = (floor: number) => {
    reinit ??= world.redlocks[operator]!.initFencing(RESOURCE, { floor }).finally(() => {
      reinit = undefined;
    });
    return reinit;
  };

  const runClient = async (c: number, plan: FencedClient) => {
    const process = world.processes[c]!;
    const redlock = world.redlocks[c]!;
    await process.sleep(plan.startMs);
    for (const op of plan.ops) {
      await process.sleep(op.gapMs);
      const startedAt = world.time.now();
      try {
        const lock = await redlock.acquire(RESOURCE, op.ttl);
        const completedAt = world.time.now();
        const token = lock.fencingToken;
        world.history.add(process.name, `ACQUIRED token ${token} (started ${startedAt})`);
        if (token === null || !Number.isSafeInteger(token) || token <= 0) {
          violations.push(`${process.name} acquired without a valid token: ${token}`);
        } else {
          issued.push({ client: c, token, startedAt, completedAt });
        }
        await process.sleep(Math.floor(lock.remainingMs() * op.hold));
        if (!op.abandon) await lock.release();
      } catch (error) {
        if (!(error instanceof LockAcquireError)) throw error;
        if (error.reason === 'fencing-uninitialized') {
          uninitialized++;
          reinits++;
          world.history.add('op', `re-initialises the counter at floor ${highest()}`);
          await initialise(highest());
        }
      }
    }
  };

  // The operator initialises first; the clients start after it answered.
  await world.run(initialise(0), 100_000);
  await world.runClients(Promise.all(scenario.clients.map((plan, c) => runClient(c, plan))));
  await world.time.drain(1_000_000);

  const byToken = new Map<number, Issued>();
  for (const i of issued) {
    const other = byToken.get(i.token);
    if (other) violations.push(`token ${i.token} issued twice: c${other.client} and c${i.client}`);
    byToken.set(i.token, i);
  }
  for (const a of issued) {
    for (const b of issued) {
      if (a.completedAt < b.startedAt && b.token <= a.token) {
        violations.push(
          `c${b.client} started at ${b.startedAt} after c${a.client}'s acquisition completed at ${a.completedAt}, yet got token ${b.token} <= ${a.token}`,
        );
      }
    }
  }
  return { issued, reinits, uninitialized, violations, world };
}

const orderedPairs = (issued: readonly Issued[]) =>
  issued.reduce((n, a) => n + issued.filter((b) => a.completedAt < b.startedAt).length, 0);

const report = (run: FencedRun, scenario: FencedScenario) =>
  [
    ...run.violations,
    `tokens: ${run.issued.map((i) => `c${i.client}:${i.token}@[${i.startedAt},${i.completedAt}]`).join(' ')}`,
    `scenario: ${JSON.stringify(scenario)}`,
    run.world.history.format(200),
  ].join('\n');

describe('fencing tokens under admissible schedules (R13, S2)', () => {
  it('are unique, and greater for an acquisition that started after another completed', async () => {
    const totals = { runs: 0, tokens: 0, pairs: 0, reinits: 0, wipes: 0 };
    await fc.assert(
      fc.asyncProperty(admissibleFenced, async (scenario) => {
        const run = await runFenced(scenario);
        totals.runs++;
        totals.tokens += run.issued.length;
        totals.pairs += orderedPairs(run.issued);
        totals.reinits += run.reinits;
        totals.wipes += scenario.faults.filter((f) => f.kind === 'crash' && f.mode === 'wipe').length;
        if (run.violations.length > 0) throw new Error(report(run, scenario));
      }),
      simParameters('fencing tokens unique and increasing', 200),
    );
    console.log(
      `[sim] fencing: ${totals.runs} runs, ${totals.tokens} tokens, ${totals.pairs} ordered pairs, ${totals.wipes} wipes, ${totals.reinits} re-initialisations`,
    );
    // Not vacuous: tokens were issued in order, and wiped counters forced re-initialisations.
    expect(totals.pairs).toBeGreaterThan(0);
    expect(totals.reinits).toBeGreaterThan(0);
  });
});

/** A client that holds for a fifth of its validity, `count` times in a row. */
const sequential = (count: number): FencedClient => ({
  startMs: 0,
  retryCount: 0,
  retryDelay: 0,
  ops: Array.from({ length: count }, () => ({ gapMs: 20, ttl: 100, hold: 0.2, abandon: false })),
});

const cut = (client: number, node: number, at: number, durationMs: number): Fault => ({
  kind: 'partition',
  client,
  node,
  at,
  durationMs,
  extraMs: 0,
});

/**
 * Three nodes, one client acquiring every ~40 ms. t<100: every node takes the claims; node 0 is
 * snapshotted at t=100 with a low counter. 100–500: node 1 is cut off, so only {0, 2} advance.
 * t=500: node 0 crashes and comes back 50 ms later from its old snapshot, and node 2 is cut off
 * for good: {0, 1} both hold the old counter, form a quorum, and accept a token already issued.
 */
const rollbackSchedule = (mode: CrashMode): FencedScenario => ({
  seed: 7,
  nodes: 3,
  maxDelayMs: 0,
  nodeTimeoutMs: 20,
  clients: [sequential(24)],
  faults: [
    cut(0, 1, 100, 400),
    { kind: 'crash', node: 0, at: 500, mode, downMs: 50, snapshotAgoMs: 400 },
    cut(0, 2, 500, 10_000),
  ],
});

describe('fencing negative control: a node restored from an old snapshot', () => {
  it('lets tokens repeat and go backwards, while the same schedule with persistence is clean', async () => {
    const rolledBack = await runFenced(rollbackSchedule('rollback'));
    expect(rolledBack.violations.length, report(rolledBack, rollbackSchedule('rollback'))).toBeGreaterThan(0);
    expect(rolledBack.violations.join('\n')).toMatch(/issued twice|yet got token/);
    console.log(
      `[sim] fencing negative control (rollback) caught:\n  ${rolledBack.violations.slice(0, 3).join('\n  ')}\n  tokens: ${rolledBack.issued.map((i) => i.token).join(' ')}`,
    );

    const persisted = await runFenced(rollbackSchedule('persist'));
    expect(persisted.violations, report(persisted, rollbackSchedule('persist'))).toEqual([]);
    expect(persisted.issued.length).toBeGreaterThan(10);
  });
});
