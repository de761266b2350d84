/**
 * The semaphore's and the read-write lock's schedules as data (docs/semaphore.md, "Proof"): a
 * scenario names its clients (each with the nodes it reaches and its rounds) and its faults, so
 * fast-check generates, shrinks and pins them as it does the lock's (arbitraries.ts, pins.ts).
 * `runPrimitive` plays one on a PrimitiveSim and checks the claims: never more than `permits`
 * permits in overlapping validity windows (S1); a writer's window overlaps nobody's (S1); no
 * reader is granted on a node where a refused writer's intent stands (intent).
 */
import fc from 'fast-check';
import { rwKeysOf } from '../../../src/keys.js';
import {
  describeExcess,
  describeWriterOverlaps,
  findExcess,
  findWriterOverlaps,
} from '../primitive-checkers.js';
import { PrimitiveSim, type ScriptOverride } from './primitives.js';
import type { Violation } from './record.js';

export type PrimitiveKind = 'semaphore' | 'rwlock';

/** One acquisition of one client and what it does with the lease. */
export interface PrimitiveRound {
  /** Think time before it, in ms. */
  readonly waitMs: number;
  readonly ttl: number;
  /** Semaphore: permits taken at once (capped at `permits`). */
  readonly count: 1 | 2;
  /** Read-write lock: a writer, else a reader. */
  readonly write: boolean;
  /** Work before the (optional) renew, as a percentage of the TTL. */
  readonly holdPct: number;
  readonly renew: boolean;
  /** Work after it, as a percentage of the TTL: past 100 - holdPct the lease has lapsed. */
  readonly afterPct: number;
  /**
   * Semaphore: after its own work, renew the permit by value from another instance (R7), often
   * after it lapsed and its place was taken; a renew that says renewed claims a new window.
   */
  readonly renewByValue: boolean;
}

export interface PrimitiveClient {
  /** The nodes its links reach (a partition seen from this client): a reach of 3 of 5 is admissible. */
  readonly reach: readonly number[];
  readonly rounds: readonly PrimitiveRound[];
}

/** Faults outside the lock's assumptions, one per negative control. */
export type PrimitiveFaultKind = 'wipe' | 'evict' | 'clock-jump';

export interface PrimitiveFault {
  readonly kind: PrimitiveFaultKind;
  readonly atMs: number;
  readonly node: number;
  /** clock-jump: how far the node's clock moves ahead. evict: which key (0 the lease key, 1 the readers'). */
  readonly amount: number;
}

export interface PrimitiveScenario {
  readonly kind: PrimitiveKind;
  readonly nodes: number;
  /** Semaphore: how many permits exist. */
  readonly permits: number;
  /** Seeds the links' delays and the retry jitter. */
  readonly seed: number;
  readonly clients: readonly PrimitiveClient[];
  readonly faults: readonly PrimitiveFault[];
}

/** A broken piece to run instead of the real one. */
export interface PrimitiveVariant {
  readonly overrides?: ReadonlyMap<string, ScriptOverride>;
  readonly majorityQuorum?: boolean;
}

const NODES = 5;
const ALL = Array.from({ length: NODES }, (_, i) => i);
const WRITER_INTENT_MS = 300;

const roundArb: fc.Arbitrary<PrimitiveRound> = fc.record({
  waitMs: fc.integer({ min: 0, max: 200 }),
  ttl: fc.integer({ min: 200, max: 800 }),
  count: fc.constantFrom<1 | 2>(1, 2),
  write: fc.boolean(),
  holdPct: fc.integer({ min: 0, max: 50 }),
  renew: fc.boolean(),
  afterPct: fc.integer({ min: 0, max: 100 }),
  renewByValue: fc.boolean(),
});

/** Most clients reach every node; some reach three or four (a partition seen from that client). */
const reachArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(ALL) },
  { weight: 1, arbitrary: fc.subarray(ALL, { minLength: 3, maxLength: 4 }) },
);

const clientArb: fc.Arbitrary<PrimitiveClient> = fc.record({
  reach: reachArb,
  rounds: fc.array(roundArb, { minLength: 1, maxLength: 3 }),
});

function faultArb(kind: PrimitiveFaultKind): fc.Arbitrary<PrimitiveFault> {
  return fc.record({
    kind: fc.constant(kind),
    atMs: fc.integer({ min: 0, max: 1_500 }),
    node: fc.integer({ min: 0, max: NODES - 1 }),
    amount: kind === 'clock-jump' ? fc.integer({ min: 100, max: 1_000 }) : fc.integer({ min: 0, max: 1 }),
  });
}

/**
 * Schedules of `kind`: 2-6 clients of 1-3 rounds over five nodes, 1-3 permits, and no fault
 * (admissible) or 1-4 faults of `fault` (a negative control).
 */
export function primitiveScenario(
  kind: PrimitiveKind,
  fault?: PrimitiveFaultKind,
): fc.Arbitrary<PrimitiveScenario> {
  return fc.record({
    kind: fc.constant(kind),
    nodes: fc.constant(NODES),
    permits: kind === 'semaphore' ? fc.integer({ min: 1, max: 3 }) : fc.constant(1),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    clients: fc.array(clientArb, { minLength: 2, maxLength: 6 }),
    faults: fault ? fc.array(faultArb(fault), { minLength: 1, maxLength: 4 }) : fc.constant([]),
  });
}

/** What one scenario showed: its violations, and how much it did. */
export interface PrimitiveResult {
  readonly violations: readonly Violation[];
  readonly stats: { readonly operations: number; readonly nodeCalls: number };
  readonly sim: PrimitiveSim;
}

/** Play `scenario` (with a broken piece, if given) and check its claims. */
export async function runPrimitive(
  scenario: PrimitiveScenario,
  variant: PrimitiveVariant = {},
): Promise<PrimitiveResult> {
  const sim = new PrimitiveSim({
    nodes: scenario.nodes,
    seed: scenario.seed,
    ...(variant.overrides ? { overrides: variant.overrides } : {}),
    ...(variant.majorityQuorum ? { majorityQuorum: true } : {}),
  });
  const play = scenario.kind === 'semaphore' ? semaphoreClient : readWriteClient;
  const run = Promise.all([
    nemesis(sim, scenario),
    ...scenario.clients.map((client) => play(sim, scenario, client)),
  ]);
  await sim.time.run(run, 1_000_000);
  return {
    violations: check(sim, scenario),
    stats: { operations: sim.windows.length, nodeCalls: sim.calls },
    sim,
  };
}

function check(sim: PrimitiveSim, scenario: PrimitiveScenario): Violation[] {
  const out: Violation[] = [];
  if (scenario.kind === 'semaphore') {
    const excess = findExcess(sim.windows, scenario.permits);
    if (excess.length > 0) out.push({ kind: 'S1', detail: describeExcess(excess) });
    return out;
  }
  const overlaps = findWriterOverlaps(sim.windows);
  if (overlaps.length > 0) out.push({ kind: 'S1', detail: describeWriterOverlaps(overlaps) });
  const breaches = intentBreaches(sim);
  if (breaches.length > 0) out.push({ kind: 'intent', detail: breaches.join('\n') });
  return out;
}

/**
 * The starvation policy (docs/semaphore.md, "Read-write lock"), per node and from what the
 * nodes ran, not from the intent key: every attempt of a writer marks the node for its
 * writerIntentMs, until that writer's won lease is released there; no reader may be granted on
 * a node while a mark stands. (A reader's grant that no client used still counts.)
 */
function intentBreaches(sim: PrimitiveSim): string[] {
  const out: string[] = [];
  const releasedBetween = (node: number, value: string, from: number, to: number) =>
    sim.writes.some(
      (r) => r.kind === 'release' && r.node === node && r.value === value && from < r.seq && r.seq < to,
    );
  for (const read of sim.reads) {
    if (!read.granted) continue;
    const standing = sim.writes.find(
      (w) =>
        w.kind === 'attempt' &&
        w.node === read.node &&
        w.seq < read.seq &&
        read.at < w.at + w.intentMs &&
        !releasedBetween(w.node, w.value, w.seq, read.seq),
    );
    if (standing) {
      out.push(
        `reader ${read.value.slice(0, 8)} granted on node ${read.node} at ${read.at}, while writer ${standing.value.slice(0, 8)} (attempt at ${standing.at}) waited`,
      );
    }
  }
  return out;
}

/** The faults at their times: a restart without data, a key dropped, a node's clock moved ahead. */
async function nemesis(sim: PrimitiveSim, scenario: PrimitiveScenario): Promise<void> {
  const keys = scenario.kind === 'semaphore' ? ['pool', 'pool'] : ['doc', rwKeysOf('doc').readers];
  let now = 0;
  for (const fault of [...scenario.faults].sort((a, b) => a.atMs - b.atMs)) {
    await sim.sleep(fault.atMs - now);
    now = fault.atMs;
    const node = sim.nodes[fault.node % sim.nodes.length]!;
    if (fault.kind === 'wipe') node.restart({ persist: false });
    else if (fault.kind === 'evict') node.del(keys[fault.amount % 2]!);
    else sim.jump(fault.node % sim.nodes.length, fault.amount);
  }
}

const pctOf = (ttl: number, pct: number) => Math.floor((ttl * pct) / 100);

async function semaphoreClient(
  sim: PrimitiveSim,
  scenario: PrimitiveScenario,
  client: PrimitiveClient,
): Promise<void> {
  const { permits } = scenario;
  const sem = sim.semaphore(client.reach, permits);
  for (const round of client.rounds) {
    await sim.sleep(round.waitMs);
    const count = Math.min(round.count, permits);
    const permit = await sem.acquirePermit(round.ttl, count);
    if (!permit) continue;
    const end = sim.hold(permit, 'pool', { weight: count });
    await sim.sleep(pctOf(round.ttl, round.holdPct));
    if (round.renew) await permit.renew();
    // Sometimes past the validity: the window ends at the deadline, never later.
    await sim.sleep(pctOf(round.ttl, round.afterPct));
    end();
    if (round.renewByValue) {
      // R7: if it says renewed, the API claims a window for that holder, which works within it
      // and stops before it releases.
      const other = sim.semaphore(client.reach, permits);
      const renewed = await other.renew(permit.value, round.ttl);
      if (renewed.renewed) {
        const start = sim.time.now();
        await sim.sleep(Math.floor(renewed.validityMs / 2));
        const stop = Math.min(start + renewed.validityMs, sim.time.now());
        sim.windows.push({ holder: permit.value, resource: 'pool', start, end: stop, weight: count });
      }
      await other.idle();
    }
    await permit.release();
  }
  await sem.idle();
}

async function readWriteClient(
  sim: PrimitiveSim,
  _scenario: PrimitiveScenario,
  client: PrimitiveClient,
): Promise<void> {
  const redlock = sim.redlock(client.reach);
  const rw = redlock.readWrite('doc', { writerIntentMs: WRITER_INTENT_MS });
  for (const round of client.rounds) {
    await sim.sleep(round.waitMs);
    const lease = round.write ? await rw.tryWrite(round.ttl) : await rw.tryRead(round.ttl);
    if (!lease) continue;
    const end = sim.hold(lease, 'doc', { kind: round.write ? 'write' : 'read' });
    await sim.sleep(pctOf(round.ttl, round.holdPct));
    if (round.renew) await lease.renew();
    await sim.sleep(pctOf(round.ttl, round.afterPct));
    end();
    await lease.release();
  }
  await redlock.idle();
}

/** The same scenario without its faults: a negative control's pinned schedule must be clean so. */
export function withoutFaults(scenario: PrimitiveScenario): PrimitiveScenario {
  return { ...scenario, faults: [] };
}
