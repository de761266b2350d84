import type { EvalCommand } from './adapter.js';
import type { Verdict } from './quorum.js';
import {
  acquireScript,
  extendScript,
  parseAcquireReply,
  parseExtendReply,
  parseReleaseReply,
  parseRepairReply,
  releaseScript,
  repairScript,
} from './scripts/index.js';

/**
 * What one primitive sends in each operation, and how a node's reply is read. The retry loop and
 * the attempt (acquire.ts), renew (renew.ts) and release (release.ts) run any protocol: the lock
 * is one, the semaphore and the read-write lock are others (semaphore.ts, rwlock.ts). `keys` are
 * the resources' keys (prefix + resource); a protocol may derive its own keys from them.
 */
export interface Protocol {
  /** Votes a grant and a renew need; undefined: the nodes' majority (R1). */
  readonly quorum: number | undefined;
  /** The acquire command; `fenceKey` (with fencing) must be read in the same call (docs/fencing.md). */
  acquire(keys: readonly string[], value: string, ttl: number, fenceKey: string | undefined): EvalCommand;
  /** acquired (a yes) or held; constant verdicts, nothing allocated per reply. */
  readonly classifyAcquire: (reply: unknown) => Verdict;
  /** As classifyAcquire, with the fencing counter read in the same call. */
  readonly classifyFencedAcquire: (reply: unknown) => Verdict;
  release(keys: readonly string[], value: string): EvalCommand;
  /**
   * What a lost attempt sends instead of `release`, when they differ (a writer that lost keeps
   * its intent); answered as `release` is. Absent: `release`.
   */
  abandon?(keys: readonly string[], value: string): EvalCommand;
  /** released (a yes) or not-held. */
  readonly classifyRelease: (reply: unknown) => Verdict;
  /** The strict renew: never creates what is not there. */
  extend(keys: readonly string[], value: string, ttl: number): EvalCommand;
  /** renewed (a yes) or not-held. */
  readonly classifyExtend: (reply: unknown) => Verdict;
  /** R8's repair after a strict quorum; a protocol without one never re-creates. */
  repair?(keys: readonly string[], value: string, ttl: number): EvalCommand;
  readonly classifyRepair?: (reply: unknown) => Verdict;
}

export const ACQUIRED: Verdict = Object.freeze({ outcome: 'acquired', yes: true });
export const HELD: Verdict = Object.freeze({ outcome: 'held', yes: false });
export const RELEASED: Verdict = Object.freeze({ outcome: 'released', yes: true });
export const FOREIGN: Verdict = Object.freeze({ outcome: 'not-held', yes: false, holder: 'foreign' });
export const ABSENT: Verdict = Object.freeze({ outcome: 'not-held', yes: false, holder: 'absent' });
export const RENEWED: Verdict = Object.freeze({ outcome: 'renewed', yes: true });

/** A grant verdict: a constant without fencing (the hot path allocates nothing), else with the counter. */
export function grantVerdict(granted: boolean, fenced: boolean, counter: number | null): Verdict {
  if (!fenced) return granted ? ACQUIRED : HELD;
  return { outcome: granted ? 'acquired' : 'held', yes: granted, counter };
}

/** The lock: a key per resource, SET NX PX, compare-and-delete, compare-and-PEXPIRE, repair (R8). */
export const LOCK: Protocol = Object.freeze({
  quorum: undefined,
  acquire: (keys: readonly string[], value: string, ttl: number, fenceKey: string | undefined) => ({
    type: 'eval' as const,
    script: acquireScript,
    // With fencing, the counter is read in the same call (docs/fencing.md, step 1).
    keys: fenceKey ? [...keys, fenceKey] : keys,
    args: [value, String(ttl), String(keys.length)],
  }),
  classifyAcquire: (reply: unknown) => (parseAcquireReply(reply).acquired ? ACQUIRED : HELD),
  classifyFencedAcquire: (reply: unknown) => {
    const r = parseAcquireReply(reply);
    return grantVerdict(r.acquired, true, r.counter);
  },
  release: (keys: readonly string[], value: string) => ({
    type: 'eval' as const,
    script: releaseScript,
    keys,
    args: [value],
  }),
  classifyRelease: (reply: unknown) => {
    const r = parseReleaseReply(reply);
    return r.deleted > 0 ? RELEASED : r.foreign > 0 ? FOREIGN : ABSENT;
  },
  extend: (keys: readonly string[], value: string, ttl: number) => ({
    type: 'eval' as const,
    script: extendScript,
    keys,
    args: [value, String(ttl)],
  }),
  classifyExtend: (reply: unknown): Verdict => {
    const r = parseExtendReply(reply);
    if (r.extended) return RENEWED;
    return r.foreign > 0 ? FOREIGN : ABSENT;
  },
  repair: (keys: readonly string[], value: string, ttl: number) => ({
    type: 'eval' as const,
    script: repairScript,
    keys,
    args: [value, String(ttl)],
  }),
  classifyRepair: (reply: unknown) => (parseRepairReply(reply) ? RENEWED : FOREIGN),
});

/** The protocol a lost attempt cleans up with: its `abandon` in place of `release`, if it has one. */
export function abandonOf(protocol: Protocol): Protocol {
  return protocol.abandon ? { ...protocol, release: protocol.abandon } : protocol;
}
