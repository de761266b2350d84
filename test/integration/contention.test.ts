import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Redlock } from '../../src/redlock.js';
import { describeOverlaps, findOverlaps, GuardedCounter, type LeaseWindow } from '../support/checkers.js';
import { type ClientKind, connectClients } from '../support/clients.js';
import { useSharedNodes } from '../support/real-nodes.js';

const nodes = useSharedNodes();

describe('contenders on one resource (row 39)', () => {
  for (const kind of ['ioredis', 'node-redis', 'glide'] as ClientKind[]) {
    it(`${kind}: 6 clients with their own connections never hold at once and lose no update`, async () => {
      const resource = nodes.key(`contended:${kind}`);
      const connections = await Promise.all(
        Array.from({ length: 6 }, () => connectClients(nodes.addresses, kind)),
      );
      const windows: LeaseWindow[] = [];
      const counter = new GuardedCounter();
      const wins = new Map<number, number>();
      try {
        await Promise.all(
          connections.map(async ({ clients }, id) => {
            const redlock = new Redlock(clients, { retryCount: 200, retryDelay: 10, retryJitter: 10 });
            for (let round = 0; round < 5; round++) {
              const lock = await redlock.acquireLock(resource, 2_000);
              if (!lock) continue;
              const start = performance.now();
              await counter.increment(() => new Promise((resolve) => setTimeout(resolve, 2)));
              const end = Math.min(lock.deadlineMs, performance.now());
              windows.push({ holder: lock.value, resource, start, end });
              await lock.release();
              wins.set(id, (wins.get(id) ?? 0) + 1);
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
      expect(counter.value).toBe(windows.length);
      expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
    });
  }
});

describe('scripts (R15)', () => {
  it('keeps working after SCRIPT FLUSH on a node (row 41)', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('flushed');
    const first = (await redlock.acquireLock(resource, 5_000))!;
    await first.release();
    await nodes.admins[2]!.script('FLUSH');
    const lock = (await redlock.acquireLock(resource, 5_000))!;
    // Decided at quorum: let the last nodes answer before reading every node.
    await redlock.idle();
    expect(lock.report.nodes.filter((n) => n.outcome === 'error')).toEqual([]);
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lock.value));
    expect((await lock.release()).releasedCount).toBe(5);
  });
});
