/**
 * The fault toolbox (docs/testing.md, 'Fault injection on real nodes'), on top of the node manager
 * (nodes.ts) and the TCP proxy (proxy.ts): emulated clock jumps on one node, script cache loss,
 * eviction, crashes and restarts with or without persistence, delayed restarts, rolled-back data, a
 * blocked event loop.
 *
 * Faults that leave something behind go through a {@link FaultScope}, which remembers how to undo
 * each one; call `scope.undoAll()` in `afterEach` so every fault is undone even when the test
 * failed. Everything here talks to 127.0.0.1 only.
 */
import type { Redis } from 'ioredis';
import type { Persistence, RedisNode } from '../../tools/nodes.js';
import type { FaultProxy, ProxyMode } from './proxy.js';

/** Anything that runs one Redis command: a {@link RedisNode}, or an admin client via {@link commander}. */
export interface Commander {
  command(...args: (string | number)[]): Promise<unknown>;
}

/** A {@link Commander} over an ioredis client (for nodes this process does not manage). */
export function commander(client: Redis): Commander {
  return {
    command(...args) {
      const [name, ...rest] = args;
      if (name === undefined) return Promise.reject(new Error('command: no command name given'));
      return client.call(String(name), ...rest.map(String));
    },
  };
}

/**
 * Shift the remaining TTL of keys by `deltaMs`, atomically per call, on one node: the key-level
 * equivalent of that node's clock jumping (libfaketime does not run this redis-server).
 * A forward jump (`deltaMs > 0`) shortens each TTL by delta and expires the key at once when
 * delta reaches its remaining TTL; a backward jump (`deltaMs < 0`) lengthens it. Keys without a
 * TTL (fencing counters) are left alone, as a clock jump would leave them.
 */
const JUMP_SCRIPT = `
local delta = tonumber(ARGV[1])
local keys = KEYS
if ARGV[2] ~= '' then keys = redis.call('KEYS', ARGV[2]) end
local moved = 0
for _, key in ipairs(keys) do
  local ttl = redis.call('PTTL', key)
  if ttl > 0 then
    local left = ttl - delta
    if left < 1 then redis.call('DEL', key) else redis.call('PEXPIRE', key, left) end
    moved = moved + 1
  end
end
return moved`;

/** Which keys a clock jump moves: a list, or every key matching a `KEYS` pattern. */
export type KeySelection = readonly string[] | { readonly match: string };

/**
 * Emulate a clock jump of `deltaMs` on `node` for the selected keys (see {@link JUMP_SCRIPT}).
 * Resolves with the number of keys whose TTL moved.
 */
export async function jumpClock(node: Commander, keys: KeySelection, deltaMs: number): Promise<number> {
  if (!Number.isFinite(deltaMs)) throw new RangeError(`jumpClock: deltaMs must be finite, got ${deltaMs}`);
  const list = Array.isArray(keys) ? (keys as readonly string[]) : [];
  const match = Array.isArray(keys) ? '' : (keys as { match: string }).match;
  return Number(await node.command('EVAL', JUMP_SCRIPT, list.length, ...list, Math.round(deltaMs), match));
}

/**
 * A forward jump: the node's clock skips ahead by `deltaMs` (default: past every TTL, so the
 * keys expire at once, as `PEXPIRE key 1` would). Known-unsafe (row 19): use in negative controls.
 */
export function jumpForward(node: Commander, keys: KeySelection, deltaMs = Number.MAX_SAFE_INTEGER) {
  return jumpClock(node, keys, Math.abs(deltaMs));
}

/** A backward jump: the node's clock falls behind by `deltaMs`, so its keys live longer (row 27). */
export function jumpBackward(node: Commander, keys: KeySelection, deltaMs: number) {
  return jumpClock(node, keys, -Math.abs(deltaMs));
}

/** The node forgets every cached script: the next EVALSHA gets NOSCRIPT (row 41). */
export async function flushScripts(node: Commander): Promise<void> {
  await node.command('SCRIPT', 'FLUSH');
}

/** Keep the event loop busy for `ms` (a client pause, a GC stall): nothing else of this process runs. */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: timers, sockets and promises of this process all wait
  }
}

/** `maxmemory` and friends of one node, to restore after an eviction fault. */
interface MemoryConfig {
  maxmemory: string;
  policy: string;
  samples: string;
}

async function configGet(node: Commander, name: string): Promise<string> {
  const reply = (await node.command('CONFIG', 'GET', name)) as string[];
  const value = reply[1];
  if (value === undefined) throw new Error(`CONFIG GET ${name}: no value`);
  return value;
}

async function memoryConfig(node: Commander): Promise<MemoryConfig> {
  return {
    maxmemory: await configGet(node, 'maxmemory'),
    policy: await configGet(node, 'maxmemory-policy'),
    samples: await configGet(node, 'maxmemory-samples'),
  };
}

async function setMemoryConfig(node: Commander, config: MemoryConfig): Promise<void> {
  await node.command('CONFIG', 'SET', 'maxmemory-policy', config.policy);
  await node.command('CONFIG', 'SET', 'maxmemory-samples', config.samples);
  await node.command('CONFIG', 'SET', 'maxmemory', config.maxmemory);
}

/** Prefix of the keys {@link FaultScope.evict} fills a node with. */
export const FILLER_PREFIX = 'fault:filler:';
const FILLER_BYTES = 32 * 1024;
const MAX_FILLERS = 2_000;

/** Options of {@link FaultScope.evict}. */
export interface EvictionOptions {
  /** A volatile policy: only keys with a TTL are evicted (fencing counters have none). @default 'volatile-lru' */
  policy?: 'volatile-lru' | 'volatile-lfu' | 'volatile-random' | 'volatile-ttl';
  /** Fill until this is true (for example: the lock key is gone), at most 2,000 fillers. */
  until: () => Promise<boolean>;
}

/** What {@link FaultScope.evict} did. */
export interface EvictionResult {
  /** Filler keys written (32 KiB each, with a TTL, so they are eviction candidates too). */
  fillers: number;
  /** `evicted_keys` from INFO stats, after minus before. */
  evicted: number;
  /** Whether `until` became true within the bound. */
  reached: boolean;
}

/** Where to read a counter from `INFO <section>`. */
async function infoField(node: Commander, section: string, field: string): Promise<number> {
  const info = String(await node.command('INFO', section));
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  if (match === null) throw new Error(`INFO ${section} has no ${field}`);
  return Number(match[1]);
}

/**
 * Faults injected by one test, each with its undo. `undoAll()` (in `afterEach`) undoes them in
 * reverse order, attempting every undo even when one fails, and then throws what failed.
 */
export class FaultScope {
  readonly #undo: Array<{ what: string; undo: () => Promise<void> | void }> = [];
  /** A log of what was injected, for failure messages and the soak's history. */
  readonly injected: string[] = [];

  /** Remember how to undo something the test did itself. */
  defer(what: string, undo: () => Promise<void> | void): void {
    this.injected.push(what);
    this.#undo.push({ what, undo });
  }

  /** SIGSTOP `node`; undone by SIGCONT (if it still runs). */
  pause(node: RedisNode): void {
    node.pause();
    this.defer(`pause ${node.address}`, () => {
      if (node.running) node.resume();
    });
  }

  /** SIGCONT a node paused by {@link pause} (its undo then does nothing more). */
  resume(node: RedisNode): void {
    node.resume();
  }

  /**
   * kill -9 `node`; undone by restarting it with AOF `appendfsync always` if it is still down.
   * Restart it yourself with {@link restart} to inject the restart fault.
   */
  async kill(node: RedisNode): Promise<void> {
    this.defer(`kill -9 ${node.address}`, async () => {
      if (!node.running) await node.restart({ persistence: 'aof-always' });
    });
    await node.kill();
  }

  /**
   * Start a killed node again: immediately or after `delayMs` (a delayed restart, docs/spec.md), with
   * its data (`aof-always`) or without (`none`: the keys of the crash are gone). When the node
   * comes back without persistence, the undo restarts it with AOF and empty data.
   */
  async restart(node: RedisNode, options: { persistence: Persistence; delayMs?: number }): Promise<void> {
    if (options.persistence === 'none') {
      this.defer(`restart ${node.address} without persistence`, async () => {
        if (node.running) await node.kill();
        await node.restart({ persistence: 'aof-always', wipe: true });
      });
      // Without AOF the node starts empty, as a node that never persisted would.
      await node.restart({ persistence: 'none', wipe: true, delayMs: options.delayMs ?? 0 });
      return;
    }
    await node.restart({ persistence: options.persistence, delayMs: options.delayMs ?? 0 });
  }

  /** kill -9 and restart (see {@link kill} and {@link restart}). */
  async crash(node: RedisNode, options: { persistence: Persistence; delayMs?: number }): Promise<void> {
    await this.kill(node);
    await this.restart(node, options);
  }

  /**
   * Roll `node` back to `snapshot` (taken earlier with `node.snapshotData()`): kill -9, restore
   * the old data files, restart after `delayMs`. Known-unsafe without a delay (row 24).
   */
  async rollback(node: RedisNode, snapshot: string, options: { delayMs?: number } = {}): Promise<void> {
    await this.kill(node);
    await node.restoreData(snapshot);
    await node.restart({ persistence: 'aof-always', delayMs: options.delayMs ?? 0 });
  }

  /**
   * Let `node` evict keys: a volatile policy, `maxmemory` just above what it uses, then filler
   * keys with a TTL until `until()` holds. Undone by restoring the memory settings and deleting
   * the fillers. Known-unsafe (row 25): an evicted lock key is a lock lost early.
   */
  async evict(node: Commander, options: EvictionOptions): Promise<EvictionResult> {
    const saved = await memoryConfig(node);
    this.defer('eviction', async () => {
      await setMemoryConfig(node, saved);
      for (let cursor = '0', rounds = 0; rounds < 1_000; rounds++) {
        const [next, keys] = (await node.command(
          'SCAN',
          cursor,
          'MATCH',
          `${FILLER_PREFIX}*`,
          'COUNT',
          500,
        )) as [string, string[]];
        if (keys.length > 0) await node.command('UNLINK', ...keys);
        cursor = next;
        if (cursor === '0') break;
      }
    });
    const evictedBefore = await infoField(node, 'stats', 'evicted_keys');
    const used = await infoField(node, 'memory', 'used_memory');
    await node.command('CONFIG', 'SET', 'maxmemory-policy', options.policy ?? 'volatile-lru');
    await node.command('CONFIG', 'SET', 'maxmemory-samples', 64);
    await node.command('CONFIG', 'SET', 'maxmemory', used + 16 * FILLER_BYTES);
    const payload = 'x'.repeat(FILLER_BYTES);
    let fillers = 0;
    let reached = await options.until();
    while (!reached && fillers < MAX_FILLERS) {
      await node.command('SET', `${FILLER_PREFIX}${fillers}`, payload, 'PX', 600_000);
      fillers++;
      reached = await options.until();
    }
    const evicted = (await infoField(node, 'stats', 'evicted_keys')) - evictedBefore;
    return { fillers, evicted, reached };
  }

  /** Switch a proxy's mode; undone by `pass`, cutting its connections (see {@link healProxy}). */
  proxyMode(proxy: FaultProxy, mode: ProxyMode): void {
    proxy.setMode(mode);
    this.defer(`proxy ${proxy.address} ${mode}`, () => healProxy(proxy, discards(mode)));
  }

  /** Undo every fault, newest first; throws an AggregateError naming the undos that failed. */
  async undoAll(): Promise<void> {
    const failures: Error[] = [];
    for (let entry = this.#undo.pop(); entry !== undefined; entry = this.#undo.pop()) {
      try {
        await entry.undo();
      } catch (error) {
        failures.push(new Error(`undo of "${entry.what}" failed: ${(error as Error).message}`));
      }
    }
    this.injected.length = 0;
    if (failures.length > 0) throw new AggregateError(failures, failures.map((f) => f.message).join('; '));
  }
}

/**
 * Back to `pass` with no latency. Leaving `blackhole` or `drop-replies` also cuts the proxy's
 * connections: those modes discard bytes on a live connection, which no TCP network does, and a
 * client would then match the next reply to an earlier command (RESP has no request ids). A real
 * partition ends the same way, with the client reconnecting.
 */
export function healProxy(proxy: FaultProxy, cut: boolean): void {
  proxy.setMode('pass');
  proxy.setLatency({});
  if (cut) proxy.cutConnections();
}

/** Whether a proxy mode discards bytes on live connections (healing it must then cut them). */
export function discards(mode: ProxyMode): boolean {
  return mode === 'blackhole' || mode === 'drop-replies';
}
