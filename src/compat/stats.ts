import type { NodeReport } from '../errors.js';
import { type ExecutionStats, lockedError } from './errors.js';

/** The outcomes that are a vote for the operation. */
const FOR = new Set(['acquired', 'renewed', 'released']);

/**
 * node-redlock's statistics of one attempt, from quorumlock's per-node report: a yes outcome is
 * a vote for; `held` and `not-held` are a ResourceLockedError; an error is itself; a node with no
 * answer (timeout, pending when the round was decided, aborted) gets an Error that says so.
 */
export function statsOf<C>(
  nodes: readonly NodeReport[],
  quorum: number,
  clients: readonly C[],
  resources: number,
): ExecutionStats<C> {
  const votesFor = new Set<C>();
  const votesAgainst = new Map<C, Error>();
  for (const n of nodes) {
    const client = clients[n.node]!;
    if (FOR.has(n.outcome)) votesFor.add(client);
    else votesAgainst.set(client, againstError(n, resources));
  }
  return { membershipSize: clients.length, quorumSize: quorum, votesFor, votesAgainst };
}

export function againstError(n: NodeReport, resources: number): Error {
  if (n.outcome === 'held' || n.outcome === 'not-held') return lockedError(resources);
  if (n.error) return n.error;
  return new Error(`${n.endpoint}: ${n.outcome} (no vote: quorumlock counts no answer as a no)`);
}
