/**
 * A small deterministic simulation of the semaphore and the read-write lock (docs/semaphore.md):
 * memory nodes on one virtual clock, each client with its own links (a reach and a seeded delay
 * per call), the real Redlock code, and the claims checked over the holders' validity windows
 * (test/support/primitive-checkers.ts). A broken variant swaps one script's implementation on
 * every node, or the quorum, without touching src/.
 */
import type { RedisClient } from '../../../src/adapter.js';
import { isNoScriptError } from '../../../src/adapter.js';
import type { Runtime } from '../../../src/clock.js';
import type { Lock } from '../../../src/lock.js';
import { Redlock } from '../../../src/redlock.js';
import type { MemoryNode } from '../../../src/testing/memory.js';
import { MemoryNode as Node } from '../../../src/testing/memory.js';
import { mulberry32 } from '../../../tools/random.js';
import type { HolderWindow } from '../primitive-checkers.js';
import { VirtualTime, virtualRuntime } from '../virtual-time.js';

/** A script's implementation run instead of the node's own (a broken variant). */
export type ScriptOverride = (node: MemoryNode, keys: readonly string[], args: readonly string[]) => unknown;

export interface SimOptions {
  readonly nodes?: number;
  readonly seed: number;
  /** Script name → a replacement, on every node. */
  readonly overrides?: ReadonlyMap<string, ScriptOverride>;
  /** Largest one-way delay of a call, in virtual ms. @default 20 */
  readonly maxDelayMs?: number;
}

/** One simulated world: nodes, a virtual clock, a seeded random source, and clients made on demand. */
export class PrimitiveSim {
  readonly time = new VirtualTime();
  readonly nodes: MemoryNode[];
  readonly random: () => number;
  readonly windows: HolderWindow[] = [];
  readonly #options: SimOptions;
  #clients = 0;

  constructor(options: SimOptions) {
    this.#options = options;
    this.random = mulberry32(options.seed);
    this.nodes = Array.from({ length: options.nodes ?? 5 }, () => new Node({ clock: this.time }));
  }

  /** A Redlock whose links reach only `reach` (the others swallow every call), with seeded delays. */
  redlock(reach: readonly number[] = this.nodes.map((_, i) => i), retries = 3): Redlock {
    const { clients, runtime } = this.client(reach);
    return new Redlock(clients, { retryCount: retries, retryDelay: 50, retryJitter: 25, runtime });
  }

  /** One client's adapters (reaching only `reach`) and its runtime. */
  client(reach: readonly number[] = this.nodes.map((_, i) => i)): {
    clients: RedisClient[];
    runtime: Runtime;
  } {
    const id = this.#clients++;
    const clients = this.nodes.map((node, i) => this.#adapter(node, `c${id}-n${i}`, reach.includes(i)));
    return { clients, runtime: virtualRuntime(this.time, this.#options.seed * 100 + id) };
  }

  /** Record a holder's window: from now to min(its deadline, when `end` is called). */
  hold(lock: Lock, resource: string, extra: Partial<HolderWindow> = {}): () => void {
    const start = this.time.now();
    return () => {
      this.windows.push({
        holder: lock.value,
        resource,
        start,
        end: Math.max(start, Math.min(lock.deadlineMs, this.time.now())),
        ...extra,
      });
    };
  }

  /** A seeded integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** Virtual sleep. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.time.setTimeout(resolve, ms));
  }

  #adapter(node: MemoryNode, endpoint: string, reachable: boolean): RedisClient {
    const { overrides } = this.#options;
    const maxDelay = this.#options.maxDelayMs ?? 20;
    return {
      endpoint,
      exec: (commands) => {
        if (!reachable) return new Promise<never>(() => {});
        const there = this.int(0, maxDelay);
        const back = this.int(0, maxDelay);
        return new Promise((resolve) => {
          this.time.setTimeout(() => {
            const replies = commands.map((command) => {
              const override = command.type === 'eval' ? overrides?.get(command.script.name) : undefined;
              if (override && command.type === 'eval') {
                try {
                  return override(node, command.keys, command.args);
                } catch (error) {
                  return error instanceof Error ? error : new Error(String(error));
                }
              }
              const reply = node.execute(command);
              if (command.type === 'eval' && isNoScriptError(reply)) {
                return node.execute({ type: 'eval-source', command });
              }
              return reply;
            });
            this.time.setTimeout(() => resolve(replies), back);
          }, there);
        });
      },
    };
  }
}

/**
 * Admissible semaphore schedule: `contenders` clients take permits of a `permits` semaphore in
 * rounds (seeded TTLs, hold times, some renewals, some holders that outstay their validity), over
 * links with seeded delays. Resolves when every client is done; the windows are in `sim.windows`.
 */
export async function semaphoreSchedule(
  sim: PrimitiveSim,
  permits: number,
  contenders = 6,
  nemesis?: (sim: PrimitiveSim) => Promise<void>,
): Promise<void> {
  const run = Promise.all([
    nemesis?.(sim),
    ...Array.from({ length: contenders }, async () => {
      const redlock = sim.redlock();
      const sem = redlock.semaphore('pool', { permits });
      for (let round = 0; round < 3; round++) {
        await sim.sleep(sim.int(0, 200));
        const ttl = sim.int(200, 800);
        const count = permits > 1 && sim.random() < 0.2 ? 2 : 1;
        const permit = await sem.acquirePermit(ttl, { count });
        if (!permit) continue;
        const end = sim.hold(permit, 'pool', { weight: count });
        await sim.sleep(sim.int(0, ttl / 2));
        if (sim.random() < 0.5) await permit.renew();
        // Sometimes past the validity: the window ends at the deadline, never later.
        await sim.sleep(sim.int(0, ttl));
        end();
        if (sim.random() < 0.3) {
          // A renew by value from another instance, often after the permit lapsed and its place
          // was taken (R7): if it says renewed, the API claims a window for that holder, which
          // works within it and stops before it releases.
          const other = sim.redlock().semaphore('pool', { permits });
          const renewed = await other.renew(permit.value, ttl);
          if (renewed.renewed) {
            const start = sim.time.now();
            await sim.sleep(sim.int(0, Math.floor(renewed.validityMs / 2)));
            const end = Math.min(start + renewed.validityMs, sim.time.now());
            sim.windows.push({ holder: permit.value, resource: 'pool', start, end, weight: count });
          }
        }
        await permit.release();
      }
      await redlock.idle();
    }),
  ]);
  await sim.time.run(run, 1_000_000);
}

/**
 * Negative controls' faults, each outside the lock's assumptions: at seeded times, one node
 * restarts without its data (`wipe`) or drops the semaphore's key (`evict`).
 */
export function nodeFaults(kind: 'wipe' | 'evict', key = 'pool'): (sim: PrimitiveSim) => Promise<void> {
  return async (sim) => {
    for (let i = 0; i < 4; i++) {
      await sim.sleep(sim.int(50, 400));
      const node = sim.nodes[sim.int(0, sim.nodes.length - 1)]!;
      if (kind === 'wipe') node.restart({ persist: false });
      else node.del(key);
    }
  };
}

/** Admissible read-write schedule: readers and writers in rounds, over seeded links. */
export async function readWriteSchedule(sim: PrimitiveSim, contenders = 6): Promise<void> {
  const run = Promise.all(
    Array.from({ length: contenders }, async () => {
      const redlock = sim.redlock();
      const rw = redlock.readWrite('doc', { writerIntentMs: 300 });
      for (let round = 0; round < 3; round++) {
        await sim.sleep(sim.int(0, 200));
        const ttl = sim.int(200, 800);
        const kind = sim.random() < 0.35 ? 'write' : 'read';
        const lease = kind === 'write' ? await rw.tryWrite(ttl) : await rw.tryRead(ttl);
        if (!lease) continue;
        const end = sim.hold(lease, 'doc', { kind });
        await sim.sleep(sim.int(0, ttl / 2));
        if (sim.random() < 0.5) await lease.renew();
        await sim.sleep(sim.int(0, ttl));
        end();
        await lease.release();
      }
      await redlock.idle();
    }),
  );
  await sim.time.run(run, 1_000_000);
}

/**
 * Broken variant: the semaphore's scripts without the trim. The acquire counts only live leases
 * (ZCOUNT now +inf, so it grants correctly) and leaves the expired ones in the set; the renew,
 * written for a set that is always trimmed, takes a member's presence for a live lease. An
 * expired permit can then be renewed after its place was given to another holder.
 */
export const NO_TRIM: ReadonlyMap<string, ScriptOverride> = new Map<string, ScriptOverride>([
  [
    'quorumlock:sem-acquire',
    (node, [key], [value, ttl, permits, count]) => {
      const now = node.now();
      const live = [...(node.zset(key!)?.values() ?? [])].filter((score) => score > now).length;
      if (live + Number(count) > Number(permits)) return [0, live, -1];
      node.zadd(key!, now + Number(ttl), value!);
      for (let i = 2; i <= Number(count); i++) node.zadd(key!, now + Number(ttl), `${value}#${i}`);
      if (node.pttl(key!) < Number(ttl)) node.pexpire(key!, Number(ttl));
      return [1, live + Number(count), -1];
    },
  ],
  [
    'quorumlock:sem-extend',
    (node, [key], [value, ttl]) => {
      if (!node.zset(key!)?.has(value!)) return [0, 1, 0];
      node.zadd(key!, node.now() + Number(ttl), value!);
      if (node.pttl(key!) < Number(ttl)) node.pexpire(key!, Number(ttl));
      return [1, 0, 0];
    },
  ],
]);

/** Broken variant: a reader's check that ignores the writer-intent marker. */
export const READ_IGNORES_INTENT: ReadonlyMap<string, ScriptOverride> = new Map<string, ScriptOverride>([
  [
    'quorumlock:rw-read',
    (node, [writer, readers], [value, ttl]) => {
      const now = node.now();
      node.zrem(readers!, (_, score) => score <= now);
      if (node.exists(writer!)) return [0, 1, -1];
      node.zadd(readers!, now + Number(ttl), value!);
      if (node.pttl(readers!) < Number(ttl)) node.pexpire(readers!, Number(ttl));
      return [1, 0, -1];
    },
  ],
]);
