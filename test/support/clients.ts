import { Redis, type RedisOptions } from 'ioredis';
import { createClient } from 'redis';
import type { RedisClient } from '../../src/adapter.js';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { nodeRedisAdapter } from '../../src/adapters/node-redis.js';
import { parseAddress } from '../../tools/nodes.js';

/**
 * Disconnect and wait for the socket to close. A client that is between reconnection attempts
 * has no socket: ioredis then only cancels the pending attempt and emits nothing more.
 */
export function disconnectIoredis(client: Redis): Promise<void> {
  const hasSocket = !['end', 'reconnecting', 'wait'].includes(client.status);
  const ended = hasSocket
    ? new Promise<void>((resolve) => client.once('end', () => resolve()))
    : Promise.resolve();
  client.disconnect();
  return ended;
}

export type ClientKind = 'ioredis' | 'node-redis';

/**
 * A liveness limit for connecting to a node that is up, not a timing claim: on a loaded machine
 * (CI with another test run beside it) dozens of connections can take seconds to be accepted.
 */
const CONNECT_TIMEOUT_MS = 20_000;

/** Adapters over freshly connected clients, and a close() that ends every connection. */
export interface ConnectedClients {
  readonly clients: RedisClient[];
  close(): Promise<void>;
}

/**
 * Connect one client per address, the way DESIGN.md recommends for quorum use: no command is
 * retried on reconnect, so the core's per-node timeout and unknown-vote rule are what is tested.
 * `endpoints` names the nodes (for proxies, the real node behind each one). `ioredisOptions`
 * override the ioredis settings (for example a faster `retryStrategy` behind a fault proxy).
 */
export async function connectClients(
  addresses: readonly string[],
  kind: ClientKind = 'ioredis',
  endpoints: readonly string[] = addresses,
  ioredisOptions: RedisOptions = {},
): Promise<ConnectedClients> {
  if (kind === 'ioredis') {
    const raw = addresses.map((address) => {
      const { host, port } = parseAddress(address);
      const client = new Redis({
        host,
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ...ioredisOptions,
      });
      client.on('error', () => {});
      return client;
    });
    const connecting = await Promise.allSettled(raw.map((c) => c.connect()));
    const failed = connecting.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      // Do not leave the others connected (or reconnecting) behind.
      await Promise.all(raw.map(disconnectIoredis));
      throw failed.reason;
    }
    return {
      clients: raw.map((c, i) => ioredisAdapter(c, { endpoint: endpoints[i]! })),
      async close() {
        await Promise.all(raw.map(disconnectIoredis));
      },
    };
  }
  const raw = addresses.map((address) => {
    const { host, port } = parseAddress(address);
    const client = createClient({
      socket: { host, port, reconnectStrategy: false, connectTimeout: CONNECT_TIMEOUT_MS },
    });
    client.on('error', () => {});
    return client;
  });
  const connecting = await Promise.allSettled(raw.map((c) => c.connect()));
  const failed = connecting.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(raw.map((c) => (c.isOpen ? c.destroy() : undefined)));
    throw failed.reason;
  }
  return {
    clients: raw.map((c, i) => nodeRedisAdapter(c, { endpoint: endpoints[i]! })),
    async close() {
      await Promise.all(raw.map((c) => (c.isOpen ? c.destroy() : undefined)));
    },
  };
}
