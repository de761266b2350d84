/**
 * A small deterministic simulation of the semaphore and the read-write lock (docs/semaphore.md):
 * memory nodes, each on its own clock over one virtual time (a clock jump moves one node's), each
 * client with its own links (a reach and a seeded delay per call), the real Redlock code, and
 * the claims checked over the holders' validity windows (test/support/primitive-checkers.ts). A
 * broken variant swaps one script's implementation on every node, or the semaphore's quorum,
 * without touching src/. The schedules that drive it are data: primitive-scenario.ts.
 */
import type { EvalCommand, RedisClient } from '../../../src/adapter.js';
import { isNoScriptError } from '../../../src/adapter.js';
import type { Runtime } from '../../../src/clock.js';
import { handoffFor } from '../../../src/handoff.js';
import type { Lock } from '../../../src/lock.js';
import { Nodes } from '../../../src/nodes.js';
import { resolveOptions } from '../../../src/options.js';
import { Primitive } from '../../../src/primitive.js';
import { Redlock } from '../../../src/redlock.js';
import type { RenewResult } from '../../../src/renew.js';
import { jitteredRetry } from '../../../src/retry.js';
import { semaphoreProtocol } from '../../../src/semaphore.js';
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
  /** Broken variant: semaphores grant on a majority, whatever the permits (ADR 018's counting ignored). */
  readonly majorityQuorum?: boolean;
}

/** A reader's acquire script as one node ran it (at the node's clock), and its answer. */
export interface ReadOnNode {
  /** Order among the scripts every node ran (ties in time are common). */
  readonly seq: number;
  readonly node: number;
  readonly at: number;
  readonly value: string;
  readonly granted: boolean;
}

/** A writer's attempt (rw-write, with its intent ms) or a write lease's release, as a node ran it. */
export interface WriteOnNode {
  readonly seq: number;
  readonly node: number;
  readonly at: number;
  readonly value: string;
  readonly kind: 'attempt' | 'release';
  readonly intentMs: number;
}

/** The part of a semaphore the schedules use, real or with a broken quorum. */
export interface SimSemaphore {
  acquirePermit(ttl: number, count: number): Promise<Lock | null>;
  renew(value: string, ttl: number): Promise<RenewResult>;
  idle(): Promise<void>;
}

const RETRY = { retryDelay: 50, retryJitter: 25 } as const;

/** One simulated world: nodes, a virtual clock, a seeded random source, and clients made on demand. */
export class PrimitiveSim {
  readonly time = new VirtualTime();
  readonly nodes: MemoryNode[];
  readonly random: () => number;
  readonly windows: HolderWindow[] = [];
  readonly reads: ReadOnNode[] = [];
  readonly writes: WriteOnNode[] = [];
  /** Calls the clients' links carried (a pipeline of commands is one). */
  calls = 0;
  /** Per node, how far its clock is ahead of the virtual time. */
  readonly #offsets: number[];
  readonly #options: SimOptions;
  #clients = 0;

  constructor(options: SimOptions) {
    this.#options = options;
    this.random = mulberry32(options.seed);
    const n = options.nodes ?? 5;
    this.#offsets = new Array<number>(n).fill(0);
    this.nodes = Array.from(
      { length: n },
      (_, i) => new Node({ clock: { now: () => this.time.now() + this.#offsets[i]! } }),
    );
  }

  /** A Redlock whose links reach only `reach` (the others swallow every call), with seeded delays. */
  redlock(reach: readonly number[] = this.nodes.map((_, i) => i), retries = 3): Redlock {
    const { clients, runtime } = this.client(reach);
    return new Redlock(clients, { retryCount: retries, ...RETRY, runtime });
  }

  /** A semaphore reaching `reach`: the public one, or one on a majority with `majorityQuorum`. */
  semaphore(reach: readonly number[], permits: number): SimSemaphore {
    if (!this.#options.majorityQuorum) {
      const redlock = this.redlock(reach);
      const sem = redlock.semaphore('pool', { permits });
      return {
        acquirePermit: (ttl, count) => sem.acquirePermit(ttl, { count }),
        renew: (value, ttl) => sem.renew(value, ttl),
        idle: () => redlock.idle(),
      };
    }
    const { clients, runtime } = this.client(reach);
    const { options } = resolveOptions({ retryCount: 3, ...RETRY });
    const nodes = new Nodes(clients, options, runtime);
    const core = { nodes, options, runtime, handoff: handoffFor(runtime.clock) };
    const primitive = new Primitive(core, jitteredRetry(RETRY.retryDelay, RETRY.retryJitter));
    const majority = Math.floor(clients.length / 2) + 1;
    const protocol = (count: number) => semaphoreProtocol(permits, count, majority);
    return {
      acquirePermit: (ttl, count) => primitive.acquire('pool', ttl, {}, protocol(count)).catch(() => null),
      renew: (value, ttl) => primitive.renewValue('pool', value, ttl, protocol(1), undefined),
      idle: () => nodes.idle(),
    };
  }

  /** One client's adapters (reaching only `reach`) and its runtime. */
  client(reach: readonly number[] = this.nodes.map((_, i) => i)): {
    clients: RedisClient[];
    runtime: Runtime;
  } {
    const id = this.#clients++;
    const clients = this.nodes.map((_, i) => this.#adapter(i, `c${id}-n${i}`, reach.includes(i)));
    return { clients, runtime: virtualRuntime(this.time, this.#options.seed * 100 + id) };
  }

  /** Move node `i`'s clock `ms` ahead (a clock jump, outside the lock's assumptions). */
  jump(i: number, ms: number): void {
    this.#offsets[i]! += ms;
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

  #adapter(i: number, endpoint: string, reachable: boolean): RedisClient {
    const node = this.nodes[i]!;
    const { overrides } = this.#options;
    const maxDelay = this.#options.maxDelayMs ?? 20;
    return {
      endpoint,
      exec: (commands) => {
        if (!reachable) return new Promise<never>(() => {});
        this.calls++;
        const there = this.int(0, maxDelay);
        const back = this.int(0, maxDelay);
        return new Promise((resolve) => {
          this.time.setTimeout(() => {
            const replies = commands.map((command) => {
              if (command.type !== 'eval') return node.execute(command);
              const reply = this.#eval(node, command, overrides?.get(command.script.name));
              this.#record(i, command, reply);
              return reply;
            });
            this.time.setTimeout(() => resolve(replies), back);
          }, there);
        });
      },
    };
  }

  /** The read-write lock's scripts as the nodes ran them, for the intent checker. */
  #record(i: number, command: EvalCommand, reply: unknown): void {
    const at = this.nodes[i]!.now();
    const seq = this.reads.length + this.writes.length;
    const value = command.args[0]!;
    const name = command.script.name;
    if (name === 'quorumlock:rw-read') {
      this.reads.push({ seq, node: i, at, value, granted: Array.isArray(reply) && reply[0] === 1 });
    } else if (name === 'quorumlock:rw-write') {
      // A writer is its write call's intent id, shared by its attempts and its lease's release.
      const writer = command.args[3]!;
      this.writes.push({
        seq,
        node: i,
        at,
        value: writer,
        kind: 'attempt',
        intentMs: Number(command.args[2]),
      });
    } else if (name === 'quorumlock:rw-write-release') {
      this.writes.push({ seq, node: i, at, value: command.args[1]!, kind: 'release', intentMs: 0 });
    }
  }

  #eval(node: MemoryNode, command: EvalCommand, override: ScriptOverride | undefined): unknown {
    if (override) {
      try {
        return override(node, command.keys, command.args);
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    }
    const reply = node.execute(command);
    return isNoScriptError(reply) ? node.execute({ type: 'eval-source', command }) : reply;
  }
}
