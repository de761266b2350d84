import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import type { RedisClient } from '../../src/adapter.js';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { nodeRedisAdapter } from '../../src/adapters/node-redis.js';
import type { RedisCluster } from '../../tools/cluster.js';
import type { ClientKind, ConnectedClients } from './clients.js';

/**
 * An ioredis Cluster client the way docs/adapters.md recommends for quorum use: no command
 * resent after a reconnect, no periodic slot refresh timer (MOVED still refreshes the map).
 */
export function ioredisCluster(cluster: RedisCluster): Cluster {
  const client = new Cluster(cluster.seeds, {
    lazyConnect: true,
    slotsRefreshInterval: 0,
    // disconnectTimeout: a connection to a killed master is dropped at once on close.
    redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 10_000, disconnectTimeout: 100 },
    clusterRetryStrategy: (times) => (times > 3 ? null : 100),
  });
  client.on('error', () => {});
  client.on('node error', () => {});
  return client;
}

/** Disconnect an ioredis Cluster and wait until it has ended. */
export function closeIoredisCluster(client: Cluster): Promise<void> {
  if (client.status === 'end') return Promise.resolve();
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect();
  return ended;
}

function nodeRedisCluster(cluster: RedisCluster) {
  const client = createCluster({
    rootNodes: cluster.seeds.map((s) => ({ socket: s })),
    // node-redis 6 bounds every command by a 5 s timer that outlives a fast answer (the leak guard
    // sees it); the core bounds each call itself, so it is off (as in clients.ts): for commands
    // through the cluster, and for those the adapter sends to a master's own client (INFO).
    commandOptions: { timeout: 0 },
    defaults: {
      socket: { reconnectStrategy: false, connectTimeout: 10_000 },
      disableOfflineQueue: true,
      // Not in the defaults' type, but handed to each node's client with the rest.
      ...({ commandOptions: { timeout: 0 } } as object),
    },
  });
  client.on('error', () => {});
  return client;
}

/** One adapter per cluster (each cluster one node), over freshly connected clients of `kind`. */
export async function connectClusters(
  clusters: readonly RedisCluster[],
  kind: ClientKind = 'ioredis',
): Promise<ConnectedClients> {
  if (kind === 'ioredis') {
    const raw = clusters.map(ioredisCluster);
    const connecting = await Promise.allSettled(raw.map((c) => c.connect()));
    const failed = connecting.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(raw.map(closeIoredisCluster));
      throw failed.reason;
    }
    return {
      clients: raw.map((c) => ioredisAdapter(c)),
      close: async () => {
        await Promise.all(raw.map(closeIoredisCluster));
      },
    };
  }
  const raw = clusters.map(nodeRedisCluster);
  const connecting = await Promise.allSettled(raw.map((c) => c.connect()));
  const failed = connecting.find((r) => r.status === 'rejected');
  const close = async () => {
    for (const c of raw) {
      try {
        if (c.isOpen) c.destroy();
      } catch {
        // a shard whose server died is closed already
      }
    }
  };
  if (failed !== undefined) {
    await close();
    throw failed.reason;
  }
  const clients: RedisClient[] = raw.map((c) => nodeRedisAdapter(c));
  return { clients, close };
}
