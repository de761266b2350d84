import type { Lock } from '../../../src/lock.js';
import type { Redlock } from '../../../src/redlock.js';
import type { RenewResult } from '../../../src/renew.js';
import { exponentialRetry } from '../../../src/retry.js';
import { Claims, type ToTrue } from './claims.js';
import { shortValue } from './history.js';
import { type ClientContext, keepOp, leadOp, permuted, releaseAs, sleepWithClaims } from './modes.js';
import type { WorkloadRecord } from './record.js';
import { type ClientPlan, type OpPlan, RESOURCES, renewTtlOf, type Scenario } from './scenario.js';
import type { SimWorld } from './world.js';

export type { ToTrue } from './claims.js';
export { KNOWN_BUGS, type KnownBug, type Violation, WorkloadRecord } from './record.js';

/** Renew as the op says; the Lock's own view is checked against what the call reported. */
async function renewAs(ctx: ClientContext, redlock: Redlock, lock: Lock, op: OpPlan): Promise<boolean> {
  const ttl = renewTtlOf(op);
  const { claims } = ctx;
  let result: RenewResult | boolean;
  if (op.renewBy === 'lock') result = await lock.renew(ttl);
  else if (op.renewBy === 'other') {
    // Through another instance, only a TTL no shorter than the lock's keeps the Lock's deadline a
    // safe bound (R19: the application must treat a shorter one as shortening the lock).
    result = await ctx.world.other(ctx.client).renew(permuted(lock), lock.value, Math.max(ttl, lock.ttl));
    claims.elsewhere('renew through another instance', lock, result);
    ctx.log(`renew v=${shortValue(lock.value)} elsewhere → ${result.renewed}`);
    return result.renewed;
  } else {
    const resources = op.renewBy === 'value' ? permuted(lock) : lock.resources;
    result = await redlock.renew(resources, lock.value, ttl);
    if (op.renewBy === 'value') claims.heard('renew by value', lock, result);
  }
  const renewed = typeof result === 'boolean' ? result : result.renewed;
  const votes = typeof result === 'boolean' ? '' : ` (${result.votes}/${result.quorum})`;
  ctx.log(
    `renew v=${shortValue(lock.value)} ttl ${ttl} → ${renewed}${votes}, ${lock.remainingMs().toFixed(1)} ms left`,
  );
  if (renewed) {
    claims.success('renew', lock);
    claims.watchDeadline(lock);
  }
  return renewed;
}

/**
 * One client's plan, run through its real Redlock: acquire, then hold (read the guarded
 * counters, work renewing between chunks, check the validity left, write, release), keep, or
 * lead. Records lease windows and checks S4 and S5 claims against the nodes' ground truth.
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
  const log = (text: string) => world.history.add(process.name, text);
  const claims = new Claims(world, scenario, client, record, toTrue);
  const ctx: ClientContext = { world, scenario, client, record, claims, toTrue, log };

  await process.sleep(plan.startMs);
  for (const op of plan.ops) {
    await process.sleep(op.gapMs);
    const resources = op.resources.map((i) => RESOURCES[i % RESOURCES.length]!);
    record.operations++;
    if (op.mode === 'lead') {
      await leadOp(ctx, op, resources[0]!);
      continue;
    }
    const resource = resources.length === 1 ? resources[0]! : resources;
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
    record.acquired++;
    log(
      `ACQUIRED ${resources.join(',')} v=${shortValue(lock.value)} in ${lock.attempts} attempt(s), ${lock.remainingMs().toFixed(1)} ms of validity`,
    );
    claims.success('acquire', lock);
    claims.vetted(lock);
    claims.watchDeadline(lock);
    world.lockTaken(lock.resources, lock.value);
    if (op.mode === 'keep') await keepOp(ctx, op, lock);
    else await holdOp(ctx, op, lock);
  }
}

async function holdOp(ctx: ClientContext, op: OpPlan, lock: Lock): Promise<void> {
  const { world, record, log, claims, client } = ctx;
  const process = world.processes[client]!;
  const redlock = world.redlocks[client]!;
  const start = world.time.now();
  const margin = op.writeDelayMs + ctx.scenario.pauseBudgetMs;
  const chunks = op.renews + 1;
  const claim = () => claims.lock('remainingMs()', lock);
  const work = async (): Promise<boolean> => {
    for (let k = 0; k < chunks; k++) {
      const usable = Math.max(0, lock.remainingMs() - margin);
      await sleepWithClaims(
        ctx,
        Math.floor((usable * op.workFraction) / (chunks - k)),
        op.claims ?? 0,
        claim,
      );
      if (k === chunks - 1) break;
      record.operations++;
      if (!(await renewAs(ctx, redlock, lock, op)) && !op.trustRemaining) return false;
    }
    if (lock.remainingMs() <= margin) {
      log(`gives up the write: ${lock.remainingMs().toFixed(1)} ms left, needs more than ${margin}`);
      return false;
    }
    const paused = process.checkpoint();
    if (paused > 0) {
      log(`PAUSED for ${paused} ms right after its check`);
      world.at(world.time.now() + paused, 'checker', `${process.name} resumes`, () => record.resumed(client));
    }
    await process.sleep(op.writeDelayMs);
    return true;
  };
  const guarded = lock.resources.reduceRight<() => Promise<boolean>>(
    (inner, resource) => () => record.counters.get(resource)!.increment(inner),
    work,
  );
  const unregister = record.whileLive(client, claim);
  const wrote = await guarded();
  unregister();
  log(`${wrote ? 'WROTE' : 'did not write'} ${lock.resources.join(',')} v=${shortValue(lock.value)}`);
  const end = Math.min(world.time.now(), ctx.toTrue(lock.deadlineMs));
  for (const r of lock.resources) record.windows.push({ holder: lock.value, resource: r, start, end });
  if (op.abandon) {
    log(`walks away from v=${shortValue(lock.value)} without releasing`);
    record.abandoned.add(lock.value);
    return;
  }
  record.operations++;
  const crashes = world.nodes.map((n) => n.crashes);
  const released = await releaseAs(ctx, redlock, lock, op);
  claims.lock('after its release', lock);
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
