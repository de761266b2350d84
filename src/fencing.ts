import type { Core } from './core.js';
import type { AttemptReport, NodeReport } from './errors.js';
import { fenceKeyOf, keysOf } from './keys.js';
import { DEFAULTS } from './options.js';
import type { Verdict } from './quorum.js';
import { releaseTimeoutMs } from './release.js';
import { claimScript, initFenceScript, parseClaimReply, parseInitFenceReply } from './scripts/index.js';

/** The outcome of `initFencing`: each node's counter (outcome `claimed` = created now, `too-low` = already there). */
export interface FencingInitResult {
  /** True when a quorum of nodes now has the counter. */
  readonly ready: boolean;
  /** The highest counter seen (or the floor). */
  readonly highest: number;
  readonly nodes: readonly NodeReport[];
}

/** What a claim round ended with: a token, or why not. */
export type FenceClaim =
  | { readonly outcome: 'claimed'; readonly token: number; readonly nodes: readonly NodeReport[] }
  | {
      readonly outcome: Exclude<AttemptReport['outcome'], 'acquired'>;
      readonly nodes: readonly NodeReport[];
    };

/**
 * The claim round of docs/fencing.md (R13): propose one more than the highest counter seen, and
 * keep it only if a quorum of nodes accepts it (each accepts a token at most once, and only
 * above its counter). A node without a counter answers "absent" and refuses: a wiped node can
 * never vote a token backwards ("Lost counters: absent, never stale"). Re-proposes above any
 * "too low" answer, while validity lasts.
 */
export async function claimToken(
  core: Core,
  fenceKey: string,
  acquired: readonly NodeReport[],
  deadline: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<FenceClaim> {
  const { clock } = core.runtime;
  const { quorum, size } = core.nodes;
  let proposal = 1 + Math.max(0, ...acquired.map((n) => n.counter ?? 0));
  let nodes: readonly NodeReport[] = [];
  for (let round = 0; round < DEFAULTS.maxClaimRounds && clock.now() < deadline; round++) {
    const result = await core.nodes.round(
      { type: 'eval', script: claimScript, keys: [fenceKey], args: [String(proposal)] },
      classifyClaim,
      timeoutMs,
      'vote',
      signal,
    );
    nodes = result.nodes;
    if (result.decision === 'aborted') return { outcome: 'aborted', nodes };
    if (result.decision === 'won') return { outcome: 'claimed', token: proposal, nodes };
    const absent = nodes.filter((n) => n.outcome === 'not-held').length;
    if (absent > size - quorum) return { outcome: 'fencing-uninitialized', nodes };
    proposal = 1 + Math.max(proposal, ...nodes.map((n) => (n.outcome === 'too-low' ? (n.counter ?? 0) : 0)));
  }
  const outOfTime = clock.now() >= deadline;
  return { outcome: outOfTime ? 'validity-exhausted' : classifyFailure(nodes, quorum), nodes };
}

/**
 * Create the fencing counter of `resource` at `floor` on every node where it is absent, and
 * report each node's counter. Never lowers a counter.
 */
export async function initFencing(
  core: Core,
  resource: string,
  floor: number,
  signal: AbortSignal | undefined,
): Promise<FencingInitResult> {
  const round = await core.nodes.round(
    {
      type: 'eval',
      script: initFenceScript,
      keys: [fenceKeyOf(keysOf(core.options.keyPrefix, [resource])[0]!)],
      args: [String(floor)],
    },
    (reply) => {
      const r = parseInitFenceReply(reply);
      return { outcome: r.created ? 'claimed' : 'too-low', yes: true, counter: r.value };
    },
    releaseTimeoutMs(core.options, undefined),
    'all',
    signal,
  );
  if (round.decision === 'aborted') throw signal!.reason;
  const present = round.nodes.filter((n) => n.counter !== undefined);
  return Object.freeze({
    ready: present.length >= core.nodes.quorum,
    highest: Math.max(floor, ...present.map((n) => n.counter ?? 0)),
    nodes: round.nodes,
  });
}

/**
 * "contended" when the refusals alone (a key held elsewhere, or a fencing counter already past
 * the proposal) make quorum impossible; otherwise "unavailable".
 */
export function classifyFailure(nodes: readonly NodeReport[], quorum: number): 'contended' | 'unavailable' {
  let refused = 0;
  for (const n of nodes) if (n.outcome === 'held' || n.outcome === 'too-low') refused++;
  return refused > nodes.length - quorum ? 'contended' : 'unavailable';
}

function classifyClaim(reply: unknown): Verdict {
  const r = parseClaimReply(reply);
  if (r.kind === 'accepted') return { outcome: 'claimed', yes: true, counter: r.value };
  if (r.kind === 'too-low') return { outcome: 'too-low', yes: false, counter: r.value };
  return { outcome: 'not-held', yes: false, holder: 'absent', counter: null };
}
