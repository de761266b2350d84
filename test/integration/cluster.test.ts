import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../src/adapters/slots.js';
import CompatRedlock, { ExecutionError } from '../../src/compat/index.js';
import { formatNodes } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { type RedisCluster, startClusters } from '../../tools/cluster.js';
import { adapterContract, type NodeAccess } from '../contracts/contract.js';
import { describeOverlaps, findOverlaps, GuardedCounter, type LeaseWindow } from '../support/checkers.js';
import type { ClientKind, ConnectedClients } from '../support/clients.js';
import { closeIoredisCluster, connectClusters, ioredisCluster } from '../support/cluster-clients.js';

/**
 * Three nodes, each a 3-master Redis Cluster (docs/adr/016-cluster-key-layout.md), started once
 * for this file. The kill test runs last: it leaves cluster 0 without one of its masters.
 */
let clusters: RedisCluster[] = [];
let admins: Cluster[] = [];
const prefix = `cl:${randomUUID().slice(0, 8)}:`;
const key = (name: string) => prefix + name;
const TTL = 30_000;

beforeAll(async () => {
  clusters = await startClusters(3);
  admins = clusters.map(ioredisCluster);
  await Promise.all(admins.map((a) => a.connect()));
}, 120_000);

afterAll(async () => {
  await Promise.all(admins.map(closeIoredisCluster));
  await Promise.all(clusters.map((c) => c.dispose()));
}, 60_000);

/** The value of `k` on each cluster (null where absent). */
const values = (k: string) => Promise.all(admins.map((a) => a.get(k)));

/** Resources whose keys lie in `count` different slots. */
function spread(name: string, count: number): string[] {
  const out: string[] = [];
  const slots = new Set<number>();
  for (let i = 0; out.length < count; i++) {
    const r = key(`${name}:${i}`);
    if (!slots.has(slotOf(r))) {
      slots.add(slotOf(r));
      out.push(r);
    }
  }
  return out;
}

describe('slots', () => {
  it('slotOf agrees with CLUSTER KEYSLOT, hash tags and UTF-8 included', async () => {
    const keys = ['foo', 'bar', '{user1000}.following', 'a{}b', '{}', 'x{y', 'é{ü}', key('a\u0000fence')];
    for (const k of keys) {
      expect(slotOf(k), k).toBe(Number(await clusters[0]!.masters[0]!.command('CLUSTER', 'KEYSLOT', k)));
    }
  });
});

for (const kind of ['ioredis', 'node-redis'] as ClientKind[]) {
  adapterContract(`${kind} cluster`, async () => {
    const connected = await connectClusters([clusters[0]!], kind);
    const admin = admins[0]!;
    const node: NodeAccess = {
      async set(k, value, pxMs) {
        if (pxMs === undefined) await admin.set(k, value);
        else await admin.set(k, value, 'PX', pxMs);
      },
      get: (k) => admin.get(k),
      pttl: (k) => admin.pttl(k),
      async makeList(k) {
        await admin.rpush(k, 'x');
      },
      async flushScripts() {
        await Promise.all(clusters[0]!.masters.map((m) => m.command('SCRIPT', 'FLUSH')));
      },
      async del(...keys) {
        await Promise.all(keys.map((k) => admin.del(k)));
      },
    };
    let closed = false;
    const close = async () => {
      if (!closed) await connected.close();
      closed = true;
    };
    return { client: connected.clients[0]!, node, close, dispose: close };
  });
}

describe.each(['ioredis', 'node-redis'] as ClientKind[])('Redlock over 3 clusters (%s)', (kind) => {
  let connected: ConnectedClients;
  beforeAll(async () => {
    connected = await connectClusters(clusters, kind);
  });
  afterAll(() => connected.close());

  it('counts each cluster as one vote and locks resources across slots on every cluster', async () => {
    const redlock = new Redlock(connected.clients, { retryCount: 0 });
    const resources = spread(`${kind}:multi`, 4);
    const lock = await redlock.acquire(resources, TTL);
    // Decided at quorum: let the last cluster answer before reading every cluster.
    await redlock.idle();
    for (const r of resources) expect(await values(r)).toEqual([lock.value, lock.value, lock.value]);
    expect((await redlock.renew(resources, lock.value, TTL)).renewed).toBe(true);
    const released = await lock.release();
    expect(released.releasedCount, formatNodes(released.nodes)).toBe(3);
    for (const r of resources) expect(await values(r)).toEqual([null, null, null]);
  });

  it('a lock on a and a lock on [a, b] exclude each other, and a refused [a, b] leaves b unset', async () => {
    const redlock = new Redlock(connected.clients, { retryCount: 0 });
    const [b, a] = spread(`${kind}:excl`, 2) as [string, string];
    expect(slotOf(a)).not.toBe(slotOf(b));
    const alone = await redlock.acquire(a, TTL);
    expect(await redlock.acquireLock([b, a], TTL)).toBeNull();
    await redlock.idle();
    expect(await values(b)).toEqual([null, null, null]);
    await alone.release();
    const both = await redlock.acquire([b, a], TTL);
    expect(await redlock.acquireLock(a, TTL)).toBeNull();
    expect(await redlock.acquireLock(b, TTL)).toBeNull();
    await both.release();
    await redlock.idle();
  });

  it('needs a quorum of clusters: held on 2 of 3 refuses, held on 1 of 3 grants', async () => {
    const redlock = new Redlock(connected.clients, { retryCount: 0 });
    const [r1, r2] = spread(`${kind}:quorum`, 2) as [string, string];
    await admins[0]!.set(r1, 'foreign', 'PX', TTL);
    await admins[1]!.set(r1, 'foreign', 'PX', TTL);
    expect(await redlock.acquireLock(r1, TTL)).toBeNull();
    await admins[2]!.set(r2, 'foreign', 'PX', TTL);
    const lock = await redlock.acquire(r2, TTL);
    await redlock.idle();
    expect(await values(r2)).toEqual([lock.value, lock.value, 'foreign']);
    await lock.release();
    await Promise.all(admins.flatMap((a) => [a.del(r1), a.del(r2)]));
  });

  it('issues increasing fencing tokens, the counter in its own slot', async () => {
    const redlock = new Redlock(connected.clients, { retryCount: 0, fencing: true });
    const resource = key(`${kind}:fenced`);
    await redlock.initFencing(resource);
    const tokens: number[] = [];
    for (let i = 0; i < 3; i++) {
      const lock = await redlock.acquire(resource, TTL);
      tokens.push(lock.fencingToken!);
      await lock.release();
    }
    expect(tokens).toEqual([1, 2, 3]);
    await redlock.idle();
  });

  it('contenders on resources across slots never hold at once and lose no update', async () => {
    const resources = spread(`${kind}:contended`, 2);
    const connections = await Promise.all(Array.from({ length: 4 }, () => connectClusters(clusters, kind)));
    const windows: LeaseWindow[] = [];
    const counter = new GuardedCounter();
    try {
      await Promise.all(
        connections.map(async ({ clients }) => {
          const redlock = new Redlock(clients, { retryCount: 200, retryDelay: 10, retryJitter: 10 });
          for (let round = 0; round < 4; round++) {
            const lock = await redlock.acquireLock(resources, 5_000);
            if (!lock) continue;
            const start = performance.now();
            await counter.increment(() => new Promise((resolve) => setTimeout(resolve, 2)));
            const end = Math.min(lock.deadlineMs, performance.now());
            windows.push({ holder: lock.value, resource: resources.join(','), start, end });
            await lock.release();
          }
          await redlock.idle();
        }),
      );
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
    expect(findOverlaps(windows), describeOverlaps(findOverlaps(windows))).toEqual([]);
    expect(counter.lostUpdates).toBe(0);
    expect(windows.length).toBeGreaterThan(0);
    for (const r of resources) expect(await values(r)).toEqual([null, null, null]);
  });
});

describe('quorumlock/compat on clusters (node-redlock code, ioredis Cluster clients)', () => {
  it('one cluster: acquires, extends and releases a lock on resources in several slots', async () => {
    const cluster = ioredisCluster(clusters[0]!);
    await cluster.connect();
    try {
      const redlock = new CompatRedlock([cluster as never]);
      const resources = spread('compat-one', 3);
      let lock = await redlock.acquire(resources, TTL);
      for (const r of resources) expect(await admins[0]!.get(r)).toBe(lock.value);
      lock = await lock.extend(2 * TTL);
      expect(await admins[0]!.pttl(resources[0]!)).toBeGreaterThan(TTL);
      await lock.release();
      for (const r of resources) expect(await admins[0]!.get(r)).toBeNull();
    } finally {
      await closeIoredisCluster(cluster);
    }
  });

  it('three clusters: a held resource is exclusive, and using() releases what it took', async () => {
    const clients = clusters.map(ioredisCluster);
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const a = new CompatRedlock(clients as never[], { retryCount: 0 });
      const b = new CompatRedlock(clients as never[], { retryCount: 0 });
      const resources = spread('compat-three', 2);
      const lock = await a.acquire(resources, TTL);
      // Granted at the second vote: the third cluster's SET may still be on its way (a straggler).
      const held = await values(resources[0]!);
      expect(held.filter((v) => v === lock.value).length).toBeGreaterThanOrEqual(2);
      expect(held.every((v) => v === lock.value || v === null)).toBe(true);
      const refused = await b.acquire(resources, TTL).then(
        () => new Error('acquired a held resource'),
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(ExecutionError);
      await lock.release();
      const result = await b.using(resources, TTL, async () => values(resources[1]!));
      expect(result.filter((v) => v !== null).length).toBeGreaterThanOrEqual(2);
      for (const r of resources) expect(await values(r)).toEqual([null, null, null]);
    } finally {
      await Promise.all(clients.map(closeIoredisCluster));
    }
  });
});

describe('a master inside one cluster dies mid-hold (runs last)', () => {
  it('the holder keeps its quorum of clusters and a contender is refused', async () => {
    const holder = await connectClusters(clusters, 'ioredis');
    const other = await connectClusters(clusters, 'node-redis');
    try {
      const redlock = new Redlock(holder.clients, { retryCount: 0, nodeTimeoutMs: 1_000 });
      const contender = new Redlock(other.clients, { retryCount: 0, nodeTimeoutMs: 1_000 });
      const resources = spread('killed', 3);
      const lock = await redlock.acquire(resources, TTL);
      await redlock.idle();
      // The master of the first resource's slot in cluster 0 crashes: cluster 0 can no longer answer for it.
      await (await clusters[0]!.masterOf(resources[0]!)).kill();
      const renewed = await redlock.renew(resources, lock.value, TTL);
      expect(renewed.renewed, formatNodes(renewed.nodes)).toBe(true);
      expect(renewed.nodes[0]!.outcome).not.toBe('renewed');
      const refused = await contender.acquireLock(resources, TTL);
      expect(refused).toBeNull();
      const released = await lock.release();
      expect(released.releasedCount, formatNodes(released.nodes)).toBeGreaterThanOrEqual(2);
      await Promise.all([redlock.idle(), contender.idle()]);
    } finally {
      await Promise.all([holder.close(), other.close()]);
    }
  });
});
