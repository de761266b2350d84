import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GlideClient } from '@valkey/valkey-glide';
import { Redis, type RedisOptions } from 'ioredis';
import { Redis as Redis5, type RedisOptions as Redis5Options } from 'ioredis5';
import { createClient } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { createClient as createClient5 } from 'redis5';
import type { RedisClient } from '../../src/adapter.js';
import { glideAdapter } from '../../src/adapters/glide.js';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { nodeRedisAdapter } from '../../src/adapters/node-redis.js';
import { parseAddress } from '../../tools/nodes.js';

const require = createRequire(import.meta.url);

/**
 * Disconnect and wait for the socket to close. A client that is between reconnection attempts
 * has no socket: ioredis then only cancels the pending attempt and emits nothing more.
 */
export function disconnectIoredis(client: Redis | Redis5): Promise<void> {
  const hasSocket = !['end', 'reconnecting', 'wait'].includes(client.status);
  const ended = hasSocket
    ? new Promise<void>((resolve) => client.once('end', () => resolve()))
    : Promise.resolve();
  client.disconnect();
  return ended;
}

/**
 * The client libraries the adapters are tested with: the versions `npm install ioredis redis`
 * gives today (ioredis 6, redis 6), and the previous majors under the npm aliases `ioredis5`,
 * `redis5` and `redis4` (package.json devDependencies).
 */
export type ClientKind = 'ioredis' | 'node-redis' | 'ioredis5' | 'node-redis5' | 'node-redis4' | 'glide';

export const CLIENT_KINDS: readonly ClientKind[] = [
  'ioredis',
  'ioredis5',
  'node-redis',
  'node-redis5',
  'node-redis4',
  'glide',
];

/** The installed version of a kind's library, for test titles. */
export function clientVersion(kind: ClientKind): string {
  const name = {
    ioredis: 'ioredis',
    ioredis5: 'ioredis5',
    'node-redis': 'redis',
    'node-redis5': 'redis5',
    'node-redis4': 'redis4',
    glide: '@valkey/valkey-glide',
  }[kind];
  if (kind === 'glide') {
    // Its exports map hides package.json: read it from where the module resolves.
    const main = require.resolve(name);
    const root = main.slice(0, main.indexOf('valkey-glide') + 'valkey-glide'.length);
    return (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string }).version;
  }
  return (require(`${name}/package.json`) as { version: string }).version;
}

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
  if (kind === 'ioredis' || kind === 'ioredis5') {
    const raw = addresses.map((address) => {
      const { host, port } = parseAddress(address);
      const options = {
        host,
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ...ioredisOptions,
      };
      // ioredis 6's constructor types `replyMapping` without `undefined` (exactOptionalPropertyTypes).
      const client =
        kind === 'ioredis'
          ? new Redis(options as RedisOptions & { replyMapping?: 'legacy' })
          : new Redis5(options as Redis5Options);
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
  if (kind === 'node-redis4') return connectNodeRedis4(addresses, endpoints);
  if (kind === 'glide') return connectGlide(addresses, endpoints);
  const raw = addresses.map((address) => {
    const { host, port } = parseAddress(address);
    const socket = { host, port, reconnectStrategy: false as const, connectTimeout: CONNECT_TIMEOUT_MS };
    // node-redis 6 bounds every command by a 5 s `AbortSignal.timeout` whose timer outlives the
    // reply (unref'd, but the leak guard of test/support/setup.ts sees it): the core bounds each
    // call with its own per-node timeout, so the tests turn node-redis's off.
    const client =
      kind === 'node-redis'
        ? createClient({ socket, commandOptions: { timeout: 0 } })
        : createClient5({ socket });
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

/** node-redis 4 (no `destroy()`, no command timeout of its own): `disconnect()` ends a client. */
async function connectNodeRedis4(
  addresses: readonly string[],
  endpoints: readonly string[],
): Promise<ConnectedClients> {
  const raw = addresses.map((address) => {
    const { host, port } = parseAddress(address);
    const client = createClient4({
      socket: { host, port, reconnectStrategy: false, connectTimeout: CONNECT_TIMEOUT_MS },
    });
    client.on('error', () => {});
    return client;
  });
  const end = () =>
    Promise.all(raw.map((c) => (c.isOpen ? c.disconnect().catch(() => undefined) : undefined)));
  const connecting = await Promise.allSettled(raw.map((c) => c.connect()));
  const failed = connecting.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await end();
    throw failed.reason;
  }
  return {
    clients: raw.map((c, i) => nodeRedisAdapter(c, { endpoint: endpoints[i]! })),
    async close() {
      await end();
    },
  };
}

/** Valkey GLIDE standalone clients; `close()` ends each. */
async function connectGlide(
  addresses: readonly string[],
  endpoints: readonly string[],
): Promise<ConnectedClients> {
  const connecting = await Promise.allSettled(
    addresses.map((address) =>
      GlideClient.createClient({ addresses: [parseAddress(address)], requestTimeout: 5_000 }),
    ),
  );
  const raw = connecting.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = connecting.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    for (const c of raw) c.close();
    throw failed.reason;
  }
  return {
    clients: raw.map((c, i) => glideAdapter(c, { endpoint: endpoints[i]! })),
    async close() {
      for (const c of raw) c.close();
    },
  };
}
