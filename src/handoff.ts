import type { Clock, Timers } from './clock.js';

/**
 * Local hand-off between the Redlock instances of one process (ADR 010). It never grants a
 * lock: a woken waiter still runs a full attempt with a fresh value and its own validity. When a
 * lock of this process is released, the first waiter for that resource (in arrival order) ends
 * its retry delay at once instead of polling again later. Delays are never made longer.
 */
export class Handoff {
  /** Resource id → waiters in arrival order. */
  readonly #waiting = new Map<string, Array<() => void>>();

  /** A lock of this process on `id` was released: wake the first waiter. */
  released(id: string): void {
    this.#waiting.get(id)?.[0]?.();
  }

  /** Sleep up to `ms`, or until woken by a release of `id`; rejects with `signal.reason` on abort. */
  wait(id: string, timers: Timers, ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const leave = () => {
        timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const queue = this.#waiting.get(id)!;
        queue.splice(queue.indexOf(wake), 1);
        if (queue.length === 0) this.#waiting.delete(id);
      };
      const wake = () => {
        leave();
        resolve();
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
      };
      const timer = timers.setTimeout(wake, ms);
      // Not `{ once: true }`: leave() removes the listener, whether the wait ends by abort or not.
      signal?.addEventListener('abort', onAbort);
      const queue = this.#waiting.get(id);
      if (queue) queue.push(wake);
      else this.#waiting.set(id, [wake]);
    });
  }
}

const perClock = new WeakMap<Clock, Handoff>();

/** The hand-off shared by every Redlock on this clock (separate simulated worlds never mix). */
export function handoffFor(clock: Clock): Handoff {
  let handoff = perClock.get(clock);
  if (!handoff) {
    handoff = new Handoff();
    perClock.set(clock, handoff);
  }
  return handoff;
}
