import type fc from 'fast-check';
import type { VirtualTime } from '../virtual-time.js';
import { settle } from '../virtual-time.js';
import type { Carrier, SimLink } from './link.js';

/**
 * Messages whose arrival order fast-check's scheduler chooses: every request's arrival at its
 * node and every reply's arrival at its client is a scheduled task, so the scheduler explores
 * the interleavings between links (and with anything else it schedules), while each link stays
 * FIFO in each direction. Virtual time does not move for messages at all.
 */
export function scheduledCarrier(s: fc.Scheduler): (time: VirtualTime) => Carrier {
  return () => {
    const tails = new WeakMap<SimLink, { request: Promise<void>; reply: Promise<void> }>();
    const enqueue = (link: SimLink, direction: 'request' | 'reply', run: () => void) => {
      const tail = tails.get(link) ?? { request: Promise.resolve(), reply: Promise.resolve() };
      tails.set(link, tail);
      tail[direction] = tail[direction]
        .then(() => s.schedule(Promise.resolve(), `${link.name} ${direction}`))
        .then(run);
    };
    return {
      request: (link, _delayMs, arrive) => enqueue(link, 'request', arrive),
      reply: (link, _delayMs, deliver) => enqueue(link, 'reply', deliver),
    };
  };
}

/**
 * Settle `promise` in a world whose messages are scheduled: release scheduled tasks one at a
 * time, in the scheduler's order, and move virtual time (per-node timeouts, retry delays) only
 * when no task is waiting. Bounded, so a livelock fails instead of hanging.
 */
export function settleScheduled<T>(
  s: fc.Scheduler,
  time: VirtualTime,
  promise: Promise<T>,
  maxSteps = 100_000,
): Promise<T> {
  return settle(
    'settleScheduled',
    promise,
    async () => {
      if (s.count() === 0) return time.fireNext();
      await s.waitNext(1);
      return true;
    },
    maxSteps,
  );
}
