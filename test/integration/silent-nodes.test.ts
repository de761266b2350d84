import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { formatNodes, LockAcquireError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { NodeSet, parseAddress } from '../../tools/nodes.js';
import { type ConnectedClients, connectClients } from '../support/clients.js';
import { FaultProxy } from '../support/proxy.js';

/**
 * 2 of 5 nodes silent: acquired without waiting on them. 3 of 5: unavailable after the retries,
 * leaving no keys. Nodes are killed, paused with SIGSTOP, or black-holed by a TCP proxy. Upper
 * bounds are liveness limits of 5× what the per-node timeout allows, never timings.
 */
const NODE_TIMEOUT = 200;
const TTL = 10_000;
const RETRIES = 2;
const RETRY_DELAY = 50;
const LIVENESS_ONE_ROUND = 5 * NODE_TIMEOUT;
// Per attempt: a vote that waits out the silent nodes, then a release that does too; plus delays.
const LIVENESS_ALL_ATTEMPTS = 5 * ((RETRIES + 1) * 2 * NODE_TIMEOUT + RETRIES * 2 * RETRY_DELAY);

type Silence = 'kill' | 'pause' | 'blackhole';

describe.skipIf(inject('externalNodes'))('silent nodes (rows 2-5)', () => {
  let set: NodeSet;
  let proxies: FaultProxy[];
  let connected: ConnectedClients;
  let silenced: Array<{ how: Silence; index: number }> = [];

  beforeAll(async () => {
    set = await NodeSet.start(5);
    proxies = await Promise.all(set.addresses.map((a) => FaultProxy.start(parseAddress(a))));
  });

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await set.dispose();
  });

  beforeEach(async () => {
    connected = await connectClients(
      proxies.map((p) => p.address),
      'ioredis',
      set.addresses,
    );
  });

  afterEach(async () => {
    // Undo every fault, even when the test failed.
    for (const { how, index } of silenced) {
      if (how === 'pause') set.nodes[index]!.resume();
      if (how === 'kill') await set.nodes[index]!.restart();
      if (how === 'blackhole') proxies[index]!.setMode('pass');
    }
    silenced = [];
    await connected.close();
    await Promise.all(set.nodes.map((n) => n.command('FLUSHALL')));
  });

  async function silence(how: Silence, indexes: number[]): Promise<void> {
    for (const index of indexes) {
      silenced.push({ how, index });
      if (how === 'kill') await set.nodes[index]!.kill();
      if (how === 'pause') set.nodes[index]!.pause();
      if (how === 'blackhole') proxies[index]!.setMode('blackhole');
    }
  }

  const redlock = () =>
    new Redlock(connected.clients, {
      nodeTimeoutMs: NODE_TIMEOUT,
      retryCount: RETRIES,
      retryDelay: RETRY_DELAY,
    });

  for (const how of ['kill', 'pause', 'blackhole'] as const) {
    it(`${how} 2 of 5: acquired with the other 3, never waiting on the silent ones beyond the timeout`, async () => {
      await silence(how, [1, 3]);
      const lock = redlock();
      const started = performance.now();
      const acquired = await lock.acquire('silent:r', TTL);
      const took = performance.now() - started;
      const report = formatNodes(acquired.report.nodes);
      expect(acquired.attempts, report).toBe(1);
      expect(acquired.report.votes, report).toBe(3);
      for (const i of [1, 3])
        expect(['error', 'timeout', 'pending'], report).toContain(acquired.report.nodes[i]!.outcome);
      expect(took, report).toBeLessThan(LIVENESS_ONE_ROUND);
      expect(acquired.validityMs).toBeGreaterThan(TTL - 102 - NODE_TIMEOUT * 5);
      const idleFrom = performance.now();
      await lock.idle();
      expect(performance.now() - idleFrom).toBeLessThan(LIVENESS_ONE_ROUND);
      const released = await acquired.release();
      expect(released.releasedCount, formatNodes(released.nodes)).toBe(3);
    });

    it(`${how} 3 of 5: unavailable after ${RETRIES + 1} attempts, leaving no keys on the reachable nodes`, async () => {
      await silence(how, [0, 2, 4]);
      const lock = redlock();
      const started = performance.now();
      const error = await lock.acquire('silent:r', TTL).catch((e: unknown) => e);
      const took = performance.now() - started;
      expect(error).toBeInstanceOf(LockAcquireError);
      const failure = error as LockAcquireError;
      expect(failure.reason, failure.message).toBe('unavailable');
      expect(failure.attempts).toHaveLength(RETRIES + 1);
      expect(took, failure.message).toBeLessThan(LIVENESS_ALL_ATTEMPTS);
      expect(await lock.acquireLock('silent:r', TTL, { retryStrategy: () => null })).toBeNull();
      await lock.idle();
      for (const i of [1, 3]) expect(await set.nodes[i]!.command('KEYS', '*')).toEqual([]);
    });
  }
});
