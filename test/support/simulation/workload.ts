import type { Lock } from '../../../src/lock.js';
import { exponentialRetry } from '../../../src/retry.js';
import { GuardedCounter, type LeaseWindow } from '../checkers.js';
import { shortValue } from './history.js';
import { type ClientPlan, type OpPlan, RESOURCES, type Scenario } from './scenario.js';
import type { SimWorld } from './world.js';

/** A violation found by a checker: its class, and what happened. */
export interface Violation {
  readonly kind: 'S1' | 'S3' | 'S4' | 'resource' | 'L3' | 'H';
  readonly detail: string;
  /** Set when the violation matches a known, reported bug (see KNOWN_BUGS); counted, not failed on. */
  readonly known?: KnownBug;
}

/**
 * Bugs in src/ that the simulation found and that are reported, not yet fixed. A violation with
 * one of these signatures is counted apart, so that the suite stays red for anything new.
 */
export const KNOWN_BUGS = {} as const; // none open: 'renew-after-deadline' was fixed (renew no longer awaits its repair round)
export type KnownBug = keyof typeof KNOWN_BUGS;

/** What the clients did, as the checkers need it. */
export class WorkloadRecord {
  readonly windows: LeaseWindow[] = [];
  readonly violations: Violation[] = [];
  readonly counters = new Map<string, GuardedCounter>(RESOURCES.map((r) => [r, new GuardedCounter()]));
  /** Values of locks whose holder walked away without releasing. */
  readonly abandoned = new Set<string>();
  operations = 0;
  acquired = 0;
}

/** Maps a reading of a client's clock to true time (the identity for an honest clock). */
export type ToTrue = (clientMs: number) => number;

/**
 * One client's plan, run through its real Redlock: acquire, read the guarded counters, work
 * (renewing between chunks), check the validity left, write, release. Records lease windows
 * and checks S4 at every reported success against the nodes' ground truth.
 */
export async function runClient(
  world: SimWorld,
  scenario: Scenario,
  client: number,
  plan: ClientPlan,
  record: WorkloadRecord,
  toTrue: ToTrue,
): Promise<void> {
  const process = world.processes[client]!;
  const redlock = world.redlocks[client]!;
  const now = () => world.time.now();
  const log = (text: string) => world.history.add(process.name, text);

  /**
   * Nodes holding the lock's value now, or down, or ignored by the uptime guard: within the
   * assumptions a node that lost its data stays so until every lock it took part in is past
   * its deadline, so it votes for nobody meanwhile.
   */
  const holdersOrDown = (lock: Lock) =>
    world.nodes
      .filter((n) => !n.up || n.quarantined(scenario.minNodeUptimeMs) || n.holds(lock.resources, lock.value))
      .map((n) => n.index);

  const checkSuccess = (what: string, lock: Lock, known?: KnownBug) => {
    const keys = lock.resources;
    const holders = holdersOrDown(lock);
    const remaining = lock.remainingMs();
    if (holders.length < redlock.quorum || remaining <= 0) {
      record.violations.push({
        kind: 'S4',
        detail: `${process.name} ${what} ${keys.join(',')} v=${shortValue(lock.value)} reported success with [${holders.join(',')}] holding it or down/quarantined (quorum ${redlock.quorum}) and ${remaining.toFixed(1)} ms of validity`,
        ...(known ? { known } : {}),
      });
    }
  };

  /**
   * The core of Redlock's argument: while a holder may act, its keys live on a quorum. At the
   * true moment its deadline passes (unless it released or renewed before), at least q nodes
   * must still hold the value, or be down (a node that lost it stays down past the deadline).
   */
  const watchDeadline = (lock: Lock) => {
    const deadline = lock.deadlineMs;
    world.time.setTimeout(
      () => {
        if (lock.released || lock.deadlineMs !== deadline) return;
        const holding = holdersOrDown(lock);
        if (holding.length < redlock.quorum) {
          record.violations.push({
            kind: 'S4',
            detail: `${process.name} v=${shortValue(lock.value)} on ${lock.resources.join(',')}: at its deadline only [${holding.join(',')}] hold it or are down/quarantined (quorum ${redlock.quorum}): validity outlived the keys`,
          });
        }
      },
      Math.max(0, toTrue(deadline) - now()),
    );
  };

  const critical = async (lock: Lock, op: OpPlan): Promise<boolean> => {
    const margin = op.writeDelayMs + scenario.pauseBudgetMs;
    const chunks = op.renews + 1;
    const work = async (): Promise<boolean> => {
      for (let k = 0; k < chunks; k++) {
        const usable = Math.max(0, lock.remainingMs() - margin);
        await process.sleep(Math.floor((usable * op.workFraction) / (chunks - k)));
        if (k === chunks - 1) break;
        record.operations++;
        const result = await redlock.renew(lock.resources, lock.value, op.ttl);
        log(
          `renew v=${shortValue(lock.value)} → ${result.renewed} (${result.votes}/${result.quorum}), ${lock.remainingMs().toFixed(1)} ms left`,
        );
        if (!result.renewed) return false;
        checkSuccess('renew', lock);
        watchDeadline(lock);
      }
      if (lock.remainingMs() <= margin) {
        log(`gives up the write: ${lock.remainingMs().toFixed(1)} ms left, needs more than ${margin}`);
        return false;
      }
      const paused = process.checkpoint();
      if (paused > 0) log(`PAUSED for ${paused} ms right after its check`);
      await process.sleep(op.writeDelayMs);
      return true;
    };
    const guarded = lock.resources.reduceRight<() => Promise<boolean>>(
      (inner, resource) => () => record.counters.get(resource)!.increment(inner),
      work,
    );
    return guarded();
  };

  await process.sleep(plan.startMs);
  for (const op of plan.ops) {
    await process.sleep(op.gapMs);
    const resources = op.resources.map((i) => RESOURCES[i % RESOURCES.length]!);
    const resource = resources.length === 1 ? resources[0]! : resources;
    record.operations++;
    const lock = op.customRetry
      ? await redlock.acquireLockWithCustomRetry(
          resource,
          op.ttl,
          exponentialRetry({ baseMs: Math.max(1, plan.retryDelay) }),
        )
      : await redlock.acquireLock(resource, op.ttl);
    if (!lock) {
      log(`acquire ${resources.join(',')} failed`);
      continue;
    }
    const start = now();
    record.acquired++;
    log(
      `ACQUIRED ${resources.join(',')} v=${shortValue(lock.value)} in ${lock.attempts} attempt(s), ${lock.remainingMs().toFixed(1)} ms of validity`,
    );
    checkSuccess('acquire', lock);
    watchDeadline(lock);
    const wrote = await critical(lock, op);
    log(`${wrote ? 'WROTE' : 'did not write'} ${resources.join(',')} v=${shortValue(lock.value)}`);
    const end = Math.min(now(), toTrue(lock.deadlineMs));
    for (const r of resources) record.windows.push({ holder: lock.value, resource: r, start, end });
    if (op.abandon) {
      log(`walks away from v=${shortValue(lock.value)} without releasing`);
      record.abandoned.add(lock.value);
      continue;
    }
    record.operations++;
    const crashes = world.nodes.map((n) => n.crashes);
    const released = await lock.release();
    if (released.failedCount === 0) {
      // A node that crashed meanwhile may have rolled back to before the release: not a leak.
      const left = world
        .holders(lock.resources, lock.value)
        .filter((i) => world.nodes[i]!.crashes === crashes[i]);
      if (left.length > 0) {
        record.violations.push({
          kind: 'H',
          detail: `${process.name} released v=${shortValue(lock.value)} on every node, yet nodes [${left.join(',')}] still hold it`,
        });
      }
    }
  }
}
