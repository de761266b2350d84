/**
 * node-redlock v5's error classes and per-attempt statistics, as its users' code reads them
 * (docs/migrating.md). Written for quorumlock: the statistics are built from quorumlock's own
 * per-node reports, and the failure of an acquisition carries quorumlock's LockAcquireError as
 * its `cause`, with every node's outcome and latency.
 */

/**
 * What one attempt of an operation saw: node-redlock's `ExecutionStats`. Clients are the ioredis
 * instances given to the Redlock; every node's answer is in `votesFor` or `votesAgainst`.
 */
export interface ExecutionStats<C = unknown> {
  readonly membershipSize: number;
  readonly quorumSize: number;
  readonly votesFor: Set<C>;
  readonly votesAgainst: Map<C, Error>;
}

/** The attempts of a release (or any operation), each a promise of its statistics. */
export interface ExecutionResult<C = unknown> {
  attempts: ReadonlyArray<Promise<ExecutionStats<C>>>;
}

/** A node held a key of the resources under another value: its vote against. */
export class ResourceLockedError extends Error {
  override name = 'ResourceLockedError';
  constructor(message: string) {
    super(message);
  }
}

/** The message node-redlock 5.0.0-beta.2 (the published v5) gives an operation that failed its retries. */
export const NO_QUORUM = 'The operation was unable to achieve a quorum during its retry window.';

/** An operation that did not reach a quorum within its retries, with every attempt's statistics. */
export class ExecutionError<C = unknown> extends Error {
  override name = 'ExecutionError';
  readonly attempts: ReadonlyArray<Promise<ExecutionStats<C>>>;
  constructor(
    message: string,
    attempts: ReadonlyArray<Promise<ExecutionStats<C>>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.attempts = attempts;
  }
}

/** node-redlock's vote against on a node that holds another value: "applied to 0 of N". */
export function lockedError(resources: number): ResourceLockedError {
  return new ResourceLockedError(`The operation was applied to: 0 of the ${resources} requested resources.`);
}
