import { GuardedCounter, type LeaseWindow } from '../checkers.js';
import { RESOURCES } from './scenario.js';

/** A violation found by a checker: its class, and what happened. */
export interface Violation {
  /**
   * S5: a claim the API made (remainingMs, isLeader, elected(), a renew's validity) not backed by
   * keys. intent: a reader granted on a node where a refused writer's intent stood (primitives).
   */
  readonly kind: 'S1' | 'S3' | 'S4' | 'S5' | 'resource' | 'L3' | 'H' | 'intent';
  readonly detail: string;
  /** Set when the violation matches a known, reported bug (see KNOWN_BUGS); counted, not failed on. */
  readonly known?: KnownBug;
}

/**
 * Bugs in src/ that the simulation found and that are reported, not yet fixed. A violation with
 * one of these signatures is counted apart, so that the suite stays red for anything new.
 */
export const KNOWN_BUGS = {} as const; // none open: 'renew-after-deadline' was fixed (renew no longer awaits its repair round)
export type KnownBug = keyof typeof KNOWN_BUGS;

/** What the clients did, as the checkers need it. */
export class WorkloadRecord {
  readonly windows: LeaseWindow[] = [];
  readonly violations: Violation[] = [];
  readonly counters = new Map<string, GuardedCounter>(RESOURCES.map((r) => [r, new GuardedCounter()]));
  /** Values of locks whose holder walked away without releasing. */
  readonly abandoned = new Set<string>();
  /** Values released through another Redlock instance: their Lock cannot know (R19). */
  readonly releasedElsewhere = new Set<string>();
  /** Per client, the claims to read the moment its process resumes from a pause. */
  readonly #onResume = new Map<number, Set<() => void>>();
  operations = 0;
  acquired = 0;
  claims = 0;

  /** Read `claim` whenever client `c` resumes from a pause, until the returned function is called. */
  whileLive(c: number, claim: () => void): () => void {
    const set = this.#onResume.get(c) ?? new Set();
    this.#onResume.set(c, set);
    set.add(claim);
    return () => set.delete(claim);
  }

  /** Client `c` resumes: read its live claims before any of its delayed timers runs. */
  resumed(c: number): void {
    for (const claim of this.#onResume.get(c) ?? []) claim();
  }
}
