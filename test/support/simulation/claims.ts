import type { LeaderElection } from '../../../src/leader.js';
import type { Lock } from '../../../src/lock.js';
import type { RenewResult } from '../../../src/renew.js';
import { shortValue } from './history.js';
import type { KnownBug, Violation, WorkloadRecord } from './record.js';
import type { Scenario } from './scenario.js';
import type { SimWorld } from './world.js';

/** Maps a reading of a client's clock to true time (the identity for an honest clock). */
export type ToTrue = (clientMs: number) => number;

/**
 * The checker's reading of what one client's API says, at the moment it says it (S4, S5): a
 * success, a Lock's `remainingMs()`, a LeaderElection's `isLeader` and `lock`, what `elected()`
 * resolved with, a renew's validity. Each claim must be backed by keys on a quorum now.
 */
export class Claims {
  readonly #world: SimWorld;
  readonly #scenario: Scenario;
  readonly #client: number;
  readonly #record: WorkloadRecord;
  readonly #toTrue: ToTrue;

  constructor(world: SimWorld, scenario: Scenario, client: number, record: WorkloadRecord, toTrue: ToTrue) {
    this.#world = world;
    this.#scenario = scenario;
    this.#client = client;
    this.#record = record;
    this.#toTrue = toTrue;
  }

  get #name(): string {
    return `c${this.#client}`;
  }

  get #quorum(): number {
    return this.#world.redlocks[this.#client]!.quorum;
  }

  /**
   * Nodes holding the lock's value now, or down, or ignored by the uptime guard: within the
   * assumptions a node that lost its data stays so until every lock it took part in is past
   * its deadline, so it votes for nobody meanwhile.
   */
  holdersOrDown(lock: Pick<Lock, 'resources' | 'value'>): number[] {
    const guard = this.#scenario.minNodeUptimeMs;
    return this.#world.nodes
      .filter((n) => !n.up || n.quarantined(guard) || n.holds(lock.resources, lock.value))
      .map((n) => n.index);
  }

  #violation(kind: Violation['kind'], detail: string, known?: KnownBug): void {
    this.#record.violations.push({ kind, detail, ...(known ? { known } : {}) });
  }

  /** S4: a reported success (acquire, renew) has q holders and positive validity. */
  success(what: string, lock: Lock, known?: KnownBug): void {
    const holders = this.holdersOrDown(lock);
    const remaining = lock.remainingMs();
    if (holders.length < this.#quorum || remaining <= 0) {
      this.#violation(
        'S4',
        `${this.#name} ${what} ${lock.resources.join(',')} v=${shortValue(lock.value)} reported success with [${holders.join(',')}] holding it or down/quarantined (quorum ${this.#quorum}) and ${remaining.toFixed(1)} ms of validity`,
        known,
      );
    }
  }

  /**
   * S4 (R14, R17): an acquisition counted no vote of a node its uptime guard ignores: every
   * node reported `acquired` ran the acquire while up for at least minNodeUptimeMs.
   */
  vetted(lock: Lock): void {
    const traffic = this.#world.traffic.get(lock.value);
    const unvetted = lock.report.nodes
      .filter((n) => n.outcome === 'acquired' && traffic?.quarantinedOn.has(n.node))
      .map((n) => n.node);
    if (unvetted.length === 0) return;
    this.#violation(
      'S4',
      `${this.#name} acquire v=${shortValue(lock.value)} counted the votes of [${unvetted.join(',')}], up for less than minNodeUptimeMs ${this.#scenario.minNodeUptimeMs} when they ran it`,
    );
  }

  /** S5: a renew by value through this Redlock moved its Lock to the validity it reported (R19). */
  heard(what: string, lock: Lock, result: RenewResult): void {
    if (!result.renewed || Math.abs(lock.remainingMs() - result.validityMs) <= 1) return;
    this.#violation(
      'S5',
      `${this.#name} ${what} v=${shortValue(lock.value)} renewed with ${result.validityMs.toFixed(1)} ms of validity, yet its Lock says ${lock.remainingMs().toFixed(1)} ms`,
    );
  }

  /** S4 for a renew through another Redlock instance: its success has q holders. */
  elsewhere(what: string, lock: Lock, result: RenewResult): void {
    const holders = this.holdersOrDown(lock);
    if (!result.renewed || holders.length >= this.#quorum) return;
    this.#violation(
      'S4',
      `${this.#name} ${what} v=${shortValue(lock.value)} reported success with [${holders.join(',')}] holding it (quorum ${this.#quorum})`,
    );
  }

  /** S5: while a Lock says it has validity left, q nodes hold it. */
  lock(what: string, lock: Lock): void {
    this.#record.claims++;
    if (this.#record.releasedElsewhere.has(lock.value)) return;
    const remaining = lock.remainingMs();
    if (remaining <= 0) return;
    const holders = this.holdersOrDown(lock);
    if (holders.length >= this.#quorum) return;
    this.#violation(
      'S5',
      `${this.#name} ${what}: v=${shortValue(lock.value)} on ${lock.resources.join(',')} says ${remaining.toFixed(1)} ms left${lock.released ? ' (released)' : ''}, yet only [${holders.join(',')}] hold it or are down/quarantined (quorum ${this.#quorum})`,
    );
  }

  /** S5: while an election says it leads, its lock has validity and q nodes hold it (R18). */
  leader(what: string, election: LeaderElection): void {
    this.#record.claims++;
    if (!election.isLeader) return;
    const lock = election.lock;
    if (lock === undefined) {
      this.#violation('S5', `${this.#name} ${what}: isLeader without a lock`);
      return;
    }
    this.term(what, lock);
  }

  /** S5: a term (what `elected()` resolved with, or the lock of a leader) is valid and backed now. */
  term(what: string, lock: Lock): void {
    const remaining = lock.remainingMs();
    const holders = this.holdersOrDown(lock);
    if (remaining > 0 && holders.length >= this.#quorum) return;
    this.#violation(
      'S5',
      `${this.#name} ${what}: leader of ${lock.resources.join(',')} with v=${shortValue(lock.value)}, ${remaining.toFixed(1)} ms left and [${holders.join(',')}] holding it or down/quarantined (quorum ${this.#quorum})`,
    );
  }

  /**
   * The core of Redlock's argument: while a holder may act, its keys live on a quorum. At the
   * true moment its deadline passes (unless it released or renewed before), at least q nodes
   * must still hold the value, or be down (a node that lost it stays down past the deadline).
   */
  watchDeadline(lock: Lock): void {
    const deadline = lock.deadlineMs;
    const { time } = this.#world;
    time.setTimeout(
      () => {
        if (lock.released || lock.deadlineMs !== deadline) return;
        if (this.#record.releasedElsewhere.has(lock.value)) return;
        const holding = this.holdersOrDown(lock);
        if (holding.length < this.#quorum) {
          this.#violation(
            'S4',
            `${this.#name} v=${shortValue(lock.value)} on ${lock.resources.join(',')}: at its deadline only [${holding.join(',')}] hold it or are down/quarantined (quorum ${this.#quorum}): validity outlived the keys`,
          );
        }
      },
      Math.max(0, this.#toTrue(deadline) - time.now()),
    );
  }
}
