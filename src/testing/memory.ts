import {
  type Command,
  type EvalCommand,
  isNoScriptError,
  type RedisClient,
  type Script,
} from '../adapter.js';
import type { Clock } from '../clock.js';
import {
  acquireScript,
  BATCHABLE,
  batchScript,
  claimScript,
  extendScript,
  initFenceScript,
  inspectScript,
  releaseScript,
  repairScript,
} from '../scripts/index.js';
import { PRIMITIVE_IMPLEMENTATIONS, PRIMITIVE_SCRIPTS } from './primitives.js';

interface Entry {
  /**
   * A string; a sorted set (member → score) for the semaphore's and read-write lock's scripts;
   * or a list (only so that tests can provoke WRONGTYPE as redis-server does).
   */
  value: string | readonly string[] | Map<string, number>;
  /** Absolute expiry on the node's clock, or Infinity for no TTL. */
  expiresAt: number;
}

type Impl = (node: MemoryNode, keys: readonly string[], args: readonly string[]) => unknown;

/**
 * The Lua scripts as the in-memory node runs them. Each mirrors its script line by line; the
 * contract suite runs the same cases against this node and a real redis-server.
 */
const IMPLEMENTATIONS: ReadonlyMap<string, Impl> = new Map<string, Impl>([
  [
    acquireScript.name,
    (node, keys, [value, ttl, count]) => {
      const n = Number(count);
      let counter = -1;
      if (keys.length > n) {
        const v = node.get(keys[n]!);
        if (v !== null) counter = Number(v);
      }
      for (let i = 0; i < n; i++) if (node.exists(keys[i]!)) return [0, i + 1, counter];
      for (let i = 0; i < n; i++) node.set(keys[i]!, value!, Number(ttl));
      return [1, 0, counter];
    },
  ],
  [
    releaseScript.name,
    (node, keys, [value]) => {
      let deleted = 0;
      let foreign = 0;
      for (const key of keys) {
        const v = node.get(key);
        if (v === value) {
          node.del(key);
          deleted++;
        } else if (v !== null) {
          foreign++;
        }
      }
      return [deleted, foreign];
    },
  ],
  [
    extendScript.name,
    (node, keys, [value, ttl]) => {
      let absent = 0;
      let foreign = 0;
      for (const key of keys) {
        const v = node.get(key);
        if (v === null) absent++;
        else if (v !== value) foreign++;
      }
      if (absent + foreign > 0) return [0, absent, foreign];
      for (const key of keys) node.pexpire(key, Number(ttl));
      return [1, 0, 0];
    },
  ],
  [
    repairScript.name,
    (node, keys, [value, ttl]) => {
      for (let i = 0; i < keys.length; i++) {
        const v = node.get(keys[i]!);
        if (v !== null && v !== value) return [0, i + 1];
      }
      for (const key of keys) node.set(key, value!, Number(ttl));
      return [1, 0];
    },
  ],
  [
    claimScript.name,
    (node, [key], [proposed]) => {
      const current = node.get(key!);
      if (current === null) return [-1, 0];
      const c = Number(current);
      const t = Number(proposed);
      if (c < t) {
        node.set(key!, proposed!);
        return [1, t];
      }
      return [0, c];
    },
  ],
  [
    initFenceScript.name,
    (node, [key], [floor]) => {
      const current = node.get(key!);
      if (current !== null) return [0, Number(current)];
      node.set(key!, floor!);
      return [1, Number(floor)];
    },
  ],
  [inspectScript.name, (node, keys) => keys.flatMap((key) => [node.get(key), node.pttl(key)])],
  [
    batchScript.name,
    (node, keys, args) => {
      const out: unknown[] = [];
      let k = 0;
      let a = 1;
      for (let op = 0; op < Number(args[0]); op++) {
        const [id, nk, na] = [Number(args[a]), Number(args[a + 1]), Number(args[a + 2])];
        a += 3;
        const impl = IMPLEMENTATIONS.get(BATCHABLE[id - 1]!.name)!;
        try {
          out.push([1, impl(node, keys.slice(k, k + nk), args.slice(a, a + na))]);
        } catch (error) {
          out.push([0, error instanceof Error ? error.message : String(error)]);
        }
        k += nk;
        a += na;
      }
      return out;
    },
  ],
  ...PRIMITIVE_IMPLEMENTATIONS,
]);

let nextRunId = 1;
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/**
 * An in-memory Redis node: strings with millisecond expiry on its own clock, a script cache
 * (EVALSHA answers NOSCRIPT until EVAL loaded the script, as after a restart or SCRIPT FLUSH), and
 * INFO with a run_id. For tests and simulations; it implements only what quorumlock sends.
 */
export class MemoryNode {
  readonly #data = new Map<string, Entry>();
  readonly #scripts = new Set<string>();
  readonly #clock: Clock;
  #runId: string;
  #startedAt: number;
  /** Reported as `maxmemory_policy` by INFO. */
  maxmemoryPolicy = 'noeviction';
  /** Reported as `aof_enabled` by INFO (what `restart({ persist })` does is up to its caller). */
  aofEnabled = true;

  constructor(options: { clock?: Clock; runId?: string } = {}) {
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#runId = options.runId ?? newRunId();
    this.#startedAt = this.#clock.now();
  }

  get runId(): string {
    return this.#runId;
  }

  /** This node's clock, in ms. */
  now(): number {
    return this.#clock.now();
  }

  /** GET; throws the WRONGTYPE error reply for a list, as redis-server answers. */
  get(key: string): string | null {
    const entry = this.#live(key);
    if (!entry) return null;
    if (typeof entry.value !== 'string') throw new Error(WRONGTYPE);
    return entry.value;
  }

  /** EXISTS: any live key, whatever its type. */
  exists(key: string): boolean {
    return this.#live(key) !== undefined;
  }

  /** The live sorted set at `key` (null when absent); WRONGTYPE for another type, as redis-server. */
  zset(key: string): Map<string, number> | null {
    const entry = this.#live(key);
    if (!entry) return null;
    if (!(entry.value instanceof Map)) throw new Error(WRONGTYPE);
    return entry.value;
  }

  /** ZADD key score member (creating the set without a TTL, as redis-server). */
  zadd(key: string, score: number, member: string): void {
    const set = this.zset(key);
    if (set) set.set(member, score);
    else this.#data.set(key, { value: new Map([[member, score]]), expiresAt: Number.POSITIVE_INFINITY });
  }

  /** ZREM / ZREMRANGEBYSCORE: remove members; an emptied set is deleted, as redis-server does. */
  zrem(key: string, remove: (member: string, score: number) => boolean): number {
    const set = this.zset(key);
    if (!set) return 0;
    let removed = 0;
    for (const [member, score] of set) {
      if (remove(member, score)) {
        set.delete(member);
        removed++;
      }
    }
    if (set.size === 0) this.#data.delete(key);
    return removed;
  }

  /** RPUSH key value: makes `key` a list. */
  rpush(key: string, value: string): void {
    const entry = this.#live(key);
    if (entry && typeof entry.value === 'string') throw new Error(WRONGTYPE);
    this.#data.set(key, {
      value: [...((entry?.value as string[]) ?? []), value],
      expiresAt: entry?.expiresAt ?? Number.POSITIVE_INFINITY,
    });
  }

  #live(key: string): Entry | undefined {
    const entry = this.#data.get(key);
    if (entry && entry.expiresAt <= this.#clock.now()) {
      this.#data.delete(key);
      return undefined;
    }
    return entry;
  }

  /** SET key value [PX ttl]. */
  set(key: string, value: string, ttlMs?: number): void {
    this.#data.set(key, {
      value,
      expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : this.#clock.now() + ttlMs,
    });
  }

  /** Delete `key`; true when it existed. */
  del(key: string): boolean {
    const present = this.#live(key) !== undefined;
    this.#data.delete(key);
    return present;
  }

  /** PEXPIRE: false when the key is absent. */
  pexpire(key: string, ttlMs: number): boolean {
    if (this.#live(key) === undefined) return false;
    this.#data.get(key)!.expiresAt = this.#clock.now() + ttlMs;
    return true;
  }

  /** PTTL: -2 absent, -1 no expiry, else ms left. */
  pttl(key: string): number {
    if (this.#live(key) === undefined) return -2;
    const at = this.#data.get(key)!.expiresAt;
    return at === Number.POSITIVE_INFINITY ? -1 : at - this.#clock.now();
  }

  /** Live keys, sorted. */
  keys(): string[] {
    return [...this.#data.keys()].filter((k) => this.#live(k) !== undefined).sort();
  }

  /** Delete every key (FLUSHALL). */
  flushAll(): void {
    this.#data.clear();
  }

  /** SCRIPT LOAD: cache `script`, so that EVALSHA runs it until a restart or `flushScripts()`. */
  loadScript(script: Script): void {
    this.#scripts.add(script.sha);
  }

  /** Forget the loaded scripts (SCRIPT FLUSH): the next EVALSHA answers NOSCRIPT. */
  flushScripts(): void {
    this.#scripts.clear();
  }

  /**
   * A restart: the script cache is always lost; data is kept when `persist` (AOF with
   * appendfsync always: expiries are absolute, so TTLs keep running) and wiped otherwise.
   */
  restart(options: { persist: boolean }): void {
    if (!options.persist) this.#data.clear();
    this.#scripts.clear();
    this.#runId = newRunId();
    this.#startedAt = this.#clock.now();
  }

  /** Run one command as redis-server would; an error reply is returned as an Error. */
  execute(command: Command | { type: 'eval-source'; command: EvalCommand }): unknown {
    if (command.type === 'info') return this.#info();
    const evalCommand = command.type === 'eval' ? command : command.command;
    const script = evalCommand.script;
    if (command.type === 'eval' && !this.#scripts.has(script.sha)) {
      return new Error('NOSCRIPT No matching script. Please use EVAL.');
    }
    const impl = IMPLEMENTATIONS.get(script.name);
    if (!impl || !sameScript(script)) return new Error(`ERR unknown script ${script.name} in MemoryNode`);
    this.#scripts.add(script.sha);
    try {
      return impl(this, evalCommand.keys, evalCommand.args);
    } catch (error) {
      // A command error inside a script aborts it, as in Lua, and is that command's error reply.
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  #info(): string {
    const uptime = Math.max(0, Math.floor((this.#clock.now() - this.#startedAt) / 1000));
    return [
      '# Server',
      'redis_version:7.0.0-memory',
      `run_id:${this.#runId}`,
      `uptime_in_seconds:${uptime}`,
      '',
      '# Memory',
      `maxmemory_policy:${this.maxmemoryPolicy}`,
      '',
      '# Persistence',
      `aof_enabled:${this.aofEnabled ? 1 : 0}`,
      '',
    ].join('\r\n');
  }
}

const KNOWN = new Map([...BATCHABLE, batchScript, ...PRIMITIVE_SCRIPTS].map((s) => [s.name, s.sha]));

function sameScript(script: Script): boolean {
  return KNOWN.get(script.name) === script.sha;
}

function newRunId(): string {
  return (nextRunId++).toString(16).padStart(40, '0');
}

export interface MemoryAdapterOptions {
  /** @default `memory:<run_id prefix>` */
  readonly endpoint?: string;
}

/**
 * A RedisClient over a MemoryNode, with the same EVALSHA-then-EVAL fallback as the real
 * adapters. Replies arrive on a later microtask, never synchronously.
 */
export function memoryAdapter(node: MemoryNode, options: MemoryAdapterOptions = {}): RedisClient {
  const endpoint = options.endpoint ?? `memory:${node.runId.replace(/^0+/, '')}`;
  return {
    endpoint,
    async exec(commands) {
      await Promise.resolve();
      return commands.map((command) => {
        const reply = node.execute(command);
        if (command.type === 'eval' && isNoScriptError(reply)) {
          return node.execute({ type: 'eval-source', command });
        }
        return reply;
      });
    },
  };
}
