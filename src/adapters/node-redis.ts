import type { RedisClient } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import {
  isNodeRedisCluster,
  type NodeRedisClusterLike,
  nodeRedisClusterAdapter,
} from './node-redis-cluster.js';
import { endpointOf, execEach, errorReplyOrThrow as replyOrThrow } from './shared.js';

/** The part of a node-redis client (`createClient()`) the adapter uses. */
export interface NodeRedisLike {
  /** Send one command, its name first. */
  sendCommand(args: string[]): Promise<unknown>;
  // Every field may be undefined: node-redis 4 types `options` as `RedisClientOptions | undefined`.
  readonly options?:
    | {
        socket?:
          | { host?: string | undefined; port?: number | undefined; path?: string | undefined }
          | undefined;
        database?: number | undefined;
        url?: string | undefined;
      }
    | undefined;
}

/** Options of `nodeRedisAdapter`. */
export interface NodeRedisAdapterOptions {
  /** Name of the node in reports; must differ between nodes. @default host:port/database from the client's options */
  readonly endpoint?: string;
}

/**
 * Wrap a node-redis (`redis` package, v4 and later) client. Registers nothing on the client:
 * scripts go through `sendCommand` as EVALSHA with an EVAL fallback on NOSCRIPT. Commands issued
 * together are written in one batch by node-redis's own pipelining.
 *
 * For quorum use, prefer `disableOfflineQueue: true` so a disconnected node fails at once.
 * A cluster client (`createCluster()`) is one node: see {@link nodeRedisClusterAdapter}.
 */
export function nodeRedisAdapter(
  input: NodeRedisLike | NodeRedisClusterLike | NodeRedisSentinelLike,
  options: NodeRedisAdapterOptions = {},
): RedisClient {
  if (isNodeRedisCluster(input)) return nodeRedisClusterAdapter(input, options);
  if (isNodeRedisSentinel(input)) {
    if (typeof options.endpoint !== 'string' || options.endpoint === '') {
      throw new InvalidArgumentError(
        'options.endpoint',
        'a non-empty name for a Sentinel-managed node',
        options.endpoint,
        "a node-redis Sentinel client keeps its master name and sentinels private: name the node, e.g. { endpoint: 'sentinel:mymaster@10.0.0.1:26379' }",
      );
    }
    return nodeRedisAdapter(sentinelClient(input), options);
  }
  const client = input as NodeRedisLike;
  if (typeof client?.sendCommand !== 'function') {
    throw new TypeError('nodeRedisAdapter(client) needs a node-redis client (with sendCommand())');
  }
  const endpoint = options.endpoint ?? nodeRedisEndpoint(client);

  return {
    endpoint,
    exec: (commands) => execEach(commands, (args) => client.sendCommand(args), replyOrThrow),
  };
}

/** The part of a node-redis Sentinel client (`createSentinel()`) the adapter uses. */
export interface NodeRedisSentinelLike {
  /** Send one command to the current master. */
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  /** The master the sentinels name now (the adapter uses it to tell a Sentinel client apart). */
  getMasterNode(): unknown;
}

function isNodeRedisSentinel(client: unknown): client is NodeRedisSentinelLike {
  const c = client as Partial<NodeRedisSentinelLike> | null;
  return typeof c?.getMasterNode === 'function' && typeof c.sendCommand === 'function';
}

/** A Sentinel client seen as one client of the current master: every command goes to the master. */
function sentinelClient(sentinel: NodeRedisSentinelLike): NodeRedisLike {
  return { sendCommand: (args) => sentinel.sendCommand(false, args) };
}

function nodeRedisEndpoint(client: NodeRedisLike): string {
  const o = client.options ?? {};
  if (o.socket?.host || o.socket?.port || o.socket?.path) {
    return endpointOf(o.socket.host, o.socket.port, o.database, o.socket.path);
  }
  if (o.url) {
    const url = new URL(o.url);
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : o.database;
    return endpointOf(url.hostname, url.port || 6379, db ?? 0);
  }
  return endpointOf(undefined, undefined, o.database);
}
