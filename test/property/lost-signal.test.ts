import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { LockAcquireError, LockLostError } from '../../src/errors.js';
import type { Lock } from '../../src/lock.js';
import { minTtlMs } from '../../src/validity.js';
import { type Fault, faultArb, pauseWindows, scheduleFault } from '../support/simulation/faults.js';
import { lockValueOf, operationsOf } from '../support/simulation/operations.js';
import type { SimProcess } from '../support/simulation/process.js';
import { simParameters } from '../support/simulation/replay.js';
import { deriveSeed, SimWorld } from '../support/simulation/world.js';

/**
 * Auto-renew with a lost-lock signal in the simulation (R11): holders keep their lock
 * with `redlock.keep` or run under `redlock.using` while their renewals meet random link faults
 * (partitions coming and going, lost replies, refused connections, slow links), node crashes,
 * evicted keys, a competing client, and pauses of their own process. Checked for every kept lock:
 * - when the signal aborts, it aborts with a LockLostError strictly before the lock's deadline
 *   in force at that moment, unless the process was paused at the moment the keeper had to act
 *   (the last safety margin before the deadline): a paused process cannot act, and such aborts
 *   are counted apart;
 * - no extend (or repair) script is sent for the lock at or after its deadline in force at send time;
 * - once the signal aborted, no further extend is sent;
 * - `using` rejects with the LockLostError when the lock is lost before `fn` finishes;
 * - after stop() and release() (and `using` returning), none of the client's timers is left.
 */

const RESOURCE = 'k';

interface KeptOp {
  readonly gapMs: number;
  readonly ttl: number;
  /** TTL of each renewal, as a share of the lock's TTL (0 = the lock's own TTL). */
  readonly renewTtl: number;
  /** How long the holder wants the lock, in TTLs. */
  readonly holdTtls: number;
  readonly mode: 'keep' | 'using';
}

interface KeptClient {
  readonly startMs: number;
  readonly retryCount: number;
  readonly ops: readonly KeptOp[];
}

interface KeptScenario {
  readonly seed: number;
  readonly nodes: number;
  readonly maxDelayMs: number;
  readonly nodeTimeoutMs: number | undefined;
  readonly clients: readonly KeptClient[];
  readonly faults: readonly Fault[];
}

const HORIZON_MS = 2_500;

const opArb: fc.Arbitrary<KeptOp> = fc.record({
  gapMs: fc.integer({ min: 0, max: 200 }),
  ttl: fc.oneof(fc.integer({ min: 40, max: 150 }), fc.integer({ min: 150, max: 600 })),
  renewTtl: fc.constantFrom(0, 0, 0.5, 1.5),
  holdTtls: fc.double({ min: 0.1, max: 3, noNaN: true }),
  mode: fc.constantFrom('keep' as const, 'using' as const),
});

const clientArb: fc.Arbitrary<KeptClient> = fc.record({
  startMs: fc.integer({ min: 0, max: 300 }),
  retryCount: fc.integer({ min: 0, max: 5 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 3 }),
});

/** The lost-signal mix: mostly link faults, some crashes, evictions and pauses of the holders. */
const keptFaults = (nodes: number, clients: number) =>
  faultArb({
    nodes,
    clients,
    horizonMs: HORIZON_MS,
    link: { weight: 6, maxMs: 1_500, maxExtraMs: 150 },
    crash: { weight: 1, modes: ['persist', 'wipe'], maxDownMs: 800 },
    // Outside the lock's assumptions, yet the signal's guarantees are the client's own and must
    // hold anyway: how a renew learns that the lock is gone ('not-held') before its deadline.
    evict: 1,
    // Mostly short stalls, sometimes one across a deadline.
    pause: {
      weight: 2,
      durationMs: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 30, max: 700 })),
    },
  });

/** A wipe stays down for the max TTL (the lock assumptions); the rest is as drawn (evictions included). */
const admissibleKept: fc.Arbitrary<KeptScenario> = fc
  .record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    nodes: fc.integer({ min: 1, max: 5 }),
    maxDelayMs: fc.integer({ min: 0, max: 40 }),
    nodeTimeoutMs: fc.option(fc.integer({ min: 5, max: 150 }), { nil: undefined }),
    clients: fc.array(clientArb, { minLength: 1, maxLength: 2 }),
  })
  .chain((base) =>
    fc.array(keptFaults(base.nodes, base.clients.length), { maxLength: 8 }).map((faults) => {
      const ttl = Math.max(
        ...base.clients.flatMap((c) => c.ops.map((o) => Math.max(o.ttl, Math.ceil(o.ttl * o.renewTtl)))),
      );
      return {
        ...base,
        faults: faults.map((f) =>
          f.kind === 'crash' && f.mode === 'wipe' ? { ...f, downMs: ttl + f.downMs } : f,
        ),
      };
    }),
  );

/** What one kept lock went through. */
interface Kept {
  readonly client: number;
  readonly lock: Lock;
  abortedAt?: number;
  extendsSent: number;
  renewals: number;
}

interface KeptRun {
  readonly kept: readonly Kept[];
  /** Aborts by LockLostError reason. */
  readonly reasons: ReadonlyMap<string, number>;
  readonly aborted: number;
  /** Aborts at or after the deadline, excused by a pause of the process at the moment to act. */
  readonly excused: number;
  readonly violations: readonly string[];
  readonly world: SimWorld;
}

/** The process was paused at some instant of [from, to] (pause intervals as scheduled). */
function pausedDuring(pauses: ReadonlyArray<readonly [number, number]>, from: number, to: number): boolean {
  return pauses.some(([start, end]) => start <= to && end > from);
}

async function runKept(scenario: KeptScenario): Promise<KeptRun> {
  const clients = scenario.clients.length;
  const violations: string[] = [];
  const byValue = new Map<string, Kept>();
  let world!: SimWorld;
  const observe = (c: number, script: string, value: string) => {
    const kept = byValue.get(value);
    if (!kept) return;
    const now = world.time.now();
    const name = `c${c} v=${value.slice(0, 6)}`;
    kept.extendsSent += script === 'quorumlock:extend' ? 1 : 0;
    if (now >= kept.lock.deadlineMs) {
      violations.push(`${name}: ${script} sent at ${now}, at or after its deadline ${kept.lock.deadlineMs}`);
    }
    if (script === 'quorumlock:extend' && kept.abortedAt !== undefined) {
      violations.push(`${name}: extend sent at ${now} after the signal aborted at ${kept.abortedAt}`);
    }
  };
  world = new SimWorld({
    nodes: scenario.nodes,
    clients,
    seed: scenario.seed,
    maxDelayMs: scenario.maxDelayMs,
    nodeClocks: Array.from({ length: scenario.nodes }, (_, i) => ({
      offsetMs: deriveSeed(scenario.seed, 3, i) % 100_000,
    })),
    redlock: (c) => ({
      driftFactor: 0.01,
      retryCount: scenario.clients[c]!.retryCount,
      retryDelay: 40,
      retryJitter: 20,
      ...(scenario.nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs: scenario.nodeTimeoutMs }),
    }),
    // Every script the client sends passes here first: the extends are checked at send time.
    wrap: (links, c) =>
      links.map(
        (link): RedisClient => ({
          endpoint: link.endpoint,
          exec(commands) {
            for (const op of commands.flatMap(operationsOf)) {
              if (op.script === 'quorumlock:extend' || op.script === 'quorumlock:repair') {
                observe(c, op.script, lockValueOf(op));
              }
            }
            return link.exec(commands);
          },
        }),
      ),
  });

  for (const f of scenario.faults) scheduleFault(world, f, [RESOURCE]);
  const pauses = scenario.clients.map((_, c) => pauseWindows(scenario.faults, clients, c));

  const kept: Kept[] = [];
  let aborted = 0;
  let excused = 0;
  const reasons = new Map<string, number>();

  /** Watch a kept lock's signal: when it aborts, and against which deadline. */
  const watch = (c: number, lock: Lock, signal: AbortSignal): Kept => {
    const entry: Kept = { client: c, lock, extendsSent: 0, renewals: 0 };
    kept.push(entry);
    byValue.set(lock.value, entry);
    signal.addEventListener('abort', () => {
      const now = world.time.now();
      entry.abortedAt = now;
      aborted++;
      const reason = signal.reason instanceof LockLostError ? signal.reason.reason : 'other';
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      const deadline = lock.deadlineMs;
      const name = `c${c} v=${lock.value.slice(0, 6)}`;
      world.history.add(
        `c${c}`,
        `SIGNAL ABORTED (${(signal.reason as Error)?.message}), deadline ${deadline}`,
      );
      if (!(signal.reason instanceof LockLostError)) {
        violations.push(`${name}: signal aborted with ${String(signal.reason)}, not a LockLostError`);
      }
      if (now < deadline) return;
      const margin = Math.max(1, Math.floor(lock.validityMs * 0.05));
      if (pausedDuring(pauses[c]!, deadline - margin, deadline)) {
        excused++;
        return;
      }
      violations.push(`${name}: signal aborted at ${now}, not before its deadline ${deadline}`);
    });
    return entry;
  };

  /** Sleep on the process's timers, cut short (and its timer cleared) when `signal` aborts. */
  const hold = (process: SimProcess, ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = process.setTimeout(() => {
        signal.removeEventListener('abort', done);
        resolve();
      }, ms);
      const done = () => {
        process.clearTimeout(timer);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
    });

  const checkTimers = async (c: number, what: string) => {
    const redlock = world.redlocks[c]!;
    await redlock.idle();
    const live = world.processes[c]!.liveTimers;
    if (live > 0) violations.push(`c${c}: ${live} timers left after ${what}`);
  };

  const runClient = async (c: number, plan: KeptClient) => {
    const process = world.processes[c]!;
    const redlock = world.redlocks[c]!;
    await process.sleep(plan.startMs);
    for (const op of plan.ops) {
      await process.sleep(op.gapMs);
      const holdMs = Math.floor(op.ttl * op.holdTtls);
      const options =
        op.renewTtl > 0 ? { ttl: Math.max(minTtlMs(0.01), Math.ceil(op.ttl * op.renewTtl)) } : {};
      if (op.mode === 'keep') {
        let lock: Lock;
        try {
          lock = await redlock.acquire(RESOURCE, op.ttl);
        } catch (error) {
          if (error instanceof LockAcquireError) continue;
          throw error;
        }
        const keeper = redlock.keep(lock, options);
        const entry = watch(c, lock, keeper.signal);
        await hold(process, holdMs, keeper.signal);
        await keeper.stop();
        entry.renewals = keeper.renewals;
        await lock.release();
        await checkTimers(c, 'stop() and release()');
      } else {
        let entry: Kept | undefined;
        let finished = false;
        let lostFirst = false;
        let work: Promise<void> | undefined;
        const outcome = await redlock
          .using(
            RESOURCE,
            op.ttl,
            async (signal, lock) => {
              entry = watch(c, lock, signal);
              signal.addEventListener('abort', () => {
                lostFirst = !finished;
              });
              // The work ignores the signal: if the lock is lost first, `using` must reject.
              work = process.sleep(holdMs).then(() => {
                finished = true;
              });
              await work;
              return 'done';
            },
            options,
          )
          .catch((error: unknown) => error);
        if (outcome instanceof LockAcquireError) continue;
        if (!entry) {
          violations.push(`c${c}: using settled with ${String(outcome)} without running fn`);
          continue;
        }
        const name = `c${c} v=${entry.lock.value.slice(0, 6)}`;
        if (lostFirst) {
          if (!(outcome instanceof LockLostError)) {
            violations.push(`${name}: lost before fn finished, yet using settled with ${String(outcome)}`);
          }
        } else if (outcome !== 'done') {
          violations.push(`${name}: using settled with ${String(outcome)} though fn finished first`);
        }
        // fn may still be running after a loss: let it finish before counting timers.
        await work;
        await checkTimers(c, 'using() returned');
      }
    }
  };

  await world.runClients(Promise.all(scenario.clients.map((plan, c) => runClient(c, plan))));
  world.processes.forEach((p, c) => {
    if (p.liveTimers > 0) violations.push(`c${c}: ${p.liveTimers} timers left at the end`);
  });
  await world.time.drain(1_000_000);
  return { kept, reasons, aborted, excused, violations, world };
}

const report = (run: KeptRun, scenario: KeptScenario) =>
  [...run.violations, `scenario: ${JSON.stringify(scenario)}`, run.world.history.format(250)].join('\n');

describe('the lost-lock signal under admissible faults (R11)', () => {
  it('aborts before the deadline, and no extend is sent after the deadline or after the abort', async () => {
    const totals = { runs: 0, kept: 0, renewals: 0, abortedRuns: 0, cleanRuns: 0, aborts: 0, excused: 0 };
    const reasons = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(admissibleKept, async (scenario) => {
        const run = await runKept(scenario);
        totals.runs++;
        totals.kept += run.kept.length;
        totals.renewals += run.kept.reduce((n, k) => n + k.renewals, 0);
        totals.aborts += run.aborted;
        totals.excused += run.excused;
        for (const [reason, n] of run.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + n);
        if (run.aborted > 0) totals.abortedRuns++;
        // A run where locks were kept through renewals and never lost.
        else if (run.kept.some((k) => k.renewals > 0)) totals.cleanRuns++;
        if (run.violations.length > 0) throw new Error(report(run, scenario));
      }),
      simParameters('lost-lock signal before the deadline', 200),
    );
    console.log(
      `[sim] lost signal: ${totals.runs} runs, ${totals.kept} kept locks, ${totals.renewals} renewals, ${totals.aborts} aborts (${totals.excused} excused by a pause at the deadline; ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}) in ${totals.abortedRuns} runs, ${totals.cleanRuns} runs renewed and never lost`,
    );
    // Not vacuous: some runs lost a lock, others kept theirs through renewals.
    expect(totals.abortedRuns).toBeGreaterThan(0);
    expect(totals.cleanRuns).toBeGreaterThan(0);
  });
});
