import type { Clock, Random, Runtime, Timers } from '../../src/clock.js';
import { mulberry32 } from '../../tools/random.js';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * Virtual time for tests and simulations: a monotonic clock that moves only when told, timers
 * that fire in (time, creation) order, and `run()` to drive a promise to completion by
 * alternating microtask flushes with jumps to the next timer. Deterministic for a given seed.
 */
export class VirtualTime implements Clock, Timers {
  #now: number;
  #nextId = 1;
  #timers: Pending[] = [];

  constructor(start = 1_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Move the clock forward by `ms` without firing anything (a pause of this process). */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Fire the earliest timer, moving the clock to it. False when none is left. */
  fireNext(): boolean {
    if (this.#timers.length === 0) return false;
    let first = 0;
    for (let i = 1; i < this.#timers.length; i++) {
      const t = this.#timers[i]!;
      const f = this.#timers[first]!;
      if (t.at < f.at || (t.at === f.at && t.id < f.id)) first = i;
    }
    const [timer] = this.#timers.splice(first, 1);
    this.#now = Math.max(this.#now, timer!.at);
    timer!.callback();
    return true;
  }

  /**
   * Settle `promise`, advancing virtual time only when nothing else can happen. Bounded: fails
   * after `maxSteps` timer firings, so a livelock is a test failure, not a hang.
   */
  async run<T>(promise: Promise<T>, maxSteps = 100_000): Promise<T> {
    return settle('VirtualTime.run', promise, () => this.fireNext(), maxSteps);
  }

  /** Fire every timer, including ones scheduled while firing (bounded). */
  async drain(maxSteps = 100_000): Promise<void> {
    for (let step = 0; step < maxSteps; step++) {
      await flushMicrotasks();
      if (!this.fireNext()) return;
    }
    throw new Error(`VirtualTime.drain: timers still pending after ${maxSteps} firings`);
  }
}

/**
 * The one "run until settled" loop (VirtualTime.run, the simulation's world): flush microtasks;
 * if `promise` has settled, return it; else take one `step` (fire a timer, release a scheduled
 * message) and go round again. A step that finds nothing to do means the promise is stuck.
 * Bounded by `maxSteps`, so a livelock fails instead of hanging.
 */
export async function settle<T>(
  what: string,
  promise: Promise<T>,
  step: () => boolean | Promise<boolean>,
  maxSteps: number,
): Promise<T> {
  let done = false;
  const settled = promise.finally(() => {
    done = true;
  });
  settled.catch(() => {});
  for (let i = 0; i < maxSteps; i++) {
    await flushMicrotasks();
    if (done) return promise;
    if (!(await step())) {
      await flushMicrotasks();
      if (done) return promise;
      throw new Error(`${what}: stuck with nothing left to run`);
    }
  }
  throw new Error(`${what}: not settled after ${maxSteps} steps`);
}

/** Let every queued microtask (and the ones they queue) run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A seeded Random (tools/random.ts): a simulation replays from its seed. */
export function seededRandom(seed: number): Random {
  const next = mulberry32(seed);
  return {
    fill(target) {
      for (let i = 0; i < target.length; i++) target[i] = Math.floor(next() * 256);
    },
    float: next,
  };
}

/** A full Runtime on virtual time; the wall clock is the virtual clock shifted to an epoch. */
export function virtualRuntime(time: VirtualTime, seed = 1): Runtime {
  return {
    clock: time,
    timers: time,
    random: seededRandom(seed),
    wallClock: { now: () => 1_700_000_000_000 + time.now() },
  };
}
