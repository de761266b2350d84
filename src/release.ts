import type { Core } from './core.js';
import { type CallWatcher, Creates } from './creates.js';
import { active, channels, type LockTraceContext, traced } from './diagnostics.js';
import type { NodeReport } from './errors.js';
import { keysOf } from './keys.js';
import type { NodeState } from './nodes.js';
import { DEFAULTS, type ResolvedOptions } from './options.js';
import { abandonOf, LOCK, type Protocol } from './protocol.js';
import { nodeTimeoutMs } from './validity.js';

/** The outcome of a release: every node's answer, after every node answered or timed out. */
export interface ReleaseResult {
  readonly resources: readonly string[];
  /** Nodes that deleted at least one of our keys. */
  readonly releasedCount: number;
  /** Nodes where our value was not there (expired, never set, or taken by someone else since). */
  readonly notHeldCount: number;
  /** Nodes that errored or timed out: their keys, if any, expire on their own. */
  readonly failedCount: number;
  readonly nodes: readonly NodeReport[];
}

/**
 * The per-node timeout of a release: the configured one; else that of the lock's own TTL when
 * this Redlock took it; else a fixed default (a value from elsewhere has no known TTL).
 */
export function releaseTimeoutMs(options: ResolvedOptions, ttl: number | undefined): number {
  if (options.nodeTimeoutMs !== undefined) return options.nodeTimeoutMs;
  return ttl === undefined
    ? DEFAULTS.releaseNodeTimeoutMs
    : nodeTimeoutMs(ttl, options.driftFactor, undefined);
}

/** A release as the caller sees it: traced on `quorumlock:release`. */
export function release(
  core: Core,
  resources: readonly string[],
  value: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  protocol: Protocol = LOCK,
  watcher?: CallWatcher,
): Promise<ReleaseResult> {
  if (!active(channels.release))
    return releaseRound(core, resources, value, timeoutMs, signal, undefined, protocol, watcher);
  return traced(
    channels.release,
    { operation: 'release', resources },
    () => releaseRound(core, resources, value, timeoutMs, signal, undefined, protocol, watcher),
    settleRelease,
  );
}

function settleRelease(result: ReleaseResult, context: LockTraceContext): void {
  context.nodes = result.nodes;
  context.result = { ok: result.releasedCount > 0, releasedCount: result.releasedCount };
}

/** Release `value` on node `index` alone; never rejects. */
function releaseOn(
  core: Core,
  resources: readonly string[],
  value: string,
  timeoutMs: number,
  index: number,
  protocol: Protocol,
): Promise<unknown> {
  const node = [core.nodes.list[index]!];
  return releaseRound(core, resources, value, timeoutMs, undefined, node, protocol).catch(() => {});
}

/** The creates of `value` (creates.ts): a late one is followed by a release of its node. */
export function createsOf(
  core: Core,
  resources: readonly string[],
  value: string,
  timeoutMs: number,
  protocol: Protocol,
): Creates {
  const { nodes, runtime } = core;
  const abandon = abandonOf(protocol);
  const release = (node: number, abandoned: boolean) =>
    releaseOn(core, resources, value, timeoutMs, node, abandoned ? abandon : protocol);
  return new Creates(release, nodes, runtime.timers, timeoutMs);
}

/**
 * The release of a lock this Redlock holds (its lease already marked released): the release
 * round, then, if creates of the lock were in flight, until they have answered (at most the
 * release's node timeout) and the releases their late answers called for are done. So when it
 * resolves, no node that answered holds the key, even one whose create came after the release
 * (a NOSCRIPT detour). The result is the release round's.
 */
export async function releaseHeld(
  core: Core,
  creates: Creates | undefined,
  resources: readonly string[],
  value: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  protocol: Protocol = LOCK,
): Promise<ReleaseResult> {
  const result = await release(core, resources, value, timeoutMs, signal, protocol, creates?.releases);
  if (!creates?.busy) return result;
  creates.waitInIdle();
  // Counted by idle() while it waits: the release may run in the background (a keeper, using).
  const done = core.nodes.hold();
  try {
    await creates.settled(timeoutMs);
  } finally {
    done();
  }
  return result;
}

/**
 * Compare-and-delete on every node (or on `subset`), R6: resolves when each has answered or
 * timed out; never deletes another value's key; "not held" is a status, never an error.
 */
export async function releaseRound(
  core: Core,
  resources: readonly string[],
  value: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  subset?: readonly NodeState[],
  protocol: Protocol = LOCK,
  watcher?: CallWatcher,
): Promise<ReleaseResult> {
  const round = await core.nodes.round(
    protocol.release(keysOf(core.options.keyPrefix, resources), value),
    protocol.classifyRelease,
    timeoutMs,
    'all',
    signal,
    subset,
    undefined,
    watcher,
  );
  if (round.decision === 'aborted') throw signal!.reason;
  let releasedCount = 0;
  let notHeldCount = 0;
  for (const n of round.nodes) {
    if (n.outcome === 'released') releasedCount++;
    else if (n.outcome === 'not-held') notHeldCount++;
  }
  return Object.freeze({
    resources,
    releasedCount,
    notHeldCount,
    failedCount: round.nodes.length - releasedCount - notHeldCount,
    nodes: round.nodes,
  });
}
