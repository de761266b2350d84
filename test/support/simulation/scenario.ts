import { minTtlMs } from '../../../src/validity.js';
import type { Fault } from './faults.js';

export type { Fault } from './faults.js';

/** The resources clients contend for; plans index into this list. */
export const RESOURCES = ['r0', 'r1'] as const;

/** One critical section of one client. */
export interface OpPlan {
  /** Indexes into RESOURCES (distinct): one resource, or a multi-resource lock. */
  readonly resources: readonly number[];
  readonly ttl: number;
  /** Think time before the acquisition, in ms. */
  readonly gapMs: number;
  /** Share of the usable validity spent working, spread over the renew chunks. */
  readonly workFraction: number;
  /** Renewals during the critical section. */
  readonly renews: number;
  /** Time the write takes to reach the resource after the holder's last validity check, in ms. */
  readonly writeDelayMs: number;
  /** The client walks away after its write without releasing (a crashed holder). */
  readonly abandon: boolean;
  /** Acquire with a custom (exponential) retry strategy instead of the default jittered one. */
  readonly customRetry: boolean;
  /**
   * The wider workload (absent in the older classes, which then behave as before): 'hold' works
   * and renews between chunks; 'keep' works while a LeaseKeeper renews, and releases without
   * stopping it first (the release races the keeper); 'lead' campaigns for the first resource.
   */
  readonly mode?: 'hold' | 'keep' | 'lead';
  /** TTL of each renew (and of a keeper's) as a share of the lock's TTL; absent: the lock's own. */
  readonly renewTtlShare?: number;
  /**
   * How renews and the release name the lock: the Lock, by value with the resource list
   * reversed, or by value through another Redlock instance of the same process (R19).
   */
  readonly renewBy?: 'lock' | 'value' | 'other';
  readonly releaseBy?: 'lock' | 'value' | 'other';
  /** Claims (remainingMs, isLeader, elected()) the checker reads during each chunk of work. */
  readonly claims?: number;
  /** After a failed renew, go on while `remainingMs()` leaves time (R12), instead of giving up. */
  readonly trustRemaining?: boolean;
}

/** A client that writes the guarded resource (holds a lock in 'hold' mode at some point). */
export function writes(plan: ClientPlan): boolean {
  return plan.ops.some((op) => op.mode === undefined || op.mode === 'hold');
}

/** The TTL of an op's renews: a share of the lock's, never below the smallest TTL (drift 0.01). */
export function renewTtlOf(op: OpPlan): number {
  return op.renewTtlShare === undefined
    ? op.ttl
    : Math.max(minTtlMs(0.01), Math.ceil(op.ttl * op.renewTtlShare));
}

export interface ClientPlan {
  readonly startMs: number;
  readonly retryCount: number;
  readonly retryDelay: number;
  readonly retryJitter: number;
  readonly ops: readonly OpPlan[];
}

export interface Scenario {
  /** Seeds message delays, node clock offsets and every client's randomness. */
  readonly seed: number;
  readonly nodes: number;
  readonly maxDelayMs: number;
  readonly driftFactor: number;
  readonly nodeTimeoutMs: number | undefined;
  /**
   * The application's allowance for a pause between its last validity check and its write
   * landing: it writes only while more than `writeDelayMs + pauseBudgetMs` of validity is left.
   */
  readonly pauseBudgetMs: number;
  /** Every client ignores the votes of a node up for less than this (R14's delayed restart); 0 = off. */
  readonly minNodeUptimeMs: number;
  readonly clients: readonly ClientPlan[];
  readonly faults: readonly Fault[];
}

/** The assumption classes of Redlock's safety argument (docs/spec.md, 'Assumptions'). */
export type Assumption =
  | 'clock-jump'
  | 'wipe-restart'
  | 'rollback-restart'
  | 'clock-rate'
  | 'eviction'
  | 'pause';

export function maxTtl(scenario: Omit<Scenario, 'faults'>): number {
  return Math.max(0, ...scenario.clients.flatMap((c) => c.ops.map((o) => Math.max(o.ttl, renewTtlOf(o)))));
}

/**
 * The smallest uptime guard that makes an immediate restart without data safe: a node's own
 * clock may run 1 + driftFactor times fast, and its votes must stay ignored until every lock
 * it held has passed its deadline (the max TTL after the crash).
 */
export function safeQuarantineMs(scenario: Omit<Scenario, 'faults'>): number {
  return Math.ceil(maxTtl(scenario) * maxSafeRate(scenario.driftFactor));
}

/** The largest node clock rate (local ms per true ms) the drift term covers for every TTL. */
export function maxSafeRate(driftFactor: number): number {
  return 1 + driftFactor;
}

/**
 * Which assumptions a scenario breaks (empty when admissible): a node clock stepped forward, a
 * restart that lost or rolled back data without staying down (or being ignored by the clients'
 * uptime guard) for the max TTL, a node clock
 * rate above 1 + driftFactor, an eviction, or a client that writes paused for longer in total
 * than its application allows for between its last check and its write.
 */
export function brokenAssumptions(scenario: Scenario): Assumption[] {
  const broken = new Set<Assumption>();
  const ttl = maxTtl(scenario);
  const paused = new Map<number, number>();
  for (const f of scenario.faults) {
    if (f.kind === 'clock-jump' && f.deltaMs > 0) broken.add('clock-jump');
    if (f.kind === 'clock-rate' && f.rate > maxSafeRate(scenario.driftFactor)) broken.add('clock-rate');
    const quarantined = scenario.minNodeUptimeMs >= safeQuarantineMs(scenario);
    if (f.kind === 'crash' && f.mode !== 'persist' && f.downMs < ttl && !quarantined) {
      broken.add(f.mode === 'wipe' ? 'wipe-restart' : 'rollback-restart');
    }
    if (f.kind === 'evict') broken.add('eviction');
    if (f.kind === 'pause') {
      // A stall while keeping or leading, or of a client that writes nothing, only delays what
      // it claims, which is read the moment it resumes: any length is admissible.
      const client = f.client % scenario.clients.length;
      if (f.atClaim || !writes(scenario.clients[client]!)) continue;
      paused.set(client, (paused.get(client) ?? 0) + f.durationMs);
    }
  }
  for (const total of paused.values()) if (total > scenario.pauseBudgetMs) broken.add('pause');
  return [...broken];
}
