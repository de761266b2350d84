import type { RedisClient } from '../adapter.js';
import { type ClusterTransport, clusterExec } from './cluster.js';
import { endpointOf, errorReplyOrThrow as replyOrThrow } from './shared.js';

/** The part of a node-redis cluster client (`createCluster()`) the adapter uses. */
/** The part of a node-redis cluster client (`createCluster()`) the adapter uses. */
export interface NodeRedisClusterLike {
  /** Send one command, routed by `firstKey`. */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  readonly masters: readonly unknown[];
  /** The client of one node (the adapter reads INFO from every master). */
  nodeClient(node: never):
    | {
        /** One command to this node. */
        sendCommand(args: string[]): Promise<unknown>;
      }
    | Promise<{
        /** One command to this node. */
        sendCommand(args: string[]): Promise<unknown>;
      }>;
  readonly _options?: {
    rootNodes?: ReadonlyArray<{ url?: string; socket?: { host?: string; port?: number } }>;
  };
}

/** Options of `nodeRedisClusterAdapter`. */
export interface NodeRedisClusterAdapterOptions {
  /** Name of the node in reports; must differ between nodes. @default `cluster:` and the root nodes */
  readonly endpoint?: string;
}

/** True for a node-redis cluster client (duck-typed: `masters` and `nodeClient`). */
export function isNodeRedisCluster(client: unknown): client is NodeRedisClusterLike {
  return (
    typeof client === 'object' &&
    client !== null &&
    'masters' in client &&
    typeof (client as { nodeClient?: unknown }).nodeClient === 'function'
  );
}

/**
 * Wrap a node-redis cluster client as one node: one vote for the whole cluster. Every command
 * sent touches one slot (docs/adr/016-cluster-key-layout.md); MOVED and ASK are followed by the
 * client. INFO is read from every master and merged.
 */
export function nodeRedisClusterAdapter(
  cluster: NodeRedisClusterLike,
  options: NodeRedisClusterAdapterOptions = {},
): RedisClient {
  if (!isNodeRedisCluster(cluster) || typeof cluster.sendCommand !== 'function') {
    throw new TypeError(
      'nodeRedisClusterAdapter(cluster) needs a node-redis cluster client (createCluster())',
    );
  }
  const transport: ClusterTransport = {
    async call(name, args) {
      // The first key routes the command: SET key ..., EVALSHA sha numkeys key ..., GET key.
      const firstKey = name === 'SET' || name === 'GET' ? args[0] : args[2];
      try {
        return await cluster.sendCommand(firstKey, false, [name, ...args]);
      } catch (error) {
        return replyOrThrow(error);
      }
    },
    async infoOfMasters(sections) {
      const masters = cluster.masters;
      if (masters.length === 0)
        throw new Error('the node-redis cluster knows no master (not connected yet?)');
      return Promise.all(
        masters.map(async (master) => {
          const client = await cluster.nodeClient(master as never);
          try {
            return await client.sendCommand(['INFO', ...sections]);
          } catch (error) {
            return replyOrThrow(error);
          }
        }),
      );
    },
  };
  return {
    endpoint: options.endpoint ?? `cluster:${rootNodes(cluster)}`,
    cluster: true,
    exec: (commands) => clusterExec(transport, commands),
  };
}

function rootNodes(cluster: NodeRedisClusterLike): string {
  const roots = cluster._options?.rootNodes ?? [];
  if (roots.length === 0) return 'unknown';
  return roots
    .map((r) => {
      if (r.url) {
        const url = new URL(r.url);
        return `${url.hostname}:${url.port || 6379}`;
      }
      return endpointOf(r.socket?.host, r.socket?.port, 0).replace(/\/0$/, '');
    })
    .sort()
    .join(',');
}
