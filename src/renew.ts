import type { Core } from './core.js';
import { active, channels, type LockTraceContext, traced } from './diagnostics.js';
import type { NodeReport } from './errors.js';
import { keysOf, sameSet } from './keys.js';
import type { Lease } from './lease.js';
import { LOCK, type Protocol } from './protocol.js';
import { deadlineMs, forgetAfterMs, nodeTimeoutMs } from './validity.js';

/** The outcome of a renew, for callers that want more than a boolean. */
export interface RenewResult {
  readonly renewed: boolean;
  /** Why not: the local deadline had passed, the lock was released, or the vote was lost or too late. */
  readonly reason?: 'expired' | 'released' | 'no-quorum' | 'validity-exhausted';
  /** New validity in ms (0 when not renewed). */
  readonly validityMs: number;
  readonly votes: number;
  readonly quorum: number;
  readonly nodes: readonly NodeReport[];
}

/** A lock of this Redlock being renewed: its resources and its lease. */
export interface Held {
  readonly resources: readonly string[];
  readonly lease: Lease;
}

/**
 * Renew (R7, R8, R16), traced on `quorumlock:renew`. For a lock this Redlock holds (`held`):
 * refused locally once released or past its deadline, with nothing sent. Otherwise a strict
 * compare-and-extend round on every node, whose validity is recomputed from the renew's own
 * start. From the moment it is sent the nodes may hold the keys for `ttl` only, so the lock's
 * deadline is bounded by this renew's whatever the outcome; a success on every key of the lock
 * sets it. Only after a strict quorum may nodes that answered "absent" get the key back (R8).
 */
export function renew(
  core: Core,
  resources: readonly string[],
  value: string,
  ttl: number,
  held: Held | undefined,
  signal: AbortSignal | undefined,
  protocol: Protocol = LOCK,
): Promise<RenewResult> {
  if (!active(channels.renew)) return renewRound(core, resources, value, ttl, held, signal, protocol);
  return traced(
    channels.renew,
    { operation: 'renew', resources, ttl },
    () => renewRound(core, resources, value, ttl, held, signal, protocol),
    settleRenew,
  );
}

function settleRenew(result: RenewResult, context: LockTraceContext): void {
  context.nodes = result.nodes;
  context.result = {
    ok: result.renewed,
    validityMs: result.validityMs,
    ...(result.reason ? { reason: result.reason } : {}),
  };
}

async function renewRound(
  core: Core,
  resources: readonly string[],
  value: string,
  ttl: number,
  held: Held | undefined,
  signal: AbortSignal | undefined,
  protocol: Protocol,
): Promise<RenewResult> {
  const { clock } = core.runtime;
  const quorum = protocol.quorum ?? core.nodes.quorum;
  const { driftFactor } = core.options;
  const lease = held?.lease;
  const refused = (reason: 'expired' | 'released'): RenewResult => ({
    renewed: false,
    reason,
    validityMs: 0,
    votes: 0,
    quorum,
    nodes: [],
  });
  if (lease?.released) return refused('released');
  if (lease && clock.now() >= lease.deadlineMs) return refused('expired');
  if (signal?.aborted) throw signal.reason;
  const keys = keysOf(core.options.keyPrefix, resources);
  const timeoutMs = nodeTimeoutMs(ttl, driftFactor, core.options.nodeTimeoutMs);
  const sentAt = clock.now();
  let seq = lease?.renewSent(deadlineMs(sentAt, ttl, driftFactor), sentAt + forgetAfterMs(ttl));
  try {
    const round = await core.nodes.round(
      protocol.extend(keys, value, ttl),
      protocol.classifyExtend,
      timeoutMs,
      'vote',
      signal,
      undefined,
      quorum,
    );
    if (round.decision === 'aborted') throw signal!.reason;
    const deadline = deadlineMs(round.startMs, ttl, driftFactor);
    const result = (renewed: boolean, reason?: RenewResult['reason']): RenewResult => ({
      renewed,
      ...(reason ? { reason } : {}),
      validityMs: renewed ? deadline - clock.now() : 0,
      votes: round.votes,
      quorum,
      nodes: round.nodes,
    });
    if (round.decision !== 'won') return result(false, 'no-quorum');
    if (clock.now() >= deadline) return result(false, 'validity-exhausted');
    if (lease?.released) return result(false, 'released');
    if (seq !== undefined) {
      // Only a renew of every key of the lock moves its deadline on; part of them only bounds it.
      lease!.renewSettled(seq, sameSet(held!.resources, resources) ? deadline : undefined);
      seq = undefined;
    }
    // R8: the strict renew reached quorum, so we held a majority throughout; only now may
    // nodes that answered "absent" get our key back (restoring redundancy after a restart).
    // Not awaited: the verdict is in and must not wait past its own deadline. The repair round
    // is bounded by the per-node timeout and tracked, so idle() still waits for it.
    const absent = round.nodes.filter((n) => n.outcome === 'not-held' && n.holder === 'absent');
    // A release sent while the repair is in flight waits for its answer (lease.creates).
    if (absent.length > 0 && protocol.repair && protocol.classifyRepair) {
      void core.nodes.round(
        protocol.repair(keys, value, ttl),
        protocol.classifyRepair,
        timeoutMs,
        'all',
        undefined,
        absent.map((n) => core.nodes.list[n.node]!),
        undefined,
        lease?.creates,
      );
    }
    return result(true);
  } finally {
    // Failed, too late or aborted: the bound set when it was sent stays.
    if (seq !== undefined) lease!.renewSettled(seq);
  }
}
