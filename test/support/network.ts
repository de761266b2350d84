/**
 * One client's view of the network: its own {@link FaultProxy} in front of every node, so a
 * partition, a black hole or latency can differ from one client to another (iptables on `lo` would
 * hit every client at once). Also adapter wrappers that record what a Redlock sends, or run a hook
 * when a reply arrives (to inject a fault at an exact point).
 */
import type { Command, RedisClient } from '../../src/adapter.js';
import { parseAddress } from '../../tools/nodes.js';
import { type ClientKind, type ConnectedClients, connectClients } from './clients.js';
import { discards, healProxy } from './faults.js';
import { FaultProxy, type ProxyLatency, type ProxyMode } from './proxy.js';

/** A client's private path to each node: one proxy per node, and the adapters connected through them. */
export class ClientNetwork {
  readonly #modes: ProxyMode[];
  /** Per node: bytes were discarded since the last heal, so healing must cut the connections. */
  readonly #discarded: boolean[];

  private constructor(
    /** One proxy per node, in node order. */
    readonly proxies: readonly FaultProxy[],
    readonly connected: ConnectedClients,
  ) {
    this.#modes = proxies.map(() => 'pass');
    this.#discarded = proxies.map(() => false);
  }

  /**
   * Start a proxy in front of each of `addresses` and connect one client per node through them.
   * Adapters are named after the real nodes, so reports say which node answered. ioredis clients
   * reconnect every 50 ms after a cut (not with a growing backoff), so a healed partition heals
   * at once. Use ioredis for faults that cut connections: these node-redis clients do not reconnect.
   */
  static async start(addresses: readonly string[], kind: ClientKind = 'ioredis'): Promise<ClientNetwork> {
    const proxies: FaultProxy[] = [];
    try {
      for (const address of addresses) proxies.push(await FaultProxy.start(parseAddress(address)));
      const connected = await connectClients(
        proxies.map((p) => p.address),
        kind,
        addresses,
        { retryStrategy: () => RECONNECT_MS },
      );
      return new ClientNetwork(proxies, connected);
    } catch (error) {
      await Promise.all(proxies.map((p) => p.close()));
      throw error;
    }
  }

  /** The adapters, one per node, for `new Redlock(network.clients)`. */
  get clients(): RedisClient[] {
    return this.connected.clients;
  }

  /** The mode each proxy is in. */
  get modes(): readonly ProxyMode[] {
    return this.#modes;
  }

  /** Cut this client off from `nodes` (`blackhole` by default: silence, so the per-node timeout decides). */
  isolate(nodes: readonly number[], mode: Exclude<ProxyMode, 'pass'> = 'blackhole'): void {
    for (const i of nodes) this.#set(i, mode);
  }

  /** This client reaches exactly `nodes`; every other node is cut off with `mode`. */
  reachOnly(nodes: readonly number[], mode: Exclude<ProxyMode, 'pass'> = 'blackhole'): void {
    this.heal();
    this.isolate(
      this.proxies.map((_, i) => i).filter((i) => !nodes.includes(i)),
      mode,
    );
  }

  /** Delay this client's traffic to and from `node`. */
  latency(node: number, latency: ProxyLatency): void {
    this.#proxy(node).setLatency(latency);
  }

  /**
   * Back to a clean network on `nodes` (default all): pass, no latency, and, where bytes were
   * discarded, fresh connections (see `healProxy`).
   */
  heal(nodes: readonly number[] = this.proxies.map((_, i) => i)): void {
    for (const i of nodes) {
      healProxy(this.#proxy(i), this.#discarded[i]!);
      this.#modes[i] = 'pass';
      this.#discarded[i] = false;
    }
  }

  /**
   * Heal, let every client finish reconnecting (at most ~2 s: a client closed mid-reconnect
   * leaves ioredis's 2 s disconnect timer behind), then close the clients and the proxies.
   */
  async close(): Promise<void> {
    this.heal();
    await Promise.all(this.clients.map((client) => reachable(client, 2_000)));
    await this.connected.close();
    await Promise.all(this.proxies.map((p) => p.close()));
  }

  #set(node: number, mode: ProxyMode): void {
    this.#proxy(node).setMode(mode);
    this.#modes[node] = mode;
    if (discards(mode)) this.#discarded[node] = true;
  }

  #proxy(node: number): FaultProxy {
    const proxy = this.proxies[node];
    if (proxy === undefined) throw new RangeError(`no node ${node} (${this.proxies.length} nodes)`);
    return proxy;
  }
}

const RECONNECT_MS = 50;
const INFO: Command = { type: 'info', sections: ['server'] };

/** Whether `client` answers an INFO within `limitMs`, retrying every 50 ms (no timer left behind). */
async function reachable(client: RedisClient, limitMs: number): Promise<boolean> {
  const until = performance.now() + limitMs;
  while (performance.now() < until) {
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      client.exec([INFO]).then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(1, until - performance.now()));
      }),
    ]);
    clearTimeout(timer);
    if (answered) return true;
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
  return false;
}

/** The name of each command of a call, as a log shows it: the script name, or `INFO`. */
export function commandNames(commands: readonly Command[]): string[] {
  return commands.map((c) => (c.type === 'eval' ? c.script.name : 'INFO'));
}

/** One call a Redlock made to a node, as {@link recordCalls} saw it. */
export interface SentCall {
  /** `performance.now()` when the call was handed to the client. */
  readonly at: number;
  readonly node: number;
  readonly commands: readonly string[];
}

/**
 * Wrap adapters so every call is appended to `log` (at the moment it is sent) before it goes
 * through unchanged: what the library sent, and when, is then observable.
 */
export function recordCalls(clients: readonly RedisClient[], log: SentCall[]): RedisClient[] {
  return clients.map((client, node) => ({
    endpoint: client.endpoint,
    exec(commands) {
      log.push({ at: performance.now(), node, commands: commandNames(commands) });
      return client.exec(commands);
    },
  }));
}

/**
 * Wrap adapters so `onReply(node, commands, replies)` runs synchronously when a call's replies
 * arrive, before the library sees them: a fault injected there lands at an exact point of the
 * protocol (after the acquire replies, before the claim round, ...).
 */
export function onReplies(
  clients: readonly RedisClient[],
  onReply: (node: number, commands: readonly string[], replies: readonly unknown[]) => void,
): RedisClient[] {
  return clients.map((client, node) => ({
    endpoint: client.endpoint,
    async exec(commands) {
      const replies = await client.exec(commands);
      onReply(node, commandNames(commands), replies);
      return replies;
    },
  }));
}
