import type { RedisClient } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { type ClusterTransport, clusterExec } from './cluster.js';

/** The part of an ioredis `Cluster` the adapter uses. */
/** The part of an ioredis `Cluster` the adapter uses. */
export interface IoredisClusterLike {
  readonly isCluster: boolean;
  /** Send one command; the cluster routes it by its first key. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** The cluster's node clients (the adapter reads INFO from every master). */
  nodes(role?: 'master' | 'slave' | 'all'): Array<{
    /** One command to this node. */ call(command: string, ...args: string[]): Promise<unknown>;
  }>;
  readonly options?: { scaleReads?: unknown; enableOfflineQueue?: boolean | undefined };
}

/** Options of `ioredisClusterAdapter`. */
export interface IoredisClusterAdapterOptions {
  /** Name of the node in reports; must differ between nodes. @default `cluster:` and the startup nodes */
  readonly endpoint?: string;
}

/**
 * Wrap an ioredis `Cluster` as one node: one vote for the whole cluster. Every command sent
 * touches one slot (scripts over several slots run per slot group, docs/adr/016-cluster-key-layout.md);
 * MOVED and ASK are followed by the client. INFO is read from every master and merged.
 *
 * For quorum use: `new Cluster(seeds, { redisOptions: { maxRetriesPerRequest: 0 } })`, and
 * `scaleReads: 'master'` (the default): the scripts write.
 */
export function ioredisClusterAdapter(
  cluster: IoredisClusterLike,
  options: IoredisClusterAdapterOptions = {},
): RedisClient {
  if (
    cluster?.isCluster !== true ||
    typeof cluster.call !== 'function' ||
    typeof cluster.nodes !== 'function'
  ) {
    throw new TypeError('ioredisClusterAdapter(cluster) needs an ioredis Cluster instance');
  }
  const scaleReads = cluster.options?.scaleReads;
  if (scaleReads !== undefined && scaleReads !== 'master') {
    throw new InvalidArgumentError(
      'cluster.options.scaleReads',
      "'master' (the default)",
      scaleReads,
      'lock keys are read inside scripts that run on masters; do not send reads to replicas',
    );
  }
  const transport: ClusterTransport = {
    async call(name, args) {
      try {
        return await cluster.call(name, ...args);
      } catch (error) {
        if (error instanceof Error && error.name === 'ReplyError') return error;
        throw error;
      }
    },
    async infoOfMasters(sections) {
      const masters = cluster.nodes('master');
      if (masters.length === 0) throw new Error('the ioredis Cluster knows no master (not connected yet?)');
      return Promise.all(
        masters.map((m) =>
          m.call('INFO', ...sections).catch((error: unknown) => {
            if (error instanceof Error && error.name === 'ReplyError') return error;
            throw error;
          }),
        ),
      );
    },
  };
  return {
    endpoint: options.endpoint ?? `cluster:${startupNodes(cluster)}`,
    cluster: true,
    exec: (commands) => clusterExec(transport, commands),
  };
}

/** The cluster's startup nodes as `host:port,...` (sorted), read from the client at run time. */
function startupNodes(cluster: IoredisClusterLike): string {
  const seeds = (cluster as unknown as { startupNodes?: unknown }).startupNodes;
  if (!Array.isArray(seeds) || seeds.length === 0) return 'unknown';
  return seeds
    .map((s: unknown) => {
      if (typeof s === 'string') return s;
      if (typeof s === 'number') return `127.0.0.1:${s}`;
      const o = s as { host?: string; port?: number };
      return `${o.host ?? 'localhost'}:${o.port ?? 6379}`;
    })
    .sort()
    .join(',');
}
