import type { RedisClient } from '../adapter.js';
import { endpointOf, execEach } from './shared.js';

/** The part of a Valkey GLIDE client (`GlideClient`, `@valkey/valkey-glide` 2.x) the adapter uses. */
export interface GlideLike {
  /** Send one command as given (GLIDE's `customCommand`); an error reply rejects. */
  customCommand(args: string[]): Promise<unknown>;
}

/** Options of `glideAdapter`. */
export interface GlideAdapterOptions {
  /** Name of the node in reports; must differ between nodes. @default `glide:host:port`, when given */
  readonly endpoint?: string;
  /** The address the client was created with, to name the node. */
  readonly address?: { readonly host?: string; readonly port?: number };
}

/**
 * Wrap a Valkey GLIDE standalone client (`GlideClient.createClient(...)`) as one node. Every
 * command goes through `customCommand` (GLIDE's `invokeScript` cannot run inside a batch, and a
 * script here must be EVALSHA with an EVAL fallback on NOSCRIPT). The commands of one call are
 * issued together, in order, on GLIDE's one multiplexed connection to the node, so the node runs
 * them in order. An error reply stays in its command's slot; a failed connection rejects the call.
 *
 * For quorum use, give the client a `requestTimeout` no longer than the Redlock's per-node timeout
 * (docs/adapters.md): GLIDE then never holds a command longer than the core waits for it.
 */
export function glideAdapter(client: GlideLike, options: GlideAdapterOptions = {}): RedisClient {
  if (typeof client?.customCommand !== 'function') {
    throw new TypeError('glideAdapter(client) needs a Valkey GLIDE client (with customCommand())');
  }
  const { address } = options;
  const endpoint =
    options.endpoint ?? (address ? `glide:${endpointOf(address.host, address.port, 0)}` : undefined);
  if (endpoint === undefined) {
    throw new TypeError(
      'glideAdapter(client, { endpoint }) needs an endpoint (or the address): GLIDE does not expose it',
    );
  }

  return {
    endpoint,
    exec: (commands) => execEach(commands, (args) => client.customCommand(args), replyOrThrow),
  };
}

/**
 * GLIDE's error replies are `RequestError`s; a closed client (`ClosingError`), a failed or timed
 * out connection (`ConnectionError`, `TimeoutError`, subclasses of RequestError) fail the call as
 * a whole. Told apart by class name, so the adapter imports nothing from the client.
 */
const CALL_FAILURES = new Set(['ClosingError', 'ConnectionError', 'TimeoutError', 'CircuitBreakerError']);

function replyOrThrow(error: unknown): Error {
  if (!(error instanceof Error) || CALL_FAILURES.has(error.constructor.name)) throw error;
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'RequestError') return error;
  }
  throw error;
}
