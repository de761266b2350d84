import type { Script } from './scripts/define.js';

export type { Script };

/**
 * The seam between the core and a Redis node. The core imports no Redis client: everything it
 * needs from a node is one `exec` call that carries one or more commands for that node, sent in
 * one round trip where the client can (a pipeline), answered in the same order.
 */

/** Run a script: EVALSHA first, EVAL when the node answers NOSCRIPT (R15). */
export interface EvalCommand {
  readonly type: 'eval';
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

/** `INFO <sections...>`; the reply is the raw INFO text. */
export interface InfoCommand {
  readonly type: 'info';
  readonly sections: readonly string[];
}

/** One command for a node: a script (EVALSHA, EVAL on NOSCRIPT) or an INFO. */
export type Command = EvalCommand | InfoCommand;

/**
 * A reply as the client decoded it: integers as numbers, bulk strings as strings, arrays as
 * arrays, nil as null. An error reply for one command is an `Error` in that command's slot.
 */
export type Reply = unknown;

/** What the core needs from one Redis node: a name and `exec`. Made by `ioredisAdapter` or `nodeRedisAdapter`, or written for another client. */
export interface RedisClient {
  /**
   * A stable name for the node, such as `127.0.0.1:7001/0`. Two adapters with the same endpoint
   * are refused at construction; it also names the node in reports and errors.
   */
  readonly endpoint: string;
  /**
   * Send `commands` to this node in one call and resolve with one entry per command, in order:
   * the decoded reply, or an `Error` for an error reply. Reject only when the call as a whole
   * failed (connection closed, refused, client shut down). The core bounds every call with its
   * own per-node timeout, so an adapter need not, and it must not queue forever on its own.
   */
  exec(commands: readonly Command[]): Promise<Reply[]>;
  /**
   * True when the node is a Redis Cluster (one vote for the whole cluster): the core then does
   * not merge several calls into one batch script, whose keys could lie in different slots
   * (docs/adr/016-cluster-key-layout.md). Absent for a single server.
   */
  readonly cluster?: boolean;
}

/** True for values that look like a RedisClient adapter. */
export function isRedisClient(value: unknown): value is RedisClient {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { exec?: unknown }).exec === 'function' &&
    typeof (value as { endpoint?: unknown }).endpoint === 'string'
  );
}

/**
 * Name the adapter a raw client needs, so the error can say what to do with it.
 * Duck-typed: the core never imports a client library.
 */
export function rawClientKind(value: unknown): 'ioredis' | 'node-redis' | 'glide' | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.customCommand === 'function' && typeof v.exec === 'function') return 'glide';
  if (typeof v.defineCommand === 'function' && typeof v.pipeline === 'function') return 'ioredis';
  if (typeof v.sendCommand === 'function' && ('isOpen' in v || 'isReady' in v)) return 'node-redis';
  return undefined;
}

/** NOSCRIPT is recognised by the first word of the error reply; the clients give it no code. */
export function isNoScriptError(error: unknown): boolean {
  // Valkey GLIDE words it "An error was signalled by the server: - NoScriptError: ...".
  return (
    error instanceof Error &&
    (error.message.startsWith('NOSCRIPT') || error.message.includes('NoScriptError'))
  );
}
