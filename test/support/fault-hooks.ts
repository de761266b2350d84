/**
 * Per-test fault bookkeeping for Vitest files: a {@link FaultScope} and the per-client networks
 * a test opens, all undone and closed in `afterEach`, also when the test failed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { LockAcquireError } from '../../src/errors.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { NodeSet, type RedisNode } from '../../tools/nodes.js';
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
    /** A tracked Redlock for fault tests: 200 ms node timeout and {@link RETRIES}, then `options`. */
    redlock(clients: RedisClient[], options: RedlockOptions = {}): Redlock {
      return state.track(new Redlock(clients, { nodeTimeoutMs: FAULT_NODE_TIMEOUT, ...RETRIES, ...options }));
    },
    /**
     * Nodes of this describe block alone (for tests that kill, pause or restart them): started
     * before its first test, stopped after its last, and flushed after each test (deferred on
     * the scope, so it runs after the test's restarts and configuration are undone).
     */
    ownNodes(count = 5): { readonly set: NodeSet } {
      let set: NodeSet | undefined;
      beforeAll(async () => {
        set = await NodeSet.start(count);
      });
      afterAll(async () => {
        await set?.dispose();
      });
      beforeEach(() => {
        state.scope.defer('FLUSHALL every node', async () => {
          await Promise.all(set!.nodes.map((n) => n.command('FLUSHALL')));
        });
      });
      return {
        get set() {
          if (set === undefined) throw new Error('ownNodes: the nodes start in beforeAll');
          return set;
        },
      };
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

/** The per-node timeout of a fault test's Redlock. */
export const FAULT_NODE_TIMEOUT = 200;

/** The LockAcquireError `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function acquireFailure(promise: Promise<unknown>): Promise<LockAcquireError> {
  const error = await promise.then(
    () => new Error('acquired, but a failure was expected'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LockAcquireError);
  return error as LockAcquireError;
}

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

/**
 * Wait until every node reports `uptime_in_seconds` of at least `seconds` (so an uptime
 * quarantine of that length does not hold it back); resolves whether they all did in time.
 */
export function waitForUptime(nodes: readonly RedisNode[], seconds: number): Promise<boolean> {
  const uptime = async (node: RedisNode) =>
    Number(/uptime_in_seconds:(\d+)/.exec(String(await node.command('INFO', 'server')))?.[1]);
  return eventually(
    async () => (await Promise.all(nodes.map(uptime))).every((u) => u >= seconds),
    (seconds + 5) * 1_000,
  );
}
