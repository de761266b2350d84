/**
 * Errors and per-node reports. Reports are plain data, complete when handed out: no promises,
 * nothing to await to learn what each node said.
 */

/** What one node answered in one round. */
export type NodeOutcome =
  /** acquire: the node set our keys */
  | 'acquired'
  /** acquire: a key on the node is held by another value */
  | 'held'
  /** renew: the node extended our keys */
  | 'renewed'
  /** release: the node deleted at least one of our keys */
  | 'released'
  /** renew / release: the node does not hold our value (absent or foreign, see `holder`) */
  | 'not-held'
  /** the node answered with an error, or the call failed (refused, closed) */
  | 'error'
  /** no answer within the per-node timeout: unknown, never a vote (R5) */
  | 'timeout'
  /** the operation was aborted before this node answered */
  | 'aborted'
  /** the round was decided before this node answered (its answer is not counted here) */
  | 'pending'
  /** this node is the same server as an earlier one (same run_id): its vote is ignored */
  | 'duplicate'
  /** the node's uptime is below `minNodeUptimeMs`: it may have lost keys in a restart, so its vote is ignored */
  | 'quarantined'
  /** fencing claim: the node accepted the proposed token */
  | 'claimed'
  /** fencing claim: the node's counter is already at or above the proposal (see `counter`) */
  | 'too-low';

/** One node's answer in one round: its outcome, latency in ms, and the error or holder when there is one. */
export interface NodeReport {
  /** Index of the node in the client list given to the Redlock. */
  readonly node: number;
  readonly endpoint: string;
  readonly outcome: NodeOutcome;
  /** Milliseconds from the start of the round to this node's answer; null without an answer. */
  readonly latencyMs: number | null;
  /** For `not-held`: whether our keys were absent or held by another value. */
  readonly holder?: 'absent' | 'foreign';
  /** For `error` (and `duplicate`: the node it duplicates): what went wrong. */
  readonly error?: Error;
  /** With fencing: the node's counter as read by acquire or returned by a claim; null when absent. */
  readonly counter?: number | null;
}

/** Why an acquisition failed: another holder (`contended`), too few answers (`unavailable`), a quorum too late (`validity-exhausted`), or no fencing counter (`fencing-uninitialized`). */
export type AcquireFailure = 'contended' | 'unavailable' | 'validity-exhausted' | 'fencing-uninitialized';

/** One attempt of an acquisition: every node's answer and the verdict. */
export interface AttemptReport {
  /** 1-based attempt number. */
  readonly attempt: number;
  readonly outcome: 'acquired' | AcquireFailure | 'aborted';
  /** Nodes that voted yes (counted, not duplicates). */
  readonly votes: number;
  readonly quorum: number;
  /** Milliseconds from the first send to the decision, on the monotonic clock. */
  readonly elapsedMs: number;
  readonly nodes: readonly NodeReport[];
  /** With fencing: the last claim round's per-node answers. */
  readonly claim?: readonly NodeReport[];
}

/** Base class of every error quorumlock throws on purpose. */
export class QuorumlockError extends Error {
  override name = 'QuorumlockError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  /** `JSON.stringify(error)` keeps the message, and each node's error as name, message and code. */
  toJSON(): Record<string, unknown> {
    return { ...ownFields(this), message: this.message };
  }
}

/** Bad input: names the argument, the accepted range and what was received. */
export class InvalidArgumentError extends TypeError {
  override name = 'InvalidArgumentError';
  readonly code = 'ERR_QUORUMLOCK_INVALID_ARGUMENT';
  readonly argument: string;
  readonly expected: string;
  constructor(argument: string, expected: string, received: unknown, hint?: string) {
    super(`${argument} must be ${expected}, received ${describe(received)}${hint ? `: ${hint}` : ''}`);
    this.argument = argument;
    this.expected = expected;
  }
  /** `JSON.stringify(error)` keeps the message, and each node's error as name, message and code. */
  toJSON(): Record<string, unknown> {
    return { ...ownFields(this), message: this.message };
  }
}

/** An acquisition that did not succeed within its retries, with every attempt's report. */
export class LockAcquireError extends QuorumlockError {
  override name = 'LockAcquireError';
  /** Why the last attempt failed. */
  readonly reason: AcquireFailure;
  readonly resources: readonly string[];
  readonly attempts: readonly AttemptReport[];
  constructor(resources: readonly string[], attempts: readonly AttemptReport[]) {
    const last = attempts[attempts.length - 1]!;
    const reason = last.outcome as AcquireFailure;
    super(
      `ERR_QUORUMLOCK_${reason.toUpperCase().replace('-', '_')}`,
      `acquire ${resources.join(', ')} failed after ${attempts.length} attempt${attempts.length === 1 ? '' : 's'}: ` +
        `${reason}: ${summarizeNodes(last)}` +
        (reason === 'fencing-uninitialized'
          ? `; the fencing counter is absent on too many nodes (claim: ${countOutcomes(last.claim ?? [])}): ` +
            'initialise it with redlock.initFencing(resource, { floor }), floor at least the highest token ever issued'
          : ''),
    );
    this.reason = reason;
    this.resources = resources;
    this.attempts = attempts;
  }
  /** The nodes of the last attempt. */
  get nodes(): readonly NodeReport[] {
    return this.attempts[this.attempts.length - 1]!.nodes;
  }
}

/** Why a held lock was lost. */
export type LostReason =
  /** a renew found the lock held by another value, or absent, on too many nodes */
  | 'not-held'
  /** the deadline came (minus the safety margin) without a successful renew */
  | 'expired'
  /** the configured maximum number of renewals was reached, and the lock lapsed */
  | 'renewal-limit'
  /** the lock was released while it was being kept */
  | 'released';

/**
 * The reason of the AbortSignal handed to a critical section when its lock is lost, and what
 * `using` rejects with when the work does not finish first. Raised before the deadline.
 */
export class LockLostError extends QuorumlockError {
  override name = 'LockLostError';
  readonly reason: LostReason;
  readonly resources: readonly string[];
  /** The per-node answers of the last renew, when one was sent. */
  readonly nodes: readonly NodeReport[];
  constructor(resources: readonly string[], reason: LostReason, nodes: readonly NodeReport[] = []) {
    super(
      'ERR_QUORUMLOCK_LOST',
      `lock on ${resources.join(', ')} lost: ${reason}` +
        (nodes.length > 0 ? `; last renew: ${countOutcomes(nodes)}` : ''),
    );
    this.reason = reason;
    this.resources = resources;
    this.nodes = nodes;
  }
}

/** What `LeaderElection.stop()` settles a pending `elected()` with, and the term signal's reason. */
export class ElectionStoppedError extends QuorumlockError {
  override name = 'ElectionStoppedError';
  readonly resource: string;
  constructor(resource: string) {
    super('ERR_QUORUMLOCK_ELECTION_STOPPED', `leader election for ${resource} stopped`);
    this.resource = resource;
  }
}

/**
 * `2/5 votes (quorum 3) in 4.1 ms: 2 acquired, 2 held, 1 ECONNREFUSED`. Errors are grouped by
 * their code or first word, so a message says what happened without a stack of node dumps.
 */
export function summarizeNodes(report: {
  votes: number;
  quorum: number;
  elapsedMs: number;
  nodes: readonly NodeReport[];
}): string {
  return `${report.votes}/${report.nodes.length} votes (quorum ${report.quorum}) in ${report.elapsedMs.toFixed(1)} ms: ${countOutcomes(report.nodes)}`;
}

/** `2 acquired, 2 held, 1 ECONNREFUSED`: outcomes counted, errors grouped by code or first word. */
export function countOutcomes(nodes: readonly NodeReport[]): string {
  const counts = new Map<string, number>();
  /** The first message of each error group: the cause belongs in the message itself. */
  const messages = new Map<string, string>();
  for (const n of nodes) {
    const key = n.outcome === 'error' && n.error ? errorLabel(n.error) : n.outcome;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (n.outcome === 'error' && n.error && !messages.has(key)) messages.set(key, shortMessage(n.error, key));
  }
  return [...counts].map(([k, v]) => `${v} ${k}${messages.get(k) ?? ''}`).join(', ');
}

/** ` ("The client is closed")`, or nothing when the message adds nothing to the label. */
function shortMessage(error: Error, label: string): string {
  const message = error.message.trim();
  if (message === '' || message === label) return '';
  return ` (${JSON.stringify(message.length > 80 ? `${message.slice(0, 80)}...` : message)})`;
}

/** One line per node, for test failures and the demo. */
export function formatNodes(nodes: readonly NodeReport[]): string {
  return nodes
    .map(
      (n) =>
        `  node ${n.node} ${n.endpoint}: ${n.outcome}${n.holder ? ` (${n.holder})` : ''}` +
        `${n.counter === undefined ? '' : ` counter=${n.counter ?? 'absent'}`}` +
        `${n.latencyMs === null ? '' : ` ${n.latencyMs.toFixed(1)} ms`}${n.error ? ` ${errorLabel(n.error)}: ${n.error.message}` : ''}`,
    )
    .join('\n');
}

/**
 * `2 acquired, 2 held, 1 ECONNREFUSED`: an error is named by its code, the first word of an
 * error reply, or its class (node-redis's `ClientClosedError` keeps the name `Error`).
 */
function errorLabel(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code) return code;
  const first = /^[A-Z][A-Z_]+\b/.exec(error.message);
  return first ? first[0] : errorName(error);
}

/** The error's name, or its class's when the name is the generic `Error`. */
export function errorName(error: Error): string {
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return error.name === 'Error' && typeof ctor === 'string' && ctor !== '' ? ctor : error.name;
}

/**
 * An error as plain data (`JSON.stringify` of an Error gives `{}`): name, message, code, and
 * the cause's, at most a few levels deep.
 */
export function errorJSON(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const out: Record<string, unknown> = { name: errorName(error), message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.cause !== undefined && depth < 3) out.cause = errorJSON(error.cause, depth + 1);
  return out;
}

/** A node report as plain data: its error (if any) as name, message and code. */
export function nodeReportJSON(this: NodeReport): Record<string, unknown> {
  return this.error === undefined ? { ...this } : { ...this, error: errorJSON(this.error) };
}

/** An attempt report as plain data, its nodes' errors included. */
function attemptJSON(attempt: AttemptReport): Record<string, unknown> {
  const nodes = (list: readonly NodeReport[]) => list.map((n) => nodeReportJSON.call(n));
  return {
    ...attempt,
    nodes: nodes(attempt.nodes),
    ...(attempt.claim ? { claim: nodes(attempt.claim) } : {}),
  };
}

function ownFields(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'attempts' && Array.isArray(value)) out[key] = value.map(attemptJSON);
    else if (key === 'nodes' && Array.isArray(value)) out[key] = value.map((n) => nodeReportJSON.call(n));
    else out[key] = value;
  }
  if (error.cause !== undefined) out.cause = errorJSON(error.cause);
  return out;
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== 'Object' ? `an instance of ${ctor}` : 'an object';
}
