import type { Command, RedisClient } from '../../src/adapter.js';
import type { Clock, Timers } from '../../src/clock.js';
import { LockAcquireError } from '../../src/errors.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';
import { VirtualTime as Time, type VirtualTime, virtualRuntime } from './virtual-time.js';

/** One call sent to a node: when (virtual ms) and what. */
export interface CallRecord {
  readonly endpoint: string;
  readonly commands: readonly Command[];
  readonly at: number;
}

/** How one link from the client to a node behaves, decided per call. */
export type LinkBehaviour =
  | { readonly kind: 'up'; readonly delayMs?: number }
  /** The request is lost: no effect, no answer. */
  | { readonly kind: 'blackhole' }
  /** The node executes the request, and the answer is lost. */
  | { readonly kind: 'drop-reply' }
  /** The connection is refused: the call rejects at once. */
  | { readonly kind: 'refused' };

/**
 * A MemoryNode behind a link whose behaviour tests can change between calls; the node executes
 * a request when it arrives (after half the delay) and the reply takes the other half.
 */
export function linkedAdapter(
  node: MemoryNode,
  time: Clock & Timers,
  endpoint: string,
  link: { current: LinkBehaviour },
  log?: (entry: CallRecord) => void,
): RedisClient {
  const base = memoryAdapter(node, { endpoint });
  return {
    endpoint,
    exec(commands) {
      log?.({ endpoint, commands, at: time.now() });
      const behaviour = link.current;
      switch (behaviour.kind) {
        case 'refused':
          return Promise.reject(
            Object.assign(new Error(`connect ECONNREFUSED ${endpoint}`), { code: 'ECONNREFUSED' }),
          );
        case 'blackhole':
          return new Promise<never>(() => {});
        case 'drop-reply':
          return base.exec(commands).then(() => new Promise<never>(() => {}));
        case 'up': {
          const half = (behaviour.delayMs ?? 0) / 2;
          if (half === 0) return base.exec(commands);
          return new Promise((resolve, reject) => {
            time.setTimeout(() => {
              const replies = base.exec(commands);
              time.setTimeout(() => replies.then(resolve, reject), half);
            }, half);
          });
        }
      }
    },
  };
}

/** N memory nodes on one virtual clock, each behind a controllable link, with a call log. */
export class MemoryCluster {
  readonly nodes: MemoryNode[];
  readonly links: Array<{ current: LinkBehaviour }>;
  readonly clients: RedisClient[];
  readonly calls: CallRecord[] = [];

  constructor(n: number, time: VirtualTime) {
    this.nodes = Array.from({ length: n }, () => new MemoryNode({ clock: time }));
    this.links = this.nodes.map(() => ({ current: { kind: 'up' } as LinkBehaviour }));
    this.clients = this.nodes.map((node, i) =>
      linkedAdapter(node, time, `mem-${i}`, this.links[i]!, (entry) => this.calls.push(entry)),
    );
  }

  set(i: number, behaviour: LinkBehaviour): void {
    this.links[i]!.current = behaviour;
  }

  /** Every live key on every node, as `node:key=value`. */
  keys(): string[] {
    return this.nodes.flatMap((node, i) => node.keys().map((key) => `${i}:${key}=${node.get(key)}`));
  }

  /** Nodes where `key` holds `value`. */
  holding(key: string, value: string): number[] {
    return this.nodes.flatMap((node, i) => (node.get(key) === value ? [i] : []));
  }

  /** Script calls of one script (by name), in the order they were sent. */
  scriptCalls(
    name: string,
  ): Array<{ endpoint: string; at: number; keys: readonly string[]; args: readonly string[] }> {
    return this.calls.flatMap((c) =>
      c.commands.flatMap((x) =>
        x.type === 'eval' && x.script.name === name
          ? [{ endpoint: c.endpoint, at: c.at, keys: x.keys, args: x.args }]
          : [],
      ),
    );
  }
}

/** A Redlock over `n` memory nodes on a fresh virtual clock (the unit tests' usual world). */
export function memoryRedlock(n = 5, options: RedlockOptions = {}, seed = 7) {
  const time = new Time();
  const cluster = new MemoryCluster(n, time);
  const redlock = new Redlock(cluster.clients, { ...options, runtime: virtualRuntime(time, seed) });
  return { time, cluster, redlock };
}

/** Run an acquisition on virtual time and return the LockAcquireError it rejected with. */
export async function acquireFailureOn(
  time: VirtualTime,
  promise: Promise<unknown>,
): Promise<LockAcquireError> {
  const error = await time.run(promise).then(
    () => {
      throw new Error('expected the acquisition to fail');
    },
    (e: unknown) => e,
  );
  if (!(error instanceof LockAcquireError)) throw error;
  return error;
}
