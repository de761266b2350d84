import type { Command, RedisClient } from '../../../src/adapter.js';
import type { Clock, Runtime } from '../../../src/clock.js';
import { type KeepOptions, LeaseKeeper } from '../../../src/keeper.js';
import type { LeaderOptions } from '../../../src/leader.js';
import { Lease } from '../../../src/lease.js';
import { type Lock, leaseOf } from '../../../src/lock.js';
import { Redlock } from '../../../src/redlock.js';
import { Registry } from '../../../src/registry.js';
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

/**
 * Defect 1 of issue 9, back (R16): a renew leaves the local deadline alone until it succeeds.
 * `Lease.renewSent` (src/lease.ts) is told each renew's bound as +∞, so a renew with a shorter
 * TTL that fails, runs out of validity or is aborted leaves the Lock's old, longer deadline,
 * although its PEXPIRE may have landed on a majority.
 */
export function renewBoundIgnoredVariant(): Variant {
  return {
    name: 'failed renew leaves the deadline',
    install() {
      const original = Lease.prototype.renewSent;
      Lease.prototype.renewSent = function (this: Lease, _bound: number, forgetAfterMs: number) {
        return original.call(this, Number.POSITIVE_INFINITY, forgetAfterMs);
      };
      return () => {
        Lease.prototype.renewSent = original;
      };
    },
  };
}

/** An INFO reply of an old, healthy server, as the variant answers it for the core. */
const vettedInfo = (endpoint: string) =>
  `# Server\r\nredis_version:7.0.15\r\nrun_id:unvetted-${endpoint}\r\nuptime_in_seconds:86400\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n# Persistence\r\naof_enabled:1\r\n# Replication\r\nrole:master\r\n`;

/**
 * Defect 2 of issue 9, back (R17): a node whose first INFO got an error reply (BUSY, LOADING)
 * is never vetted again: no uptime guard, no duplicate check, its votes count. The old core
 * stopped probing such a node; src/nodes.ts keeps its vetting private, so the variant does it
 * in the adapter seam: from then on it answers the core's INFO itself, as an old healthy server.
 */
export function unvettedFirstContactVariant(): Variant {
  return {
    name: 'first INFO error switches vetting off',
    wrap(_time, links) {
      return links.map((link): RedisClient => {
        let state: 'unvetted' | 'vetted' | 'skipped' = 'unvetted';
        return {
          endpoint: link.endpoint,
          async exec(commands) {
            const probed = commands[0]?.type === 'info';
            if (probed && state === 'skipped') {
              const replies = await link.exec(commands.slice(1));
              return [vettedInfo(link.endpoint), ...replies];
            }
            const replies = await link.exec(commands);
            if (probed && state === 'unvetted') state = replies[0] instanceof Error ? 'skipped' : 'vetted';
            return replies;
          },
        };
      });
    },
  };
}

/**
 * Defect 3 of issue 9, back (R18): leadership ends only when a timer fires. `campaign()`'s
 * election (src/leader.ts) reports `isLeader` and `lock` from its term's keeper alone, and
 * `elected()` resolves at once while that keeper has not given up, whatever the lock's
 * deadline. (The election's own code reads `isLeader` too, as the old one did.)
 */
export function leaderIgnoresDeadlineVariant(): Variant {
  return {
    name: 'leadership outlives the lock',
    install() {
      const original = Redlock.prototype.campaign;
      Redlock.prototype.campaign = function (this: Redlock, resource: string, options: LeaderOptions) {
        let term: { signal: AbortSignal; lock: Lock } | undefined;
        // Each term starts with a keeper of its lock: that is where the term is seen.
        const keep = this.keep;
        this.keep = (lock: Lock, keepOptions?: KeepOptions) => {
          const keeper = keep.call(this, lock, keepOptions);
          term = { signal: keeper.signal, lock };
          return keeper;
        };
        const election = original.call(this, resource, options);
        const leading = () => term !== undefined && !term.signal.aborted && !term.lock.released;
        const elected = election.elected.bind(election);
        Object.defineProperties(election, {
          isLeader: { get: leading },
          lock: { get: () => (leading() ? term!.lock : undefined) },
          elected: { value: () => (leading() ? Promise.resolve({ ...term! }) : elected()) },
        });
        return election;
      };
      return () => {
        Redlock.prototype.campaign = original;
      };
    },
  };
}

/**
 * Defect 4 of issue 9, back (R19): the registry (src/registry.ts) finds a lock only by its
 * value and its resource list in the given order, so a renew or release naming the resources
 * in another order takes the server-side path, and the Lock never hears of it.
 */
export function orderedRegistryVariant(): Variant {
  return {
    name: 'registry looks locks up by ordered list',
    install() {
      const original = Registry.prototype.held;
      Registry.prototype.held = function (this: Registry, value: string, resources: readonly string[]) {
        const lock = original.call(this, value, resources);
        const same =
          lock !== undefined &&
          lock.resources.length === resources.length &&
          lock.resources.every((r, i) => resources[i] === r);
        return same ? lock : undefined;
      };
      return () => {
        Registry.prototype.held = original;
      };
    },
  };
}

/**
 * Defect 5 of issue 9, back (R20): a LeaseKeeper (src/keeper.ts) renews through the registry
 * by value, and a release does not stop it: after the release emptied the registry, its renews
 * take the server-side path and go out until one finds the keys gone.
 */
export function keeperOutlivesReleaseVariant(): Variant {
  return {
    name: 'keeper renews after release',
    redlock(redlock, process) {
      const runtime = { timers: process } as unknown as Runtime;
      redlock.keep = (lock: Lock, options: KeepOptions = {}) => {
        const lease = leaseOf(lock);
        const before = new Set(lease.keepers);
        const host = {
          renew: (held: Lock, ttl: number) => redlock.renew(held.resources, held.value, ttl),
          quorum: redlock.quorum,
        };
        const keeper = new LeaseKeeper(host, runtime, lock, options);
        for (const watcher of [...lease.keepers]) {
          if (before.has(watcher)) continue;
          lease.keepers.delete(watcher);
          lease.keepers.add({ moved: () => watcher.moved(), halt: () => {} });
        }
        return keeper;
      };
    },
  };
}
