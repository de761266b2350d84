import type { Timers } from './clock.js';
import type { NodeOutcome } from './errors.js';

/** What a round tells about each call it sends: returns the function its answer is given to. */
export type OnSend = (node: number) => (outcome: NodeOutcome) => void;

/**
 * The calls that may create a lock's keys (its acquire attempt's, a renew's repair) and have not
 * answered yet, by node (R6, docs/spec.md). An adapter that meets NOSCRIPT sends the script again
 * as EVAL, behind whatever was sent on that connection meanwhile, so a release sent before a
 * create has answered may run on the node before the create does. Once `released()` is called,
 * every create that then answers that it created the key is followed by `release(node)`;
 * `settled()` lets a release wait until the creates in flight have answered, and idle() waits
 * for them too, for as long as their keys could exist.
 */
export class Creates {
  readonly #release: (node: number, abandoned: boolean) => Promise<unknown>;
  readonly #hold: () => () => void;
  readonly #timers: Timers;
  /** Node → creates sent there and not answered. */
  readonly #inFlight = new Map<number, number>();
  #released = false;
  #abandoned = false;
  #quiet: Array<() => void> = [];
  #again: Promise<unknown>[] = [];

  /**
   * `release(node, abandoned)`: send the lock's release (a lost attempt's cleanup when
   * `abandoned`) to that node alone, never rejecting; `hold()`: count work as in flight for
   * idle() until the returned function is called.
   */
  constructor(
    release: (node: number, abandoned: boolean) => Promise<unknown>,
    hold: () => () => void,
    timers: Timers,
  ) {
    this.#release = release;
    this.#hold = hold;
    this.#timers = timers;
  }

  /** For a round's `onSend`: counts the call, and reads its answer when it lands, late or not. */
  readonly onSend: OnSend = (node) => {
    this.#inFlight.set(node, (this.#inFlight.get(node) ?? 0) + 1);
    let answered = false;
    return (outcome) => {
      if (answered) return;
      answered = true;
      const left = this.#inFlight.get(node)! - 1;
      if (left > 0) this.#inFlight.set(node, left);
      else this.#inFlight.delete(node);
      if (this.#released && (outcome === 'acquired' || outcome === 'renewed')) {
        const done = this.#hold();
        this.#again.push(this.#release(node, this.#abandoned).finally(done));
      }
      if (this.#inFlight.size === 0) for (const wake of this.#quiet.splice(0)) wake();
    };
  };

  /**
   * The lock is released (or the attempt given up): from now on, a late create is released
   * again (`abandoned`: an attempt that lost, cleaned up as one). idle() waits for the creates
   * in flight until they answer or `forgetMs` pass (after that, any key they made has run out
   * its TTL).
   */
  released(forgetMs: number, abandoned = false): void {
    if (this.#released) return;
    this.#released = true;
    this.#abandoned = abandoned;
    if (this.#inFlight.size === 0) return;
    const done = this.#hold();
    const timer = this.#timers.setTimeout(done, Math.max(0, forgetMs));
    this.#quiet.push(() => {
      this.#timers.clearTimeout(timer);
      done();
    });
  }

  /** Nodes with a create in flight. */
  get pending(): number {
    return this.#inFlight.size;
  }

  /**
   * Resolves once every create in flight has answered, or `ms` have passed, and the releases
   * their answers called for are done.
   */
  async settled(timers: Timers, ms: number): Promise<void> {
    if (this.#inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = timers.setTimeout(resolve, ms);
        this.#quiet.push(() => {
          timers.clearTimeout(timer);
          resolve();
        });
      });
    }
    await Promise.all(this.#again);
  }
}
