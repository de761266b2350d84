import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Redlock } from '../../src/redlock.js';
import { type ClientKind, connectClients } from '../support/clients.js';
import { eventually } from '../support/fault-hooks.js';
import { describeExcess, findExcess, type HolderWindow } from '../support/primitive-checkers.js';
import { useSharedNodes } from '../support/real-nodes.js';

const nodes = useSharedNodes();

/** ZCARD of the semaphore's set on every node. */
function cards(key: string): Promise<number[]> {
  return Promise.all(nodes.admins.map((a) => a.zcard(key)));
}

describe('semaphore on real nodes', () => {
  for (const kind of ['ioredis', 'node-redis', 'glide'] as ClientKind[]) {
    it(`${kind}: 8 contenders on 3 permits: never more than 3 overlapping validity windows`, async () => {
      const resource = nodes.key(`sem:${kind}`);
      const connections = await Promise.all(
        Array.from({ length: 8 }, () => connectClients(nodes.addresses, kind)),
      );
      const windows: HolderWindow[] = [];
      try {
        await Promise.all(
          connections.map(async ({ clients }) => {
            const redlock = new Redlock(clients, { retryCount: 200, retryDelay: 10, retryJitter: 10 });
            const sem = redlock.semaphore(resource, { permits: 3 });
            expect(sem.quorum).toBe(4);
            for (let round = 0; round < 4; round++) {
              const permit = await sem.acquirePermit(2_000);
              if (!permit) continue;
              const start = performance.now();
              await new Promise((resolve) => setTimeout(resolve, 2));
              windows.push({
                holder: permit.value,
                resource,
                start,
                end: Math.min(permit.deadlineMs, performance.now()),
              });
              await permit.release();
            }
            await redlock.idle();
          }),
        );
      } finally {
        await Promise.all(connections.map((c) => c.close()));
      }
      expect(windows.length).toBeGreaterThan(0);
      expect(findExcess(windows, 3), describeExcess(findExcess(windows, 3))).toEqual([]);
      expect(await cards(resource)).toEqual(Array(5).fill(0));
    });
  }

  it('the scripts run on a real server: grants, trims, count, renew, release, key TTL', async () => {
    const resource = nodes.key('sem:scripts');
    const redlock = new Redlock(nodes.clients, { retryCount: 0 });
    const sem = redlock.semaphore(resource, { permits: 3 });
    const two = await sem.acquire(300, { count: 2 });
    const one = await sem.acquire(10_000);
    expect(await sem.acquirePermit(10_000)).toBeNull();
    expect(await cards(resource)).toEqual(Array(5).fill(3));
    for (const pttl of await nodes.pttls(resource)) expect(pttl).toBeGreaterThan(300);
    expect(await two.renew(300)).toBe(true);
    // Once `two` lapsed on the nodes, the next acquire's trim frees its permits.
    expect(
      await eventually(async () => (await sem.acquirePermit(10_000, { count: 2 })) !== null, 5_000),
    ).toBe(true);
    expect(await sem.renew(two.value, 1_000)).toMatchObject({ renewed: false });
    expect(await one.release()).toMatchObject({ releasedCount: 5 });
    await redlock.idle();
  });

  it('fencing: a token per grant, increasing', async () => {
    const resource = nodes.key('sem:fenced');
    const redlock = new Redlock(nodes.clients, { retryCount: 0, fencing: true });
    expect((await redlock.initFencing(resource)).ready).toBe(true);
    const sem = redlock.semaphore(resource, { permits: 2 });
    const a = await sem.acquire(5_000);
    const b = await sem.acquire(5_000);
    expect(b.fencingToken!).toBeGreaterThan(a.fencingToken!);
    await a.release();
    await b.release();
    await redlock.idle();
  });
});
