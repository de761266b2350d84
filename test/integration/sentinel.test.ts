import { Redis } from 'ioredis';
import { createSentinel } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { nodeRedisAdapter } from '../../src/adapters/node-redis.js';
import { LockAcquireError } from '../../src/errors.js';
import { infoField } from '../../src/guards.js';
import type { Lock } from '../../src/lock.js';
import { Redlock } from '../../src/redlock.js';
import { waitFor } from '../../tools/cluster.js';
import { MASTER_NAME, SentinelSet } from '../../tools/sentinel.js';
import { describeOverlaps, findOverlaps, type LeaseWindow } from '../support/checkers.js';
import { disconnectIoredis } from '../support/clients.js';

/**
 * A Sentinel-managed master as a node (docs/operations.md, "Failover"). The steps are pinned:
 * the lock key reaches the replica (WAIT), is then deleted on the replica alone (standing for a
 * write that asynchronous replication had not delivered at the failover), and SENTINEL FAILOVER
 * promotes that replica. No step depends on timing.
 */
const TTL = 60_000;
/** A short guard, so the test need not wait for long uptimes: the mechanism is the same. */
const GUARD_MS = 1_000;

let set: SentinelSet | undefined;
const clients: Redis[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map(disconnectIoredis));
  await set?.dispose();
  set = undefined;
}, 60_000);

function sentinelClient(s: SentinelSet): Redis {
  const client = new Redis({
    sentinels: s.sentinels,
    name: MASTER_NAME,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** Bounded: until `client` talks to the server with `runId` (it reconnects through the sentinel). */
async function waitUntilOn(client: Redis, runId: string): Promise<void> {
  await waitFor('client reconnected to the new master', async () => {
    return infoField(String(await client.call('INFO', 'server')), 'run_id') === runId;
  });
}

async function runIdOf(server: { command(...a: string[]): Promise<unknown> }): Promise<string> {
  return infoField(String(await server.command('INFO', 'server')), 'run_id')!;
}

/** A holds `r`; the promoted replica lacks it; B, who knew the old master, tries to take `r`. */
async function holdThenFailover(minNodeUptimeMs: number) {
  set = await SentinelSet.start();
  const [old, replica] = set.servers as [
    NonNullable<SentinelSet['servers'][0]>,
    NonNullable<SentinelSet['servers'][1]>,
  ];
  // Both servers up long enough for the uptime guard to let them vote at all.
  await waitFor('servers older than the guard', async () => {
    const infos = await Promise.all([old, replica].map((s) => s.command('INFO', 'server')));
    return infos.every((i) => (Number(infoField(String(i), 'uptime_in_seconds')) - 1) * 1000 >= GUARD_MS);
  });
  const [rawA, rawB] = [sentinelClient(set), sentinelClient(set)];
  await Promise.all([rawA.connect(), rawB.connect()]);
  const options = { retryCount: 0, minNodeUptimeMs, nodeTimeoutMs: 2_000 };
  const a = new Redlock([ioredisAdapter(rawA)], options);
  const b = new Redlock([ioredisAdapter(rawB)], options);
  await (await b.acquire('warm-up', TTL)).release();
  const lockA = await a.acquire('r', TTL);
  const windows: LeaseWindow[] = [
    { holder: 'A', resource: 'r', start: performance.now(), end: lockA.deadlineMs },
  ];
  expect(await old.command('WAIT', '1', '5000')).toBe(1);
  await replica.command('CONFIG', 'SET', 'replica-read-only', 'no');
  expect(await replica.command('DEL', 'r')).toBe(1);
  const promoted = await set.failover();
  expect(promoted).toBe(replica);
  await waitUntilOn(rawB, await runIdOf(replica));
  const attempt: Lock | unknown = await b.acquire('r', TTL).catch((e: unknown) => e);
  if (!(attempt instanceof Error)) {
    windows.push({ holder: 'B', resource: 'r', start: performance.now(), end: (attempt as Lock).deadlineMs });
  }
  await Promise.all([a.idle(), b.idle()]);
  return { attempt, overlaps: findOverlaps(windows) };
}

describe('SENTINEL FAILOVER during a hold', () => {
  it('without the uptime guard, the promoted replica lets a second holder in (negative control)', async () => {
    const { attempt, overlaps } = await holdThenFailover(0);
    expect(attempt).not.toBeInstanceOf(Error);
    expect(overlaps, describeOverlaps(overlaps)).toHaveLength(1);
  });

  it('with the uptime guard, the failover is seen in INFO and the new master does not vote: no two holders', async () => {
    const { attempt, overlaps } = await holdThenFailover(GUARD_MS);
    expect(attempt).toBeInstanceOf(LockAcquireError);
    expect((attempt as LockAcquireError).nodes.map((n) => n.outcome)).toEqual(['quarantined']);
    expect(overlaps).toEqual([]);
  });
});

describe('node-redis createSentinel as a node', () => {
  it('locks on the master the sentinel names, and again on the new master after a failover', async () => {
    set = await SentinelSet.start();
    const sentinel = createSentinel({
      name: MASTER_NAME,
      sentinelRootNodes: set.sentinels,
      nodeClientOptions: { socket: { reconnectStrategy: 50 } },
      // No 5 s command timer per command (node-redis 6): the core bounds each call (clients.ts).
      commandOptions: { timeout: 0 },
    });
    sentinel.on('error', () => {});
    await sentinel.connect();
    try {
      expect(() => nodeRedisAdapter(sentinel)).toThrow(/options\.endpoint/);
      const endpoint = `sentinel:${MASTER_NAME}@127.0.0.1:${set.sentinelPort}`;
      const redlock = new Redlock([nodeRedisAdapter(sentinel, { endpoint })], { retryCount: 0 });
      const lock = await redlock.acquire('ns', TTL);
      expect(await set.servers[0]!.command('GET', 'ns')).toBe(lock.value);
      await lock.release();
      const promoted = await set.failover();
      // Bounded: until the sentinel client writes to the new master.
      const retrying = new Redlock([nodeRedisAdapter(sentinel, { endpoint })], { retryCount: 0 });
      let again: Awaited<ReturnType<typeof retrying.acquireLock>> = null;
      await waitFor('a lock on the new master', async () => {
        again = await retrying.acquireLock('ns2', TTL);
        return again !== null;
      });
      expect(await promoted.command('GET', 'ns2')).toBe(again!.value);
      await again!.release();
      await Promise.all([redlock.idle(), retrying.idle()]);
    } finally {
      sentinel.destroy();
    }
  });
});
