/**
 * The ioredis connections every contender gets: one fresh client per node, the same options for
 * everyone, connected before any measurement starts, and closed by the harness.
 *
 * Options: `maxRetriesPerRequest: 0` (a command is never resent after a disconnect, the setting
 * a quorum wants), `lazyConnect` so that connecting is awaited here rather than inside a measured
 * window, and otherwise ioredis' defaults (offline queue on, ready check on). Only the
 * auto-pipelined floor turns on `enableAutoPipelining`.
 *
 * The node-redis section's contenders get node-redis clients instead (`connectNodeRedis`): no
 * reconnection (the command is never resent), otherwise node-redis' defaults.
 */
import { GlideClient } from '@valkey/valkey-glide';
import { Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { createClient } from 'redis';
import { parseAddress } from '../tools/nodes.js';
import type { ConnectOptions } from './contender.js';

/** Counts what the harness's connections saw, for the report's sanity checks. */
export interface ConnectionStats {
  /** 'error' events on any contender connection (should stay 0). */
  errors: number;
  lastError: string | undefined;
}

export const connectionStats: ConnectionStats = { errors: 0, lastError: undefined };

/**
 * Commands written by clients created while a counter is installed (client side, counted in
 * `sendCommand`, pipelined commands included). Used by the contention workload only, so that the
 * wrapper costs nothing in the CPU measurements.
 */
export interface SentCounter {
  sent: number;
}

/** A node-redis client of the node-redis section: no reconnection, node-redis' defaults otherwise. */
function createNodeRedis(host: string, port: number) {
  return createClient({ socket: { host, port, reconnectStrategy: false } });
}
export type NodeRedisClient = ReturnType<typeof createNodeRedis>;

function noteError(error: Error): void {
  connectionStats.errors++;
  connectionStats.lastError = error.message;
}

export class ConnectionPool {
  readonly #clients: Array<Redis | Redis5> = [];
  readonly #nodeRedis: NodeRedisClient[] = [];
  readonly #glide: GlideClient[] = [];
  #counter: SentCounter | undefined;

  constructor(readonly addresses: readonly string[]) {}

  /** Count the commands of every client created from now on (until `countSent(undefined)`). */
  countSent(counter: SentCounter | undefined): void {
    this.#counter = counter;
  }

  /** Count what `client` sends through `sendCommand`, while a counter is installed. */
  #count(client: { sendCommand: (...args: never[]) => unknown }): void {
    const counter = this.#counter;
    if (counter === undefined) return;
    const send = client.sendCommand.bind(client) as (...args: unknown[]) => unknown;
    (client as { sendCommand: (...args: unknown[]) => unknown }).sendCommand = (...args: unknown[]) => {
      counter.sent++;
      return send(...args);
    };
  }

  /** As `connect`, with Valkey GLIDE clients (the GLIDE section; their commands are not counted). */
  async connectGlide(addresses = this.addresses): Promise<GlideClient[]> {
    const clients = await Promise.all(
      addresses.map((address) =>
        GlideClient.createClient({ addresses: [parseAddress(address)], requestTimeout: 5_000 }),
      ),
    );
    this.#glide.push(...clients);
    return clients;
  }

  /** As `connect`, with ioredis 5 clients (the ioredis 5 section). */
  async connectIoredis5(addresses = this.addresses): Promise<Redis5[]> {
    const clients = addresses.map((address) => {
      const { host, port } = parseAddress(address);
      const client = new Redis5({ host, port, maxRetriesPerRequest: 0, lazyConnect: true });
      client.on('error', noteError);
      this.#count(client);
      this.#clients.push(client);
      return client;
    });
    await Promise.all(clients.map((c) => c.connect()));
    return clients;
  }

  /** One ready client per address. */
  async connect(options: ConnectOptions = {}, addresses = this.addresses): Promise<Redis[]> {
    const clients = addresses.map((address) => {
      const { host, port } = parseAddress(address);
      const client = new Redis({
        host,
        port,
        maxRetriesPerRequest: 0,
        lazyConnect: true,
        enableAutoPipelining: options.autoPipelining ?? false,
      });
      client.on('error', noteError);
      this.#count(client);
      this.#clients.push(client);
      return client;
    });
    await Promise.all(clients.map((c) => c.connect()));
    return clients;
  }

  /** One connected node-redis client per address. */
  async connectNodeRedis(addresses = this.addresses): Promise<NodeRedisClient[]> {
    const clients = addresses.map((address) => {
      const { host, port } = parseAddress(address);
      const client = createNodeRedis(host, port);
      client.on('error', noteError);
      this.#count(client);
      this.#nodeRedis.push(client);
      return client;
    });
    await Promise.all(clients.map((c) => c.connect()));
    return clients;
  }

  /** Disconnect every client made so far and wait until each has closed. */
  async closeAll(): Promise<void> {
    const clients = this.#clients.splice(0);
    const nodeRedis = this.#nodeRedis.splice(0);
    for (const client of this.#glide.splice(0)) client.close();
    await Promise.all([
      ...clients.map(closeClient),
      ...nodeRedis.map((c) => (c.isOpen ? c.close().catch(() => undefined) : undefined)),
    ]);
  }
}

async function closeClient(client: Redis | Redis5): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect();
  await ended;
}
