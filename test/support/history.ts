/**
 * A history of lock holders on real nodes, and the checks of the invariants of docs/spec.md over it:
 * S1 lease windows (checkers.ts), the guarded counter (lost updates, checkers.ts), the fenced
 * resource (stale writers rejected, as docs/fencing.md asks of a store), S2 token order and S4 (no success
 * without a quorum and a positive validity). Every time is `performance.now()` of this process,
 * one monotonic clock for every client.
 */
import type { Lock } from '../../src/lock.js';
import {
  describeOverlaps,
  findOverlaps,
  GuardedCounter,
  type LeaseWindow,
  type Overlap,
} from './checkers.js';

/** One successful acquisition, as the history keeps it. */
export interface Acquisition {
  readonly client: string;
  readonly resource: string;
  /** The lock value (unique per acquisition). */
  readonly holder: string;
  /** When `acquire` was called. */
  readonly invokedAt: number;
  /** When it returned the lock: the lease window's start. */
  readonly start: number;
  /** min(last deadline, release invoked or the holder stopped); undefined while held. */
  end: number | undefined;
  readonly token: number | null;
  readonly votes: number;
  readonly quorum: number;
  readonly validityMs: number;
}

/** One read-modify-write of a guarded counter (for locating lost updates). */
export interface GuardedUpdate {
  readonly client: string;
  readonly holder: string;
  readonly resource: string;
  readonly readAt: number;
  /** Just after the write (an upper bound of when it happened). */
  readonly wroteAt: number;
  /** The lock's deadline when the write was done. */
  readonly deadline: number;
  /** Where the holder's window had ended by then (undefined: still open). */
  readonly windowEnd: number | undefined;
}

/**
 * Pairs of updates of one resource whose read-to-write spans overlap: where lost updates come
 * from, with both holders, for a failure message or an offline look at a history.
 */
export function conflictingUpdates(updates: readonly GuardedUpdate[]): Array<[GuardedUpdate, GuardedUpdate]> {
  const pairs: Array<[GuardedUpdate, GuardedUpdate]> = [];
  const sorted = [...updates].sort((x, y) => x.readAt - y.readAt);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.readAt < sorted[i]!.wroteAt; j++) {
      if (sorted[j]!.resource === sorted[i]!.resource && sorted[j]!.holder !== sorted[i]!.holder)
        pairs.push([sorted[i]!, sorted[j]!]);
    }
  }
  return pairs;
}

/** One write to a fenced resource. */
export interface FencedWrite {
  readonly client: string;
  readonly resource: string;
  readonly token: number;
  readonly at: number;
  readonly accepted: boolean;
  /** Whether the writer's lock was still valid (before its deadline) when it wrote. */
  readonly valid: boolean;
}

/** Everything the checkers found; every list is empty in a run within the assumptions. */
export interface Violations {
  /** S1: lease windows of different holders that overlap. */
  readonly overlaps: readonly Overlap[];
  /** Updates of the guarded counters lost to concurrent holders. */
  readonly lostUpdates: number;
  /** S2: duplicate tokens, or a token not above one returned before its acquisition began. */
  readonly tokenOrder: readonly string[];
  /** S4: a lock returned without a quorum of votes or with no validity left. */
  readonly falseSuccess: readonly string[];
  /** Fenced writes rejected although the writer was within its validity (another holder was ahead). */
  readonly fencedWhileValid: readonly FencedWrite[];
}

/** Counts for a summary line. */
export function violationCount(v: Violations): number {
  return (
    v.overlaps.length +
    v.lostUpdates +
    v.tokenOrder.length +
    v.falseSuccess.length +
    v.fencedWhileValid.length
  );
}

/** A readable account of the violations, for a failing assertion. */
export function describeViolations(v: Violations): string {
  const lines: string[] = [];
  if (v.overlaps.length > 0) lines.push(`S1 overlaps:\n${describeOverlaps(v.overlaps)}`);
  if (v.lostUpdates > 0) lines.push(`guarded counters lost ${v.lostUpdates} update(s)`);
  for (const t of v.tokenOrder) lines.push(`S2: ${t}`);
  for (const f of v.falseSuccess) lines.push(`S4: ${f}`);
  for (const w of v.fencedWhileValid)
    lines.push(`fence rejected ${w.client} (token ${w.token}) on ${w.resource} while its lock was valid`);
  return lines.join('\n') || 'no violations';
}

/**
 * S2 over acquisitions: tokens are unique per resource, and an acquisition that began after
 * another returned has a greater token (real-time order of completed claims). O(n log n).
 */
export function checkTokens(acquisitions: readonly Acquisition[]): string[] {
  const problems: string[] = [];
  const byResource = new Map<string, Acquisition[]>();
  for (const a of acquisitions) {
    if (a.token === null) continue;
    const list = byResource.get(a.resource) ?? [];
    list.push(a);
    byResource.set(a.resource, list);
  }
  for (const [resource, list] of byResource) {
    const seen = new Map<number, Acquisition>();
    for (const a of list) {
      const twin = seen.get(a.token!);
      if (twin) problems.push(`${resource}: token ${a.token} issued to ${twin.client} and to ${a.client}`);
      else seen.set(a.token!, a);
    }
    const byInvoke = [...list].sort((x, y) => x.invokedAt - y.invokedAt);
    const byReturn = [...list].sort((x, y) => x.start - y.start);
    let returned = 0;
    let highest: Acquisition | undefined;
    for (const a of byInvoke) {
      while (returned < byReturn.length && byReturn[returned]!.start < a.invokedAt) {
        const r = byReturn[returned++]!;
        if (highest === undefined || r.token! > highest.token!) highest = r;
      }
      if (highest !== undefined && a.token! <= highest.token!) {
        problems.push(
          `${resource}: ${a.client} got token ${a.token} after ${highest.client} had returned with ${highest.token}`,
        );
      }
    }
  }
  return problems;
}

/** A lock being held, with what its holder does under it. */
export class Holding {
  constructor(
    readonly history: History,
    readonly lock: Lock,
    readonly record: Acquisition,
  ) {}

  get resource(): string {
    return this.record.resource;
  }

  /** Still before the local deadline (and not released): the only time the holder may act. */
  get valid(): boolean {
    return this.lock.remainingMs() > 0;
  }

  /**
   * One read-modify-write of the resource's guarded counter, taking `work` in between (a sleep,
   * or a promise the test resolves). Skipped, as a careful application would, when the lock is
   * no longer valid at the start. Resolves whether it ran.
   */
  async update(work: () => Promise<void>): Promise<boolean> {
    if (!this.valid) return false;
    const readAt = performance.now();
    await this.history.counter(this.resource).increment(work);
    this.history.updates.push({
      client: this.record.client,
      holder: this.record.holder,
      resource: this.resource,
      readAt,
      wroteAt: performance.now(),
      deadline: this.lock.deadlineMs,
      windowEnd: this.record.end,
    });
    return true;
  }

  /** Write to the resource's fenced store with this lock's token (fencing must be on). */
  write(): boolean {
    const token = this.lock.fencingToken;
    if (token === null) throw new Error('write: this lock has no fencing token (fencing is off)');
    return this.history.fencedWrite(this.record.client, this.resource, token, this.valid);
  }

  /**
   * The holder stops acting under the lock now (it is about to release it, or it crashed): the
   * window closes at min(deadline, now). Idempotent; the first call wins.
   */
  end(at = performance.now()): void {
    this.record.end ??= Math.min(this.lock.deadlineMs, at);
  }
}

/** Acquisitions, guarded counters and fenced stores of one test or soak, and the checks over them. */
export class History {
  readonly acquisitions: Acquisition[] = [];
  readonly fencedWrites: FencedWrite[] = [];
  readonly updates: GuardedUpdate[] = [];
  readonly #counters = new Map<string, GuardedCounter>();
  /** Per resource, the highest token its fenced store accepted: the store's whole state. */
  readonly #highest = new Map<string, number>();
  readonly #locks = new Map<Acquisition, Lock>();

  /** Record a lock `client` just acquired (call right after `acquire` returned). */
  acquired(client: string, lock: Lock, invokedAt: number): Holding {
    const resource = lock.resources.join(',');
    const record: Acquisition = {
      client,
      resource,
      holder: lock.value,
      invokedAt,
      start: performance.now(),
      end: undefined,
      token: lock.fencingToken,
      votes: lock.report.votes,
      quorum: lock.report.quorum,
      validityMs: lock.validityMs,
    };
    this.acquisitions.push(record);
    this.#locks.set(record, lock);
    return new Holding(this, lock, record);
  }

  /** The guarded counter of `resource`. */
  counter(resource: string): GuardedCounter {
    let counter = this.#counters.get(resource);
    if (counter === undefined) {
      counter = new GuardedCounter();
      this.#counters.set(resource, counter);
    }
    return counter;
  }

  /**
   * A write to `resource`'s fenced store, recorded. The store accepts a token at least as high as
   * every token it accepted before (the check and the write are one step), and rejects a lower one.
   */
  fencedWrite(client: string, resource: string, token: number, valid: boolean): boolean {
    const accepted = token >= (this.#highest.get(resource) ?? 0);
    if (accepted) this.#highest.set(resource, token);
    this.fencedWrites.push({ client, resource, token, at: performance.now(), accepted, valid });
    return accepted;
  }

  /** Who wrote the value `resource`'s fenced store holds: the client of its last accepted write. */
  fencedValue(resource: string): string | undefined {
    return this.fencedWrites.findLast((w) => w.resource === resource && w.accepted)?.client;
  }

  /** When `a`'s window ends: where its holder stopped, else its lock's (last) deadline. */
  endOf(a: Acquisition): number {
    return Math.max(a.start, a.end ?? this.#locks.get(a)?.deadlineMs ?? a.start + a.validityMs);
  }

  /** S1 windows: open ones (never ended) run to their lock's deadline. */
  windows(): LeaseWindow[] {
    return this.acquisitions.map((a) => ({
      holder: a.holder,
      resource: a.resource,
      start: a.start,
      end: this.endOf(a),
    }));
  }

  /** Run every checker. */
  check(): Violations {
    let lostUpdates = 0;
    for (const counter of this.#counters.values()) lostUpdates += counter.lostUpdates;
    return {
      overlaps: findOverlaps(this.windows()),
      lostUpdates,
      tokenOrder: checkTokens(this.acquisitions),
      falseSuccess: this.acquisitions
        .filter((a) => a.votes < a.quorum || !(a.validityMs > 0))
        .map(
          (a) => `${a.client} on ${a.resource}: ${a.votes}/${a.quorum} votes, validity ${a.validityMs} ms`,
        ),
      fencedWhileValid: this.fencedWrites.filter((w) => !w.accepted && w.valid),
    };
  }

  /** Plain data for a JSON history file. */
  toJSON(): object {
    return {
      acquisitions: this.acquisitions.map((a) => ({ ...a, end: this.endOf(a) })),
      fencedWrites: this.fencedWrites,
      updates: this.updates,
      conflicts: conflictingUpdates(this.updates),
      counters: Object.fromEntries(
        [...this.#counters].map(([r, c]) => [r, { value: c.value, lostUpdates: c.lostUpdates }]),
      ),
    };
  }
}
