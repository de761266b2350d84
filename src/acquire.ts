import type { Core } from './core.js';
import type { Creates } from './creates.js';
import { type AttemptReport, LockAcquireError } from './errors.js';
import { claimToken, classifyFailure, type FenceClaim } from './fencing.js';
import { fenceKeyOf, keysOf, resourceId } from './keys.js';
import { retryDelayOf } from './options.js';
import { abandonOf, LOCK, type Protocol } from './protocol.js';
import { createsOf, releaseRound } from './release.js';
import type { RetryContext, RetryStrategy } from './retry.js';
import { deadlineMs, nodeTimeoutMs, timeoutCappedByValidity } from './validity.js';

/** A won attempt, before it becomes a Lock. */
export interface Granted {
  readonly value: string;
  readonly attempt: number;
  readonly report: AttemptReport;
  /** start of the winning round + ttl − drift, on the monotonic clock. */
  readonly deadlineMs: number;
  /** Monotonic time just before the winning round's first send. */
  readonly startMs: number;
  readonly fencingToken: number | null;
  /** The winning round's calls that may still create the keys (its stragglers). */
  readonly creates: Creates;
}

/** How an acquisition retries. */
export interface RetryPlan {
  readonly signal: AbortSignal | undefined;
  /** Monotonic time past which no attempt starts and no delay is slept. */
  readonly until: number;
  readonly strategy: RetryStrategy;
  /** Retries after the first attempt (Infinity for a campaign). */
  readonly maxRetries: number;
  /** Keep every attempt's report for the error, or only the last (a campaign retries for ever). */
  readonly keepReports: boolean;
}

const VALUE_BYTES = 16;
/** Scratch space for a value's bytes: filled and read in one synchronous step. */
const scratch = new Uint8Array(VALUE_BYTES);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * The retry loop (R9), the only one: attempts until one wins, the strategy stops, the retries or
 * the time run out, or the signal aborts (rejecting with `signal.reason` unchanged). Between
 * attempts it sleeps the strategy's delay, cut short when a lock of this process on the same
 * resource is released (ADR 010). No sleep after the last attempt. A failure rejects with a
 * LockAcquireError carrying the attempts' reports; an absent fencing counter is not retried.
 */
export async function acquire(
  core: Core,
  resources: readonly string[],
  ttl: number,
  plan: RetryPlan,
  protocol: Protocol = LOCK,
): Promise<Granted> {
  const { clock, random } = core.runtime;
  const { signal } = plan;
  const keys = keysOf(core.options.keyPrefix, resources);
  const id = resourceId(core.nodes.id, keys);
  const began = clock.now();
  const reports: AttemptReport[] = [];
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw signal.reason;
    const outcome = await tryOnce(core, protocol, resources, keys, ttl, attempt, signal);
    if ('value' in outcome) return outcome;
    if (!plan.keepReports) reports.length = 0;
    reports.push(outcome);
    if (outcome.outcome === 'aborted') throw signal!.reason;
    // Retrying cannot create a missing fencing counter: that takes an explicit initFencing.
    if (outcome.outcome === 'fencing-uninitialized' || attempt > plan.maxRetries) break;
    const context: RetryContext = Object.freeze({
      lastAttempt: outcome,
      elapsedMs: clock.now() - began,
      random: () => random.float(),
    });
    const delay = retryDelayOf(plan.strategy(attempt, context));
    if (delay === null || clock.now() + delay >= plan.until) break;
    await core.handoff.wait(id, core.runtime.timers, delay, signal);
  }
  throw new LockAcquireError(resources, reports);
}

/**
 * One attempt (R2-R5, R13): a fresh value; the acquire script on every node, deciding at quorum;
 * with fencing, the claim round; the lock only if validity remains after the last of them.
 * A lost or late attempt releases every node that may hold the key before returning, so that a
 * client never blocks itself (R9).
 */
async function tryOnce(
  core: Core,
  protocol: Protocol,
  resources: readonly string[],
  keys: readonly string[],
  ttl: number,
  attempt: number,
  signal: AbortSignal | undefined,
): Promise<Granted | AttemptReport> {
  const { clock } = core.runtime;
  const { options, nodes } = core;
  const value = newValue(core);
  const timeoutMs = nodeTimeoutMs(ttl, options.driftFactor, options.nodeTimeoutMs);
  const fenceKey = options.fencing ? fenceKeyOf(keys[0]!) : undefined;
  const quorum = protocol.quorum ?? nodes.quorum;
  const creates = createsOf(core, resources, value, timeoutMs, protocol);
  const round = await nodes.round(
    protocol.acquire(keys, value, ttl, fenceKey),
    fenceKey ? protocol.classifyFencedAcquire : protocol.classifyAcquire,
    timeoutMs,
    'vote',
    signal,
    undefined,
    quorum,
    creates,
  );
  const deadline = deadlineMs(round.startMs, ttl, options.driftFactor);
  let outcome: AttemptReport['outcome'] =
    round.decision === 'aborted'
      ? 'aborted'
      : round.decision !== 'won'
        ? lostOutcome(
            round.nodes,
            quorum,
            timeoutCappedByValidity(ttl, options.driftFactor, options.nodeTimeoutMs),
          )
        : clock.now() < deadline
          ? 'acquired'
          : 'validity-exhausted';
  let claim: FenceClaim | undefined;
  if (outcome === 'acquired' && fenceKey) {
    claim = await claimToken(core, fenceKey, round.nodes, deadline, timeoutMs, signal);
    // The token is handed out only after this final validity check (R13; docs/fencing.md, step 3).
    outcome =
      claim.outcome === 'claimed'
        ? clock.now() < deadline
          ? 'acquired'
          : 'validity-exhausted'
        : claim.outcome;
  }
  const report: AttemptReport = Object.freeze({
    attempt,
    outcome,
    votes: round.votes,
    quorum,
    elapsedMs: round.decidedMs - round.startMs,
    nodes: round.nodes,
    ...(claim ? { claim: claim.nodes } : {}),
  });
  if (outcome === 'acquired') {
    const fencingToken = claim?.outcome === 'claimed' ? claim.token : null;
    return { value, attempt, report, deadlineMs: deadline, startMs: round.startMs, fencingToken, creates };
  }
  // Every node that may hold the key gets the release, those that errored or timed out
  // included: their SET may have landed (R5). A "held" answer proves the script wrote nothing,
  // so those nodes are spared. Done before the next attempt, so a client never blocks itself (R9).
  // A lost vote's stragglers are released once they answered, and only if they did not say "held"
  // (under contention they mostly do): waiting for them is bounded by the round's node timeout.
  // Any other failure (a won vote past its validity, a failed claim, an abort) releases the
  // stragglers at once, as it does every node that did not say "held".
  const { final } = round;
  const cleanup = abandonOf(protocol);
  creates.abandoned();
  const now = round.nodes.filter(
    (n) => n.outcome !== 'held' && (final === undefined || n.outcome !== 'pending'),
  );
  await Promise.all([
    release(
      core,
      cleanup,
      resources,
      value,
      timeoutMs,
      now.map((n) => n.node),
      creates,
    ),
    final?.then((outcomes) => {
      const late = round.nodes.filter((n, i) => n.outcome === 'pending' && outcomes[i] !== 'held');
      return release(
        core,
        cleanup,
        resources,
        value,
        timeoutMs,
        late.map((n) => n.node),
        creates,
      );
    }),
  ]);
  // A straggler that answers only now (after its node timed out) may have run after the release
  // sent to it (a NOSCRIPT detour): if it says it acquired, its node is released again.
  creates.waitInIdle();
  return report;
}

/** Release `value` on the nodes at `indices`, if any. */
async function release(
  core: Core,
  protocol: Protocol,
  resources: readonly string[],
  value: string,
  timeoutMs: number,
  indices: readonly number[],
  creates: Creates,
): Promise<void> {
  if (indices.length === 0) return;
  await releaseRound(
    core,
    resources,
    value,
    timeoutMs,
    undefined,
    indices.map((i) => core.nodes.list[i]!),
    protocol,
    creates.releases,
  );
}

/**
 * Why a round was lost. Nodes that only timed out, when the per-node timeout was the validity
 * itself (a short TTL), were not shown unavailable: the TTL left them too little time, so the
 * attempt is `validity-exhausted`, as a quorum that answered too late would be.
 */
function lostOutcome(
  reports: AttemptReport['nodes'],
  quorum: number,
  cappedByValidity: boolean,
): AttemptReport['outcome'] {
  const failure = classifyFailure(reports, quorum);
  if (failure !== 'unavailable' || !cappedByValidity) return failure;
  const timedOut = reports.some((n) => n.outcome === 'timeout');
  const otherwise = reports.some((n) => !['timeout', 'acquired', 'held', 'pending'].includes(n.outcome));
  return timedOut && !otherwise ? 'validity-exhausted' : failure;
}

/** A fresh 128-bit value from the injected randomness, as hex (R2). */
/** 128 random bits as 32 hex digits (R2): a lock value, or any other id that must not repeat. */
export function newValue(core: Core): string {
  core.runtime.random.fill(scratch);
  let out = '';
  for (let i = 0; i < VALUE_BYTES; i++) out += HEX[scratch[i]!];
  return out;
}
