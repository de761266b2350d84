import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Redlock } from '../../src/redlock.js';
import { connectClients } from '../support/clients.js';
import { eventually } from '../support/fault-hooks.js';
import {
  describeWriterOverlaps,
  findWriterOverlaps,
  type HolderWindow,
} from '../support/primitive-checkers.js';
import { useSharedNodes } from '../support/real-nodes.js';

const nodes = useSharedNodes();

describe('read-write lock on real nodes', () => {
  it('6 contenders reading and writing: a writer overlaps nobody', async () => {
    const resource = nodes.key('rw');
    const connections = await Promise.all(
      Array.from({ length: 6 }, () => connectClients(nodes.addresses, 'ioredis')),
    );
    const windows: HolderWindow[] = [];
    try {
      await Promise.all(
        connections.map(async ({ clients }, id) => {
          const redlock = new Redlock(clients, { retryCount: 200, retryDelay: 10, retryJitter: 10 });
          const rw = redlock.readWrite(resource, { writerIntentMs: 200 });
          for (let round = 0; round < 4; round++) {
            const kind = (id + round) % 3 === 0 ? 'write' : 'read';
            const lease = kind === 'write' ? await rw.tryWrite(2_000) : await rw.tryRead(2_000);
            if (!lease) continue;
            const start = performance.now();
            await new Promise((resolve) => setTimeout(resolve, 2));
            windows.push({
              holder: lease.value,
              resource,
              kind,
              start,
              end: Math.min(lease.deadlineMs, performance.now()),
            });
            await lease.release();
          }
          await redlock.idle();
        }),
      );
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
    expect(windows.some((w) => w.kind === 'write')).toBe(true);
    expect(windows.some((w) => w.kind === 'read')).toBe(true);
    expect(findWriterOverlaps(windows), describeWriterOverlaps(findWriterOverlaps(windows))).toEqual([]);
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
    expect(await Promise.all(nodes.admins.map((a) => a.zcard(`${resource}\u0000readers`)))).toEqual(
      Array(5).fill(0),
    );
  });

  it("the scripts run on a real server: a waiting writer's intent blocks a new reader, its released write withdraws it", async () => {
    const resource = nodes.key('rw:scripts');
    const redlock = new Redlock(nodes.clients, { retryCount: 0 });
    const rw = redlock.readWrite(resource, { writerIntentMs: 60_000 });
    const intents = () => Promise.all(nodes.admins.map((a) => a.zcard(`${resource}\u0000intent`)));
    const reader = await rw.read(10_000);
    // One write call retrying (one intent for all its attempts) while the reader holds.
    const waiting = new Redlock(nodes.clients, { retryCount: 1_000, retryDelay: 20, retryJitter: 5 });
    const writing = waiting.readWrite(resource, { writerIntentMs: 60_000 }).write(10_000);
    expect(await eventually(async () => (await intents()).every((n) => n === 1), 10_000)).toBe(true);
    expect(await rw.tryRead(10_000)).toBeNull();
    expect(await reader.renew()).toBe(true);
    await reader.release();
    const writer = await writing;
    expect(await nodes.values(resource)).toEqual(Array(5).fill(writer.value));
    expect(await writer.renew()).toBe(true);
    await writer.release();
    expect(await intents()).toEqual(Array(5).fill(0));
    expect(await rw.tryRead(1_000)).not.toBeNull();
    await redlock.idle();
    await waiting.idle();
  });
});
