import type { Timers } from './clock.js';
import type { NodeOutcome } from './errors.js';

/** What a round tells about the calls it sends: each one, then its answer (once, late or not). */
export interface CallWatcher {
  sent(node: number): void;
  answered(node: number, outcome: NodeOutcome): void;
}

/**
 * The calls that may create a lock's keys (its acquire attempt's, a renew's repair) and have not
 * answered yet (R6, docs/spec.md). On one connection, calls run in the order they were sent, so
 * a release sent after a create runs after it and answers after it; an adapter that meets
 * NOSCRIPT breaks that order: it sends the script again as EVAL once the answer is back, behind
 * the release sent meanwhile, which has run and answered by then. So a create that answers
 * "created" on a node where the lock's release has already answered ran after that release:
 * that node is released again. `releases` watches the release rounds for that; a release waits
 * (`settled`) for the creates in flight, and idle() for at most one node timeout (`waitInIdle`).
 */
export class Creates implements CallWatcher {
  readonly #release: (node: number, abandoned: boolean) => Promise<unknown>;
  readonly #idle: { hold(): () => void };
  readonly #timers: Timers;
  readonly #waitMs: number;
  /** Creates sent and not answered. */
  #pending = 0;
  #abandoned = false;
  /** By node index: a release of the lock has answered there. */
  #releasedOn: boolean[] | undefined;
  #quiet: Array<() => void> | undefined;
  #again: Promise<unknown>[] | undefined;
  #idleHeld = false;

  /**
   * `release(node, abandoned)`: send the lock's release (a lost attempt's cleanup when
   * `abandoned`) to that node alone, never rejecting; `idle.hold()`: count work as in flight for
   * idle() until the returned function is called; `waitMs`: how long idle() waits, after the
   * release, for creates still in flight (one node timeout: a NOSCRIPT detour is one more round
   * trip, and a node that does not answer at all, partitioned or down, must not hold idle()).
   */
  constructor(
    release: (node: number, abandoned: boolean) => Promise<unknown>,
    idle: { hold(): () => void },
    timers: Timers,
    waitMs: number,
  ) {
    this.#release = release;
    this.#idle = idle;
    this.releases = new ReleaseAnswers(this);
    this.#timers = timers;
    this.#waitMs = waitMs;
  }

  /** The watcher of the lock's release rounds: which nodes have answered a release. */
  readonly releases: CallWatcher;

  /** A release of the lock has answered on `node`. */
  releaseAnswered(node: number): void {
    if (!this.#releasedOn) this.#releasedOn = [];
    this.#releasedOn[node] = true;
  }

  sent(_node: number): void {
    this.#pending++;
  }

  answered(node: number, outcome: NodeOutcome): void {
    this.#pending--;
    if (this.#releasedOn?.[node] && (outcome === 'acquired' || outcome === 'renewed')) {
      const done = this.#idle.hold();
      const again = this.#release(node, this.#abandoned).finally(done);
      if (this.#again) this.#again.push(again);
      else this.#again = [again];
    }
    if (this.#pending === 0 && this.#quiet) for (const wake of this.#quiet.splice(0)) wake();
  }

  /** An attempt that lost: a late create is cleaned up as the attempt's own cleanup was. */
  abandoned(): void {
    this.#abandoned = true;
  }

  /** Creates in flight, or releases they called for not done yet. */
  get busy(): boolean {
    return this.#pending > 0 || this.#again !== undefined;
  }

  /** After the release: idle() waits for the creates still in flight, at most `waitMs`. */
  waitInIdle(): void {
    if (this.#pending === 0 || this.#idleHeld) return;
    this.#idleHeld = true;
    const done = this.#idle.hold();
    const timer = this.#timers.setTimeout(done, this.#waitMs);
    this.#whenQuiet(() => {
      this.#timers.clearTimeout(timer);
      done();
    });
  }

  /**
   * Resolves once every create in flight has answered, or `ms` have passed, and the releases
   * their answers called for are done.
   */
  async settled(ms: number): Promise<void> {
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#timers.setTimeout(resolve, ms);
        this.#whenQuiet(() => {
          this.#timers.clearTimeout(timer);
          resolve();
        });
      });
    }
    if (this.#again) await Promise.all(this.#again);
  }

  #whenQuiet(wake: () => void): void {
    if (this.#quiet) this.#quiet.push(wake);
    else this.#quiet = [wake];
  }
}

/** Tells a Creates which nodes have answered a release of its lock. */
class ReleaseAnswers implements CallWatcher {
  readonly #creates: Creates;

  constructor(creates: Creates) {
    this.#creates = creates;
  }

  sent(_node: number): void {}

  answered(node: number): void {
    this.#creates.releaseAnswered(node);
  }
}
