import type { Timers } from './clock.js';
import type { NodeOutcome } from './errors.js';

/** What a round tells about the calls it sends: each one, then its answer (once, late or not). */
export interface CallWatcher {
  sent(node: number): void;
  answered(node: number, outcome: NodeOutcome): void;
}

/**
 * The calls that may create a lock's keys (its acquire attempt's, a renew's repair) and have not
 * answered yet (R6, docs/spec.md). An adapter that meets NOSCRIPT sends the script again
 * as EVAL, behind whatever was sent on that connection meanwhile, so a release sent before a
 * create has answered may run on the node before the create does. Once `released()` is called,
 * every create that then answers that it created the key is followed by `release(node)`;
 * `settled()` lets a release wait until the creates in flight have answered, and idle() waits
 * for them too, for as long as their keys could exist.
 */
export class Creates implements CallWatcher {
  readonly #release: (node: number, abandoned: boolean) => Promise<unknown>;
  readonly #hold: () => () => void;
  readonly #timers: Timers;
  readonly #waitMs: number;
  /** Creates sent and not answered. */
  #pending = 0;
  #released = false;
  #abandoned = false;
  #quiet: Array<() => void> | undefined;
  #again: Promise<unknown>[] | undefined;

  /**
   * `release(node, abandoned)`: send the lock's release (a lost attempt's cleanup when
   * `abandoned`) to that node alone, never rejecting; `hold()`: count work as in flight for
   * idle() until the returned function is called; `waitMs`: how long idle() waits, after the
   * release, for creates still in flight (one node timeout: a NOSCRIPT detour is one more round
   * trip, and a node that does not answer at all, partitioned or down, must not hold idle()).
   */
  constructor(
    release: (node: number, abandoned: boolean) => Promise<unknown>,
    hold: () => () => void,
    timers: Timers,
    waitMs: number,
  ) {
    this.#release = release;
    this.#hold = hold;
    this.#timers = timers;
    this.#waitMs = waitMs;
  }

  sent(_node: number): void {
    this.#pending++;
  }

  answered(node: number, outcome: NodeOutcome): void {
    this.#pending--;
    if (this.#released && (outcome === 'acquired' || outcome === 'renewed')) {
      const done = this.#hold();
      const again = this.#release(node, this.#abandoned).finally(done);
      if (this.#again) this.#again.push(again);
      else this.#again = [again];
    }
    if (this.#pending === 0 && this.#quiet) for (const wake of this.#quiet.splice(0)) wake();
  }

  /**
   * The lock is released (or the attempt given up): from now on, a late create is released
   * again (`abandoned`: an attempt that lost, cleaned up as one). idle() waits for the creates
   * in flight until they answer or `waitMs` pass; an answer later than that still brings its
   * release, after idle().
   */
  released(abandoned = false): void {
    if (this.#released) return;
    this.#released = true;
    this.#abandoned = abandoned;
    if (this.#pending === 0) return;
    const done = this.#hold();
    const timer = this.#timers.setTimeout(done, this.#waitMs);
    this.#whenQuiet(() => {
      this.#timers.clearTimeout(timer);
      done();
    });
  }

  /** Creates in flight. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Resolves once every create in flight has answered, or `ms` have passed, and the releases
   * their answers called for are done.
   */
  async settled(timers: Timers, ms: number): Promise<void> {
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = timers.setTimeout(resolve, ms);
        this.#whenQuiet(() => {
          timers.clearTimeout(timer);
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
