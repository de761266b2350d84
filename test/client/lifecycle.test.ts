/**
 * A RedisClient's connection and locks on real redis-server: lazy connect, events, idempotent
 * connect and disconnect, error events that never crash, no offline queue; locks on one node
 * with the core's semantics; and a Redlock over RedisClients with no adapter call.
 */
import { describe, expect, inject, it } from 'vitest';
import { RedisClient } from '../../src/client/index.js';
import { LockAcquireError, Redlock } from '../../src/index.js';
import { freePort, RedisNode } from '../../tools/nodes.js';
import { eventually, useClients } from './helpers.js';

const env = useClients();
let serial = 0;
const freshKey = (name: string) => `${name}:${++serial}`;

/** Record the events a client emits, in order. */
function events(client: RedisClient): string[] {
  const seen: string[] = [];
  for (const name of ['connect', 'ready', 'close', 'reconnecting', 'end'] as const) {
    client.on(name, () => seen.push(name));
  }
  return seen;
}

describe('connection lifecycle', () => {
  it('connects lazily on first use, with connect and ready events', async () => {
    const c = env.client();
    const seen = events(c);
    expect(c.status).toBe('wait');
    expect(c.isConnected).toBe(false);
    expect(await c.exists(freshKey('lazy'))).toBe(false);
    expect(c.isConnected).toBe(true);
    expect(seen).toEqual(['connect', 'ready']);
  });

  it('connect and disconnect are idempotent', async () => {
    const c = env.client();
    const seen = events(c);
    await Promise.all([c.connect(), c.connect(), c.connect()]);
    await c.connect();
    expect(c.isConnected).toBe(true);
    await Promise.all([c.disconnect(), c.disconnect()]);
    await c.disconnect();
    expect(c.isConnected).toBe(false);
    expect(seen.filter((e) => e === 'ready')).toHaveLength(1);
    expect(seen.slice(-2)).toEqual(['close', 'end']);
    await expect(c.get('k')).rejects.toThrow(/closed/i);
    await c.connect();
    expect(await c.exists(freshKey('again'))).toBe(false);
  });

  it('an error event without a listener never crashes; with one it is reported', async () => {
    const port = await freePort();
    const quiet = new RedisClient({ port, host: '127.0.0.1', connectTimeoutMs: 2000 });
    await expect(quiet.connect()).rejects.toThrow();
    await quiet.disconnect();
    const loud = new RedisClient({ port, host: '127.0.0.1', connectTimeoutMs: 2000 });
    const errors: Error[] = [];
    loud.on('error', (error) => errors.push(error));
    await expect(loud.connect()).rejects.toThrow();
    await loud.disconnect();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.message).toMatch(/ECONNREFUSED/);
  });

  it('has no offline queue: with the node gone a command fails at once, and the client comes back', async () => {
    if (inject('externalNodes')) return; // needs to stop its own node
    const node = await RedisNode.start({ persistence: 'none' });
    const c = new RedisClient({ host: node.host, port: node.port });
    try {
      await c.set('k', 1);
      const seen = events(c);
      await node.stop();
      await eventually('the client sees the close', async () => seen.includes('close'));
      await expect(c.get('k')).rejects.toThrow(/writeable|closed/i);
      await node.restart();
      await eventually('the client reconnects', async () => c.isConnected, { timeoutMs: 20_000 });
      expect(seen).toContain('reconnecting');
      expect(await c.exists('k')).toBe(false);
    } finally {
      await c.disconnect();
      await node.dispose();
    }
  });
});

describe('locks on one node', () => {
  it('acquireLock, releaseLock: owner-checked, null when held', async () => {
    const [a, b] = env.clients(2);
    const key = freshKey('lock');
    const lock = await a!.acquireLock(key, 10_000);
    expect(lock).not.toBeNull();
    expect(lock!.remainingMs()).toBeGreaterThan(0);
    expect(await env.admin().get(`${env.prefix}lock:${key}`)).toBe(lock!.value);
    expect(await b!.acquireLock(key, 10_000, { retryStrategy: () => null })).toBeNull();
    expect(await b!.releaseLock(key, 'not-the-value')).toBe(false);
    expect(await env.admin().get(`${env.prefix}lock:${key}`)).toBe(lock!.value);
    expect(await a!.releaseLock(lock!)).toBe(true);
    expect(lock!.released).toBe(true);
    const next = await b!.acquireLock(key, 10_000);
    expect(await b!.releaseLock(key, next!.value)).toBe(true);
  });

  it('the core semantics: LockAcquireError with the node report, retry strategy, renew', async () => {
    const [a, b] = env.clients(2);
    const key = freshKey('core');
    const lock = (await a!.acquireLock(key, 5_000))!;
    const delays: number[] = [];
    const error = await b!.redlock
      .acquire(key, 5_000, {
        retryStrategy: (attempt) => {
          if (attempt >= 3) return null;
          delays.push(attempt);
          return 1;
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    expect((error as LockAcquireError).reason).toBe('contended');
    expect((error as LockAcquireError).attempts).toHaveLength(3);
    expect((error as LockAcquireError).nodes[0]!.outcome).toBe('held');
    expect(delays).toEqual([1, 2]);
    expect(await lock.renew(20_000)).toBe(true);
    expect(await env.admin().pttl(`${env.prefix}lock:${key}`)).toBeGreaterThan(5_000);
    await lock.release();
  });

  it('withLock runs fn under the lock and releases it after', async () => {
    const c = env.client();
    const key = freshKey('with');
    const result = await c.withLock(key, 5_000, async (signal, lock) => {
      expect(signal.aborted).toBe(false);
      expect(await env.admin().get(`${env.prefix}lock:${key}`)).toBe(lock.value);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await env.admin().exists(`${env.prefix}lock:${key}`)).toBe(0);
    await expect(
      c.withLock(key, 5_000, () => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(await env.admin().exists(`${env.prefix}lock:${key}`)).toBe(0);
  });
});

describe('a Redlock over RedisClients', () => {
  it('takes RedisClients as its nodes, with no adapter call', async () => {
    const mine = new Redlock([env.client(0), env.client(1), env.client(2)], { keyPrefix: env.prefix });
    const theirs = new Redlock([env.client(0), env.client(1), env.client(2)], {
      keyPrefix: env.prefix,
      retryCount: 0,
    });
    const key = freshKey('quorum');
    const lock = await mine.acquire(key, 10_000);
    expect(lock.report.votes).toBeGreaterThanOrEqual(2);
    await mine.idle();
    for (const node of [0, 1, 2]) expect(await env.admin(node).get(`${env.prefix}${key}`)).toBe(lock.value);
    await expect(theirs.acquire(key, 10_000)).rejects.toThrow(LockAcquireError);
    expect((await lock.release()).releasedCount).toBe(3);
    await mine.idle();
    await theirs.idle();
  });
});
