import { flushMicrotasks } from '../virtual-time.js';

/**
 * The one "run until settled" loop of the simulation: flush microtasks; if `promise` has
 * settled, return it; else take one `step` (fire a timer, release a scheduled message) and go
 * round again. A step that finds nothing to do means the promise is stuck. Bounded by
 * `maxSteps`, so a livelock fails instead of hanging.
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
