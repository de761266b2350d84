/**
 * Per-test fault bookkeeping for Vitest files: a {@link FaultScope} and the per-client networks
 * a test opens, all undone and closed in `afterEach`, also when the test failed.
 */
import { afterEach } from 'vitest';
import type { Redlock } from '../../src/redlock.js';
import type { ClientKind } from './clients.js';
import { FaultScope } from './faults.js';
import { ClientNetwork } from './network.js';

export function useFaults() {
  let scope = new FaultScope();
  const networks: ClientNetwork[] = [];
  const redlocks: Redlock[] = [];
  const state = {
    get scope() {
      return scope;
    },
    /** A client with its own proxy to each node (closed after the test). */
    async network(addresses: readonly string[], kind: ClientKind = 'ioredis'): Promise<ClientNetwork> {
      const network = await ClientNetwork.start(addresses, kind);
      networks.push(network);
      return network;
    },
    /** Remember a Redlock whose stragglers must settle before its connections close. */
    track<T extends Redlock>(redlock: T): T {
      redlocks.push(redlock);
      return redlock;
    },
  };
  afterEach(async () => {
    const current = scope;
    scope = new FaultScope();
    try {
      await current.undoAll();
    } finally {
      // Heal first, so stragglers get answers or time out quickly; then wait for them and close.
      for (const network of networks) network.heal();
      await Promise.all(redlocks.splice(0).map((r) => r.idle()));
      await Promise.all(networks.splice(0).map((n) => n.close()));
    }
  });
  return state;
}

/**
 * Retries for acquisitions a test expects to succeed: a stall of the test process on a busy host
 * (every per-node timer fires before the replies are read) must not fail them.
 */
export const RETRIES = { retryCount: 3, retryDelay: 50, retryJitter: 25 } as const;

/** A single attempt, for acquisitions a test expects to fail. */
export const ONCE = { retryStrategy: () => null } as const;

/** Wait on the real clock. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Poll `probe` every 20 ms until it returns true, for at most `limitMs` (a generous liveness
 * limit, not a timing claim); resolves whether it became true.
 */
export async function eventually(probe: () => Promise<boolean> | boolean, limitMs: number): Promise<boolean> {
  const until = performance.now() + limitMs;
  for (;;) {
    if (await probe()) return true;
    if (performance.now() >= until) return false;
    await sleep(20);
  }
}
