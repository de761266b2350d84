import type { Command, RedisClient } from '../../../src/adapter.js';
import type { Clock } from '../../../src/clock.js';
import { acquireScript, releaseScript } from '../../../src/scripts/index.js';
import { nodeTimeoutMs } from '../../../src/validity.js';
import type { VirtualTime } from '../virtual-time.js';
import { lockValueOf, operationsOf, rewriteOperations } from './operations.js';
import type { Variant } from './run.js';

/**
 * A clock that stands still while any acquire call of its client is in flight, and otherwise
 * runs at the true rate: a Redlock on it computes its validity as if every round took no time
 * (the "validity not reduced by elapsed time" bug). `toTrue` maps its readings back.
 */
export class StallingClock implements Clock {
  readonly #time: VirtualTime;
  #lag = 0;
  #stalledAt: number | undefined;
  #inFlight = 0;
  /** Running periods: from true time `from`, the reading is true time − `lag`. */
  readonly #periods: Array<{ from: number; lag: number }> = [{ from: Number.NEGATIVE_INFINITY, lag: 0 }];

  constructor(time: VirtualTime) {
    this.#time = time;
  }

  now(): number {
    return (this.#stalledAt ?? this.#time.now()) - this.#lag;
  }

  enter(): void {
    if (this.#inFlight++ === 0) this.#stalledAt = this.#time.now();
  }

  leave(): void {
    if (--this.#inFlight > 0 || this.#stalledAt === undefined) return;
    this.#lag += this.#time.now() - this.#stalledAt;
    this.#stalledAt = undefined;
    this.#periods.push({ from: this.#time.now(), lag: this.#lag });
  }

  /**
   * The first true time at which this clock read `reading`; a reading still ahead is placed as
   * if the clock ran at the true rate from now on.
   */
  toTrue(reading: number): number {
    const current = this.now();
    if (reading > current) return this.#time.now() + (reading - current);
    for (let i = 0; i < this.#periods.length; i++) {
      const { from, lag } = this.#periods[i]!;
      const next = this.#periods[i + 1];
      const stalledFrom = next ? next.from - (next.lag - lag) : (this.#stalledAt ?? Number.POSITIVE_INFINITY);
      if (reading <= stalledFrom - lag) return Math.max(from, reading + lag);
    }
    return reading + this.#lag;
  }
}

const carriesAcquire = (commands: readonly Command[]) =>
  commands.some((c) => operationsOf(c).some((op) => op.script === acquireScript.name));

/**
 * Broken variant: validity is not reduced by the time the acquisition took. The Redlock's
 * clock stalls while an acquire call is in flight (each call counts until it settles or the
 * per-node timeout the core would give it runs out).
 */
export function stalledClockVariant(options: {
  readonly driftFactor: number;
  readonly nodeTimeoutMs: number | undefined;
}): Variant {
  const clocks: StallingClock[] = [];
  return {
    name: 'validity not reduced by elapsed time',
    clock(time, _process, client) {
      clocks[client] = new StallingClock(time);
      return clocks[client]!;
    },
    wrap(time, links, client) {
      const clock = () => clocks[client]!;
      return links.map((link) => ({
        endpoint: link.endpoint,
        exec(commands) {
          if (!carriesAcquire(commands)) return link.exec(commands);
          clock().enter();
          let left = false;
          const leave = () => {
            if (left) return;
            left = true;
            time.clearTimeout(timer);
            clock().leave();
          };
          const ttl = Math.max(
            ...commands
              .flatMap(operationsOf)
              .flatMap((op) => (op.script === acquireScript.name ? [Number(op.args[1])] : [])),
          );
          const timer = time.setTimeout(
            leave,
            nodeTimeoutMs(ttl, options.driftFactor, options.nodeTimeoutMs),
          );
          const call = link.exec(commands);
          call.then(leave, leave);
          return call;
        },
      }));
    },
  };
}

/** A value no lock ever has: a release carrying it deletes nothing. */
const SWALLOWED = 'swallowed-release';

/**
 * Broken variant: releases skip the nodes whose acquire never answered (timed out, or its reply
 * was lost), although their SET may have landed: R5 says such a node still gets the release.
 * The skipped release still travels, emptied (it carries a value nobody holds), so the core's
 * accounting is unchanged; only the node's key is left to its TTL.
 */
export function releaseOnlyAnsweredVariant(): Variant {
  return {
    name: 'release only where the acquire answered',
    wrap(_time, links) {
      return links.map((link): RedisClient => {
        const answered = new Set<string>();
        return {
          endpoint: link.endpoint,
          async exec(commands) {
            const sent = commands.map((c) =>
              c.type === 'eval'
                ? rewriteOperations(c, (op) =>
                    op.script === releaseScript.name && !answered.has(lockValueOf(op))
                      ? [SWALLOWED, ...op.args.slice(1)]
                      : op.args,
                  )
                : c,
            );
            const replies = await link.exec(sent);
            for (const op of commands.flatMap(operationsOf)) {
              if (op.script === acquireScript.name) answered.add(lockValueOf(op));
            }
            return replies;
          },
        };
      });
    },
  };
}
