import type { Command, RedisClient } from '../../../src/adapter.js';
import type { Clock, Runtime } from '../../../src/clock.js';
import type { RedlockOptions } from '../../../src/options.js';
import { Redlock } from '../../../src/redlock.js';
import { parseAcquireReply } from '../../../src/scripts/index.js';
import { seededRandom, settle, VirtualTime, virtualRuntime } from '../virtual-time.js';
import { History } from './history.js';
import { type Carrier, SimLink, timedCarrier } from './link.js';
import { lockValueOf, operationReplies, operationsOf } from './operations.js';
import { SimProcess } from './process.js';
import { SimNode } from './sim-node.js';

/** A 32-bit seed for one part of a run (a link, a client), derived from the run's seed. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const part of parts) {
    h = Math.imul(h ^ (part + 0x7f4a7c15), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** What the links saw sent for one lock value: the ground truth of R5/R6 coverage. */
export interface ValueTraffic {
  readonly client: number;
  readonly keys: readonly string[];
  /** Nodes sent its acquire. */
  readonly acquiredOn: Set<number>;
  /** Nodes whose answer to the acquire reached the client and said "held": nothing was written. */
  readonly refusedOn: Set<number>;
  /** Nodes sent its release. */
  readonly releasedOn: Set<number>;
  /** Nodes that ran (not merely received) a release of this value, with their crash count then. */
  readonly releaseRanOn: Map<number, number>;
  /** When its client first sent a release of it. */
  releaseSentAt?: number;
  /** Nodes that ran its acquire while its client's uptime guard ignores them (R14). */
  readonly quarantinedOn: Set<number>;
}

export interface WorldOptions {
  readonly nodes: number;
  readonly clients: number;
  readonly seed: number;
  /** One-way message delays are uniform in [0, maxDelayMs]. */
  readonly maxDelayMs: number;
  readonly nodeClocks?: ReadonlyArray<{ readonly offsetMs?: number; readonly rate?: number }>;
  /** Options for each client's Redlock (the runtime is the world's). */
  readonly redlock: (client: number) => Omit<RedlockOptions, 'runtime'>;
  /** How messages travel; defaults to delays on virtual time. */
  readonly carrier?: (time: VirtualTime) => Carrier;
  /** Replace a client's clock (broken variants). */
  readonly clock?: (process: SimProcess, client: number) => Clock;
  /** Wrap a client's adapters (broken variants). */
  readonly wrap?: (links: readonly SimLink[], client: number) => RedisClient[];
}

/**
 * N simulated nodes and M client processes on one virtual time, each client with its own
 * Redlock (the real one) over its own links, its own seeded randomness, and pause-aware timers.
 */
export class SimWorld {
  readonly time = new VirtualTime(0);
  readonly history = new History(() => this.time.now());
  readonly nodes: SimNode[];
  readonly processes: SimProcess[];
  readonly links: SimLink[][];
  readonly redlocks: Redlock[];
  readonly clocks: Clock[];
  /** Per lock value, which nodes were sent its acquire and its release. */
  readonly traffic = new Map<string, ValueTraffic>();
  /** Calls the links carried. */
  nodeCalls = 0;
  /** Extends and repairs of a value sent after a release of it was (H: nothing renews a released lock). */
  readonly renewsAfterRelease: string[] = [];
  readonly warnings: string[] = [];
  /** Per process: its live timers when its Redlocks' idle() resolved (runClients). */
  readonly timersAtIdle: number[] = [];
  readonly #others = new Map<number, Redlock>();
  readonly #makeOther: (client: number) => Redlock;
  /** Each client's uptime guard (minNodeUptimeMs), for the ground truth of its votes. */
  readonly #guards: number[];

  constructor(options: WorldOptions) {
    const { time, history } = this;
    this.nodes = Array.from(
      { length: options.nodes },
      (_, i) => new SimNode(i, time, history, options.nodeClocks?.[i] ?? {}),
    );
    this.processes = Array.from({ length: options.clients }, (_, c) => new SimProcess(`c${c}`, time));
    const carrier = (options.carrier ?? timedCarrier)(time);
    const observer = {
      sent: (link: SimLink, commands: readonly Command[]) => this.#sent(link, commands),
      ran: (link: SimLink, commands: readonly Command[]) => this.#ran(link, commands),
      answered: (link: SimLink, commands: readonly Command[], replies: readonly unknown[]) =>
        this.#answered(link, commands, replies),
    };
    this.links = this.processes.map((process, c) =>
      this.nodes.map(
        (node, n) =>
          new SimLink({
            process,
            node,
            time,
            history,
            carrier,
            random: seededRandom(deriveSeed(options.seed, 1, c, n)),
            maxDelayMs: options.maxDelayMs,
            observer,
          }),
      ),
    );
    this.clocks = this.processes.map((p, c) => options.clock?.(p, c) ?? p.clock);
    this.#guards = this.processes.map((_, c) => options.redlock(c).minNodeUptimeMs ?? 0);
    const runtimeOf = (c: number, part: number): Runtime => ({
      ...virtualRuntime(time, deriveSeed(options.seed, part, c)),
      clock: this.clocks[c]!,
      timers: this.processes[c]!,
    });
    this.redlocks = this.processes.map((_, c) => {
      const clients = options.wrap?.(this.links[c]!, c) ?? this.links[c]!;
      return this.#quietly(() => new Redlock(clients, { ...options.redlock(c), runtime: runtimeOf(c, 2) }));
    });
    this.#makeOther = (c) =>
      this.#quietly(() => new Redlock(this.links[c]!, { ...options.redlock(c), runtime: runtimeOf(c, 4) }));
  }

  /**
   * A second Redlock instance in client `c`'s process, over the same connections (made on first
   * use): it knows none of the first one's locks, so a renew or release through it is the
   * server-side path (R19).
   */
  other(c: number): Redlock {
    let redlock = this.#others.get(c);
    if (!redlock) {
      redlock = this.#makeOther(c);
      this.#others.set(c, redlock);
    }
    return redlock;
  }

  /** Settle `promise`, moving virtual time only when nothing else can happen (bounded). */
  run<T>(promise: Promise<T>, maxSteps = 1_000_000): Promise<T> {
    return settle('SimWorld.run', promise, () => this.time.fireNext(), maxSteps);
  }

  /**
   * Settle `clients`, then every Redlock's stragglers (`idle()`), noting each process's live
   * timers the moment its Redlocks are idle (`timersAtIdle`): an answer that arrives later may
   * still start work (a late create's release), which the drain then runs.
   */
  async runClients(clients: Promise<unknown>): Promise<void> {
    await this.run(clients);
    const idle = this.processes.map(async (process, c) => {
      const other = this.#others.get(c);
      await Promise.all([this.redlocks[c]!.idle(), other?.idle()]);
      this.timersAtIdle[c] = process.liveTimers;
    });
    await this.run(Promise.all(idle));
  }

  /** Run `action` at true time `at` (or now, if that has passed), as `actor`, logged. */
  at(at: number, actor: string, text: string, action: () => void): void {
    this.time.setTimeout(
      () => {
        this.history.add(actor, text);
        action();
      },
      Math.max(0, at - this.time.now()),
    );
  }

  /** A client reports a lock: nodes holding it that wait for such a moment act now. */
  lockTaken(keys: readonly string[], value: string): void {
    for (const node of this.nodes) {
      const hook = node.afterLock;
      if (!hook || !node.holds(keys, value)) continue;
      node.afterLock = undefined;
      hook();
    }
  }

  /** Nodes where every key holds `value` now. */
  holders(keys: readonly string[], value: string): number[] {
    return this.nodes.flatMap((node) => (node.holds(keys, value) ? [node.index] : []));
  }

  /** Every live key on every node, as `n:key=value`. */
  keys(): string[] {
    return this.nodes.flatMap((node) => node.keys().map((key) => `${node.index}:${key}=${node.get(key)}`));
  }

  #sent(link: SimLink, commands: readonly Command[]): void {
    this.nodeCalls++;
    for (const op of commands.flatMap(operationsOf)) {
      const acquire = op.script === 'quorumlock:acquire';
      const value = lockValueOf(op);
      if (op.script === 'quorumlock:extend' || op.script === 'quorumlock:repair') {
        // Per node, in the order they travel: an extend queued before the release (the same
        // batch, ahead of it) is not one sent after it.
        const traffic = this.traffic.get(value);
        const releasedAt = traffic?.releasedOn.has(link.node.index) ? traffic.releaseSentAt : undefined;
        if (releasedAt !== undefined) {
          this.renewsAfterRelease.push(
            `${link.name} ${op.script} v=${value.slice(0, 6)} at ${this.time.now()}, after its release was sent at ${releasedAt}`,
          );
        }
        continue;
      }
      if (!acquire && op.script !== 'quorumlock:release') continue;
      let entry = this.traffic.get(value);
      if (!entry) {
        const client = this.processes.indexOf(link.process);
        const count = acquire ? Number(op.args[2]) : op.keys.length;
        entry = {
          client,
          keys: op.keys.slice(0, count),
          acquiredOn: new Set(),
          refusedOn: new Set(),
          releasedOn: new Set(),
          releaseRanOn: new Map(),
          quarantinedOn: new Set(),
        };
        this.traffic.set(value, entry);
      }
      (acquire ? entry.acquiredOn : entry.releasedOn).add(link.node.index);
      if (!acquire) entry.releaseSentAt ??= this.time.now();
    }
  }

  #ran(link: SimLink, commands: readonly Command[]): void {
    for (const op of commands.flatMap(operationsOf)) {
      if (op.script === 'quorumlock:release')
        this.traffic.get(lockValueOf(op))?.releaseRanOn.set(link.node.index, link.node.crashes);
    }
    const guard = this.#guards[this.processes.indexOf(link.process)] ?? 0;
    if (guard === 0 || !link.node.quarantined(guard)) return;
    for (const op of commands.flatMap(operationsOf)) {
      if (op.script === 'quorumlock:acquire')
        this.traffic.get(lockValueOf(op))?.quarantinedOn.add(link.node.index);
    }
  }

  #answered(link: SimLink, commands: readonly Command[], replies: readonly unknown[]): void {
    commands.forEach((command, i) => {
      const ops = operationsOf(command);
      const opReplies = operationReplies(command, replies[i]);
      ops.forEach((op, j) => {
        if (op.script !== 'quorumlock:acquire' || isAcquired(opReplies[j])) return;
        if (opReplies[j] instanceof Error) return;
        this.traffic.get(lockValueOf(op))?.refusedOn.add(link.node.index);
      });
    });
  }

  /** Construct without letting expected warnings (even N) reach stderr; they go to `warnings`. */
  #quietly<T>(make: () => T): T {
    const original = process.emitWarning;
    process.emitWarning = ((warning: string | Error) => {
      this.warnings.push(typeof warning === 'string' ? warning : warning.message);
    }) as typeof process.emitWarning;
    try {
      return make();
    } finally {
      process.emitWarning = original;
    }
  }
}

function isAcquired(reply: unknown): boolean {
  try {
    return parseAcquireReply(reply).acquired;
  } catch {
    return true;
  }
}
