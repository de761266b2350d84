import type { Lock } from '../../../src/lock.js';
import type { Redlock } from '../../../src/redlock.js';
import type { Claims, ToTrue } from './claims.js';
import { shortValue } from './history.js';
import type { WorkloadRecord } from './record.js';
import { type OpPlan, renewTtlOf, type Scenario } from './scenario.js';
import type { SimWorld } from './world.js';

/** What one client's op needs: its world, its Redlock, its claims checker and a logger. */
export interface ClientContext {
  readonly world: SimWorld;
  readonly scenario: Scenario;
  readonly client: number;
  readonly record: WorkloadRecord;
  readonly claims: Claims;
  readonly toTrue: ToTrue;
  readonly log: (text: string) => void;
}

/** The resource list as a call by value names it: reversed (a set is a set, R19). */
export function permuted(lock: Lock): string[] {
  return [...lock.resources].reverse();
}

/** Sleep `ms` on the client's process in `claims + 1` pieces, reading `claim` between them. */
export async function sleepWithClaims(
  ctx: ClientContext,
  ms: number,
  claims: number,
  claim: () => void,
): Promise<void> {
  const process = ctx.world.processes[ctx.client]!;
  const pieces = claims + 1;
  for (let i = 0; i < pieces; i++) {
    if (i > 0) claim();
    await process.sleep(Math.floor(ms / pieces));
  }
}

/** Release as the op says: through the Lock, by value (reversed list), or through another instance. */
export async function releaseAs(ctx: ClientContext, redlock: Redlock, lock: Lock, op: OpPlan) {
  if (op.releaseBy === 'other') {
    ctx.record.releasedElsewhere.add(lock.value);
    return ctx.world.other(ctx.client).releaseLock(permuted(lock), lock.value);
  }
  if (op.releaseBy === 'value') return redlock.releaseLock(permuted(lock), lock.value);
  return lock.release();
}

/**
 * A claim point of a keeper or a leader: read the claims, then start a stall armed for such a
 * moment (a stalled event loop), and read them again the moment it resumes.
 */
function claimPoint(ctx: ClientContext, claim: () => void): () => void {
  const { world, record, client } = ctx;
  const process = world.processes[client]!;
  return () => {
    claim();
    const stalled = process.claimPoint();
    if (stalled === 0) return;
    world.history.add(process.name, `STALLED for ${stalled} ms`);
    world.at(world.time.now() + stalled, 'checker', `${process.name} resumes: claims read`, () =>
      record.resumed(client),
    );
  };
}

/** How long a keeper or a leader holds: its work share of `renews + 1` TTLs. */
function holdMs(op: OpPlan): number {
  return Math.max(1, Math.floor(op.ttl * (op.renews + 1) * op.workFraction));
}

/**
 * Keep: a LeaseKeeper renews (with the op's renew TTL) while the holder works and reads its
 * Lock as a claim; then the holder releases without stopping the keeper first, so the release
 * races the keeper's next renew (R20). Through another instance the Lock cannot hear of the
 * release, so there the holder stops its keeper first, as R19 asks of the application.
 */
export async function keepOp(ctx: ClientContext, op: OpPlan, lock: Lock): Promise<void> {
  const { world, record, claims, client, log } = ctx;
  const redlock = world.redlocks[client]!;
  const start = world.time.now();
  const ttl = renewTtlOf(op);
  const keeper = redlock.keep(lock, ttl === lock.ttl ? {} : { ttl });
  // Read whether or not the keeper gave up: the Lock's own deadline is the truth (R12).
  const claim = () => claims.lock('kept, remainingMs()', lock);
  const unregister = record.whileLive(client, claim);
  await sleepWithClaims(ctx, holdMs(op), op.claims ?? 0, claimPoint(ctx, claim));
  unregister();
  const end = Math.min(world.time.now(), ctx.toTrue(lock.deadlineMs));
  for (const r of lock.resources) record.windows.push({ holder: lock.value, resource: r, start, end });
  log(
    `kept v=${shortValue(lock.value)}: ${keeper.renewals} renewals${keeper.signal.aborted ? `, lost (${(keeper.signal.reason as Error).message})` : ''}`,
  );
  if (op.abandon) {
    await keeper.stop();
    record.abandoned.add(lock.value);
    return;
  }
  if (op.releaseBy === 'other') await keeper.stop();
  record.operations++;
  await releaseAs(ctx, redlock, lock, op);
  claims.lock('after its release', lock);
}

/**
 * Lead: campaign for `resource` for a while, reading `isLeader`, `lock` and `elected()` as
 * claims at arbitrary points, and the moment the process resumes from a pause (before any of
 * its delayed timers has run); then stop.
 */
export async function leadOp(ctx: ClientContext, op: OpPlan, resource: string): Promise<void> {
  const { world, record, claims, client, log } = ctx;
  const redlock = world.redlocks[client]!;
  // Every term starts with a keeper; a lost term is not released, by design (its keys expire,
  // R11), so each term's value is exempt from release coverage (L3).
  const keep = redlock.keep;
  redlock.keep = (lock, options) => {
    record.abandoned.add(lock.value);
    return keep.call(redlock, lock, options);
  };
  // A campaign retries forever: never with no delay, or virtual time could stand still.
  const delay = Math.max(5, redlock.options.retryDelay);
  const election = redlock.campaign(resource, { ttl: op.ttl, retryStrategy: () => delay });
  const pending: Array<Promise<unknown>> = [];
  const askElected = (when: string) => {
    pending.push(
      election.elected().then(
        (term) => claims.term(`elected() asked ${when}`, term.lock),
        () => {},
      ),
    );
  };
  const claim = () => {
    claims.leader('isLeader', election);
    askElected(`at ${world.time.now()}`);
  };
  askElected('at the start');
  const unregister = record.whileLive(client, () => {
    claims.leader('isLeader right after a pause', election);
    askElected(`right after a pause, at ${world.time.now()}`);
  });
  await sleepWithClaims(ctx, holdMs(op), op.claims ?? 0, claimPoint(ctx, claim));
  unregister();
  log(`stops campaigning for ${resource} after ${election.terms} term(s)`);
  await election.stop();
  redlock.keep = keep;
  await Promise.all(pending);
}
