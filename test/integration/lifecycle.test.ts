import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { formatNodes, LockAcquireError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { driftMs } from '../../src/validity.js';
import { parseAddress } from '../../tools/nodes.js';
import { type ConnectedClients, connectClients } from '../support/clients.js';
import { FaultProxy } from '../support/proxy.js';
import { useSharedNodes } from '../support/real-nodes.js';

const nodes = useSharedNodes();
const TTL = 10_000;

/** Wait on the real clock (for expiry tests: lower bounds only). */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('validity (R4)', () => {
  it('does not return a quorum that arrived after the validity ran out, and removes its keys (rows 8, 14)', async () => {
    // The client is paused for a whole TTL while the replies are in flight: its monotonic clock
    // (injected here, over real sockets to real nodes) jumps by the pause.
    let skew = 0;
    const pausing = nodes.clients.map(
      (client): RedisClient => ({
        endpoint: client.endpoint,
        async exec(commands) {
          const replies = await client.exec(commands);
          if (commands.some((c) => c.type === 'eval' && c.script.name === 'quorumlock:acquire')) skew = TTL;
          return replies;
        },
      }),
    );
    const redlock = new Redlock(pausing, {
      retryCount: 0,
      runtime: { clock: { now: () => performance.now() + skew } },
    });
    const resource = nodes.key('exhausted');
    const error = (await redlock.acquire(resource, TTL).catch((e: unknown) => e)) as LockAcquireError;
    expect(error).toBeInstanceOf(LockAcquireError);
    expect(error.reason, error.message).toBe('validity-exhausted');
    expect(error.attempts[0]!.votes).toBeGreaterThanOrEqual(3);
    await redlock.idle();
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
  });

  it('counts validity from the winning attempt, not the first', async () => {
    const retryDelay = 1_000;
    const redlock = new Redlock(nodes.clients, { retryCount: 1, retryDelay, retryJitter: 0 });
    const resource = nodes.key('winning');
    // Held elsewhere on 3 nodes for less than the retry delay: attempt 1 fails, attempt 2 wins.
    await Promise.all(nodes.admins.slice(0, 3).map((a) => a.set(resource, 'foreign', 'PX', retryDelay / 4)));
    const lock = (await redlock.acquireLock(resource, TTL))!;
    expect(lock).not.toBeNull();
    expect(lock.attempts).toBe(2);
    // From the first attempt it would be at most ttl − drift − retryDelay.
    expect(lock.validityMs).toBeGreaterThan(TTL - driftMs(TTL, 0.01) - retryDelay / 2);
    expect(lock.validityMs).toBeLessThanOrEqual(TTL - driftMs(TTL, 0.01) - lock.report.elapsedMs);
    await lock.release();
  });

  it('honours a custom driftFactor', async () => {
    const redlock = new Redlock(nodes.clients, { driftFactor: 0.2 });
    const lock = (await redlock.acquireLock(nodes.key('drift'), 1_000))!;
    expect(lock.validityMs).toBeLessThanOrEqual(1_000 - 202 - lock.report.elapsedMs);
    expect(lock.validityMs).toBeGreaterThan(0);
    await lock.release();
  });

  it('takes the configured number of attempts against a holder, leaving its keys alone', async () => {
    const redlock = new Redlock(nodes.clients, { retryCount: 2, retryDelay: 20, retryJitter: 10 });
    const resource = nodes.key('held');
    await Promise.all(nodes.admins.map((a) => a.set(resource, 'foreign', 'PX', TTL)));
    const error = (await redlock.acquire(resource, TTL).catch((e: unknown) => e)) as LockAcquireError;
    expect(error.attempts).toHaveLength(3);
    expect(error.reason).toBe('contended');
    expect(await nodes.values(resource)).toEqual(Array(5).fill('foreign'));
  });
});

describe('release (R6)', () => {
  let proxies: FaultProxy[];
  let slow: ConnectedClients;

  beforeAll(async () => {
    proxies = await Promise.all(nodes.addresses.map((a) => FaultProxy.start(parseAddress(a))));
    slow = await connectClients(
      proxies.map((p) => p.address),
      'ioredis',
      nodes.addresses,
    );
  });

  afterAll(async () => {
    await slow.close();
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('removes the key from every node, a slow one included', async () => {
    const redlock = new Redlock(slow.clients, { nodeTimeoutMs: 2_000 });
    const resource = nodes.key('slow-release');
    const lock = (await redlock.acquireLock(resource, TTL))!;
    proxies[2]!.setLatency({ downMs: 150 });
    try {
      const started = performance.now();
      const released = await lock.release();
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      expect(released.releasedCount, formatNodes(released.nodes)).toBe(5);
      expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
    } finally {
      proxies[2]!.setLatency({ downMs: 0 });
    }
  });

  it('with a wrong value deletes nothing and reports not held on every node', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('wrong-value');
    const lock = (await redlock.acquireLock(resource, TTL))!;
    const result = await redlock.releaseLock(resource, 'not-the-value');
    expect(result).toMatchObject({ releasedCount: 0, notHeldCount: 5, failedCount: 0 });
    expect(result.nodes.map((n) => n.holder)).toEqual(Array(5).fill('foreign'));
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lock.value));
    await lock.release();
  });

  it('after expiry, and after another client took the resource, deletes nothing and says so (row 30)', async () => {
    const a = new Redlock(nodes.clients);
    const b = new Redlock(nodes.clients);
    const resource = nodes.key('expired');
    const old = (await a.acquireLock(resource, 50))!;
    await sleep(100);
    const expired = await old.release();
    expect(expired).toMatchObject({ releasedCount: 0, notHeldCount: 5 });
    const taken = (await b.acquireLock(resource, TTL))!;
    const stale = await a.releaseLock(resource, old.value);
    expect(stale.nodes.map((n) => n.holder)).toEqual(Array(5).fill('foreign'));
    expect(await nodes.values(resource)).toEqual(Array(5).fill(taken.value));
    await taken.release();
  });

  it('twice is fine (row 32)', async () => {
    const redlock = new Redlock(nodes.clients);
    const lock = (await redlock.acquireLock(nodes.key('twice'), TTL))!;
    expect((await lock.release()).releasedCount).toBe(5);
    expect(await lock.release()).toMatchObject({ releasedCount: 0, notHeldCount: 5, failedCount: 0 });
  });
});

describe('renew (R7, R8)', () => {
  it('extends on a quorum, with the validity recomputed from the renew start (row 33)', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('renew');
    const lock = (await redlock.acquireLock(resource, 2_000))!;
    const before = lock.deadlineMs;
    const started = performance.now();
    expect(await redlock.renewLock(resource, lock.value, 60_000)).toBe(true);
    const finished = performance.now();
    // Decided at quorum: let the last nodes answer before reading every node.
    await redlock.idle();
    expect(lock.deadlineMs).toBeGreaterThan(before);
    // The renew's start lies between the two readings, whatever the machine's load.
    const validity = 60_000 - driftMs(60_000, 0.01);
    expect(lock.deadlineMs).toBeGreaterThanOrEqual(started + validity);
    expect(lock.deadlineMs).toBeLessThanOrEqual(finished + validity);
    for (const pttl of await nodes.pttls(resource)) expect(pttl).toBeGreaterThan(50_000);
    await lock.release();
  });

  it('is false for a wrong value, after expiry and after release', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('renew-false');
    const lock = (await redlock.acquireLock(resource, 100))!;
    expect(await redlock.renewLock(resource, 'not-the-value', TTL)).toBe(false);
    await sleep(150);
    expect(await lock.renew()).toBe(false);
    expect(await redlock.renew(resource, lock.value, TTL)).toMatchObject({
      renewed: false,
      reason: 'expired',
    });
    const again = (await redlock.acquireLock(resource, TTL))!;
    await again.release();
    expect(await again.renew()).toBe(false);
    expect(await redlock.renewLock(resource, again.value, TTL)).toBe(false);
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
  });

  it('is false when the majority was lost, and never re-creates keys then (row 35)', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('renew-lost');
    const lock = (await redlock.acquireLock(resource, TTL))!;
    await Promise.all(nodes.admins.slice(0, 3).map((a) => a.del(resource)));
    const result = await redlock.renew(resource, lock.value, TTL);
    expect(result.renewed, formatNodes(result.nodes)).toBe(false);
    await redlock.idle();
    expect(await nodes.values(resource)).toEqual([null, null, null, lock.value, lock.value]);
    await lock.release();
  });

  it('re-creates a missing key only once the strict renew reached quorum (R8)', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('renew-repair');
    const lock = (await redlock.acquireLock(resource, TTL))!;
    await nodes.admins[1]!.del(resource);
    // The repair goes to nodes that answered "absent" before the strict round was decided: if
    // node 1 answered after the third vote (a loaded host), renew again; each renew must succeed.
    for (let i = 0; i < 5 && (await nodes.values(resource))[1] !== lock.value; i++) {
      expect(await lock.renew(30_000)).toBe(true);
      await redlock.idle();
    }
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lock.value));
    expect((await nodes.pttls(resource))[1]).toBeGreaterThan(20_000);
    await lock.release();
  });
});
