import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { LockAcquireError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { RedisNode } from '../../tools/nodes.js';
import { disconnectIoredis } from '../support/clients.js';

/**
 * A node that lets no one in (docs/adapters.md, "Password, ACL user, TLS"): an ACL user allowed
 * only the lock keys and the commands the library needs, the same user without INFO, and a
 * client that does not know a lock's value.
 */
const MINIMAL = ['+evalsha', '+eval', '+set', '+get', '+exists', '+del', '+pexpire', '+pttl'];
let node: RedisNode;
const clients: Redis[] = [];

beforeAll(async () => {
  node = await RedisNode.start();
  await node.command(
    'ACL',
    'SETUSER',
    'locks',
    'on',
    '>s3cret',
    'resetkeys',
    '~app:locks:*',
    'resetchannels',
    '-@all',
    ...MINIMAL,
    '+info',
  );
  await node.command(
    'ACL',
    'SETUSER',
    'noinfo',
    'on',
    '>s3cret',
    'resetkeys',
    '~app:locks:*',
    'resetchannels',
    '-@all',
    ...MINIMAL,
  );
  await node.command('CONFIG', 'SET', 'requirepass', 'admin-only');
});

afterAll(async () => {
  await Promise.all(clients.map(disconnectIoredis));
  await node.dispose();
});

async function as(username: string): Promise<RedisClient> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    username,
    password: 's3cret',
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => {});
  clients.push(client);
  await client.connect();
  return ioredisAdapter(client);
}

describe('an ACL user limited to the lock keys', () => {
  it('acquires, renews, fences and releases with the minimal ACL of docs/adapters.md', async () => {
    const redlock = new Redlock([await as('locks')], {
      keyPrefix: 'app:locks:',
      retryCount: 0,
      fencing: true,
    });
    await redlock.initFencing('r');
    const lock = await redlock.acquire('r', 10_000);
    expect(lock.fencingToken).toBe(1);
    expect((await redlock.renew('r', lock.value, 10_000)).renewed).toBe(true);
    expect((await lock.release()).releasedCount).toBe(1);
    await redlock.idle();
  });

  it('is refused keys outside its pattern as an error reply, never a vote', async () => {
    const redlock = new Redlock([await as('locks')], { keyPrefix: 'other:', retryCount: 0 });
    const error = await redlock.acquire('r', 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    expect((error as LockAcquireError).nodes[0]!.outcome).toBe('error');
    await redlock.idle();
  });

  it('without +info, the uptime guard fails closed and says why', async () => {
    const redlock = new Redlock([await as('noinfo')], {
      keyPrefix: 'app:locks:',
      retryCount: 0,
      minNodeUptimeMs: 1,
    });
    const error = await redlock.acquire('guarded', 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    const report = (error as LockAcquireError).nodes[0]!;
    expect(report.outcome).toBe('quarantined');
    expect(String(report.error?.message)).toMatch(
      /INFO refused, so minNodeUptimeMs cannot vet this node: NOPERM/,
    );
    await redlock.idle();
  });

  it('a client without the lock value can neither release nor renew it', async () => {
    const owner = new Redlock([await as('locks')], { keyPrefix: 'app:locks:', retryCount: 0 });
    const stranger = new Redlock([await as('locks')], { keyPrefix: 'app:locks:', retryCount: 0 });
    const lock = await owner.acquire('mine', 10_000);
    const guess = '0'.repeat(lock.value.length);
    expect((await stranger.releaseLock('mine', guess)).releasedCount).toBe(0);
    expect((await stranger.renew('mine', guess, 60_000)).renewed).toBe(false);
    expect(await node.command('GET', 'app:locks:mine')).toBe(lock.value);
    expect(Number(await node.command('PTTL', 'app:locks:mine'))).toBeLessThanOrEqual(10_000);
    await lock.release();
    await Promise.all([owner.idle(), stranger.idle()]);
  });
});
