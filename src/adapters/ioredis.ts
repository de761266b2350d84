import { type Command, isNoScriptError, type RedisClient } from '../adapter.js';
import { type IoredisClusterLike, ioredisClusterAdapter } from './ioredis-cluster.js';
import { endpointOf, evalArgs, replyOf, wire } from './shared.js';

/** The part of an ioredis client (`Redis`) the adapter uses: `call` and `pipeline`. */
export interface IoredisLike {
  /** Send one command. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** Start a pipeline: several commands in one write. */
  pipeline(): {
    /** Queue one command. */
    call(command: string, ...args: string[]): unknown;
    /** Send the queued commands; one `[error, reply]` per command. */
    exec(): Promise<[Error | null, unknown][] | null>;
  };
  /** `ready`, `connecting`, `reconnecting`, `end`, ...: a closed connection fails a call at once. */
  readonly status?: string;
  readonly options?: {
    host?: string | undefined;
    port?: number | undefined;
    db?: number | undefined;
    path?: string | undefined;
    /** Sentinel mode: the master's name and the sentinels asked for its address. */
    name?: string | undefined;
    sentinels?: ReadonlyArray<{ host?: string | undefined; port?: number | undefined }> | null | undefined;
  };
}

/** Options of `ioredisAdapter`. */
export interface IoredisAdapterOptions {
  /** Name of the node in reports; must differ between nodes. @default `host:port/db` from the client's options */
  readonly endpoint?: string;
}

/**
 * Wrap an ioredis client: a standalone server, or a Sentinel-managed master (`new Redis({ sentinels,
 * name })`; a failover is detected by its INFO, docs/operations.md). A `Cluster` is one node, handed to {@link ioredisClusterAdapter}. Registers nothing on the client: scripts run with
 * EVALSHA and fall back to EVAL on NOSCRIPT. Several commands for the node go in one pipeline.
 *
 * For quorum use, configure the client never to resend a command after a reconnect:
 * `new Redis({ maxRetriesPerRequest: 0 })` (docs/operations.md). The core bounds every call with
 * its own per-node timeout regardless.
 */
export function ioredisAdapter(
  input: IoredisLike | IoredisClusterLike,
  options: IoredisAdapterOptions = {},
): RedisClient {
  if ((input as Partial<IoredisClusterLike>)?.isCluster === true) {
    return ioredisClusterAdapter(input as IoredisClusterLike, options);
  }
  const client = input as IoredisLike;
  if (!isIoredisLike(client)) {
    throw new TypeError(
      'ioredisAdapter(client) needs an ioredis Redis instance (with call() and pipeline())',
    );
  }
  const o = client.options ?? {};
  const sentinel = o.sentinels?.[0];
  const endpoint =
    options.endpoint ??
    (sentinel && o.name
      ? `sentinel:${o.name}@${endpointOf(sentinel.host, sentinel.port ?? 26379, o.db)}`
      : endpointOf(o.host, o.port, o.db, o.path));

  async function one(commands: readonly Command[]): Promise<unknown[]> {
    const command = commands[0]!;
    const [name, args] = wire(command, commands);
    try {
      return [replyOf(command, commands, await client.call(name, ...args))];
    } catch (error) {
      if (command.type === 'eval' && isNoScriptError(error)) {
        return [await client.call('EVAL', ...evalArgs(command))];
      }
      throw error;
    }
  }

  async function many(commands: readonly Command[]): Promise<unknown[]> {
    const pipeline = client.pipeline();
    for (const command of commands) {
      const [name, args] = wire(command, commands);
      pipeline.call(name, ...args);
    }
    const results = await pipeline.exec();
    if (results === null) throw new Error('ioredis pipeline returned no results');
    const replies: unknown[] = results.map(
      ([error, reply], i) => error ?? replyOf(commands[i]!, commands, reply),
    );
    // NOSCRIPT after a restart or SCRIPT FLUSH: run those commands again with EVAL, in order.
    const missing = commands.flatMap((c, i) => (c.type === 'eval' && isNoScriptError(replies[i]) ? [i] : []));
    if (missing.length > 0) {
      const retry = client.pipeline();
      for (const i of missing)
        retry.call('EVAL', ...evalArgs(commands[i] as Extract<Command, { type: 'eval' }>));
      const again = await retry.exec();
      if (again === null) throw new Error('ioredis pipeline returned no results');
      missing.forEach((i, k) => {
        const [error, reply] = again[k]!;
        replies[i] = error ?? reply;
      });
    }
    return replies;
  }

  return {
    endpoint,
    exec(commands) {
      // A connection known closed would queue the call until the next reconnect (past the
      // core's per-node timeout, and a late SET is no use): fail it now, saying why.
      if (client.status !== undefined && CLOSED.has(client.status)) {
        return Promise.reject(
          new ConnectionClosedError(
            `ioredis connection to ${endpoint} is ${client.status}: call not sent`,
            client.status,
          ),
        );
      }
      if (commands.length === 1)
        return one(commands).catch((error: unknown) => {
          // An error reply is that command's answer, not a failed call.
          if (isReplyError(error)) return [error];
          throw error;
        });
      return many(commands);
    },
  };
}

/**
 * ioredis statuses in which the connection is down and a command would wait in the offline queue
 * for the next reconnect. (`end`, closed for good, is left to ioredis: it rejects at once with
 * "Connection is closed.")
 */
const CLOSED = new Set(['close', 'reconnecting']);

/** A call refused by the adapter because the client's connection is known closed. */
class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
  readonly code = 'ERR_QUORUMLOCK_CONNECTION_CLOSED';
  readonly status: string;
  constructor(message: string, status: string) {
    super(message);
    this.status = status;
  }
}

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

function isIoredisLike(client: unknown): client is IoredisLike {
  const c = client as Partial<IoredisLike> | null | undefined;
  return typeof c?.call === 'function' && typeof c.pipeline === 'function';
}
