import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  adminClient,
  closeClient,
  NodeSet,
  parseAddress,
  RedisNode,
  redisServerArgs,
} from '../../support/index.js';

/** The value of `promise` if it settles within `ms`, else the string 'timeout' (rejections are kept). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('redisServerArgs', () => {
  it('defaults to AOF always, no RDB, noeviction, loopback, local DEBUG', () => {
    const list = redisServerArgs({ port: 7001, dir: '/tmp/x' });
    const args = list.join(' ');
    expect(list[list.indexOf('--save') + 1]).toBe('');
    expect(args).toContain('--bind 127.0.0.1 --port 7001 --dir /tmp/x');
    expect(args).toContain('--appendonly yes --appendfsync always');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(args).toContain('--enable-debug-command local');
    expect(args).toContain('--logfile /tmp/x/redis.log');
  });

  it('honours persistence none, eviction settings and extra args (last)', () => {
    const args = redisServerArgs({
      port: 1,
      dir: '/d',
      persistence: 'none',
      maxmemoryPolicy: 'volatile-lru',
      maxmemory: '1mb',
      extraArgs: ['--hz', '50'],
    });
    expect(args.join(' ')).toContain('--appendonly no');
    expect(args.join(' ')).toContain('--maxmemory-policy volatile-lru --maxmemory 1mb');
    expect(args.slice(-2)).toEqual(['--hz', '50']);
  });
});

describe('parseAddress and NodeSet.fromEnv', () => {
  const saved = process.env.QUORUMLOCK_NODES;
  afterEach(() => {
    if (saved === undefined) delete process.env.QUORUMLOCK_NODES;
    else process.env.QUORUMLOCK_NODES = saved;
  });

  it('parses host:port', () => {
    expect(parseAddress('127.0.0.1:7001')).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(parseAddress('[::1]:6379')).toEqual({ host: '::1', port: 6379 });
    for (const bad of ['127.0.0.1', ':7001', '127.0.0.1:0', '127.0.0.1:70000', 'a b:1', '127.0.0.1:7001x']) {
      expect(() => parseAddress(bad), bad).toThrow(/malformed node address/);
    }
  });

  it('reads QUORUMLOCK_NODES', () => {
    delete process.env.QUORUMLOCK_NODES;
    expect(NodeSet.fromEnv()).toBeUndefined();
    process.env.QUORUMLOCK_NODES = '  ';
    expect(NodeSet.fromEnv()).toBeUndefined();
    process.env.QUORUMLOCK_NODES = '127.0.0.1:7001, 127.0.0.1:7002';
    expect(NodeSet.fromEnv()).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
  });

  it('rejects malformed, empty and repeated entries', () => {
    process.env.QUORUMLOCK_NODES = '127.0.0.1:7001,localhost';
    expect(() => NodeSet.fromEnv()).toThrow(/QUORUMLOCK_NODES=.*malformed node address "localhost"/);
    process.env.QUORUMLOCK_NODES = '127.0.0.1:7001,,127.0.0.1:7002';
    expect(() => NodeSet.fromEnv()).toThrow(/malformed node address ""/);
    process.env.QUORUMLOCK_NODES = '127.0.0.1:7001,127.0.0.1:7001';
    expect(() => NodeSet.fromEnv()).toThrow(/lists 127.0.0.1:7001 twice/);
  });
});

describe('RedisNode', () => {
  let node: RedisNode | undefined;
  afterEach(async () => {
    await node?.dispose();
    node = undefined;
  });

  it('starts on 127.0.0.1 and runs commands', async () => {
    node = await RedisNode.start();
    expect(node.running).toBe(true);
    expect(node.pid).toBeTypeOf('number');
    expect(node.address).toBe(`127.0.0.1:${node.port}`);
    expect(await node.command('PING')).toBe('PONG');
    expect(await node.command('SET', 'k', 'v')).toBe('OK');
    expect(await node.command('GET', 'k')).toBe('v');
    expect(await node.command('CONFIG', 'GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    expect(await node.command('CONFIG', 'GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
  });

  it('does not answer while paused, and answers the same command after resume', async () => {
    node = await RedisNode.start({ persistence: 'none' });
    await node.command('SET', 'k', 'v');
    node.pause();
    const pending = node.command('GET', 'k');
    expect(await within(pending, 200)).toBe('timeout');
    node.resume();
    expect(await pending).toBe('v');
  });

  it('keeps a key and its TTL across kill -9 with aof-always', async () => {
    node = await RedisNode.start();
    await node.command('SET', 'k', 'v', 'PX', 60_000);
    const pid = node.pid;
    await node.kill();
    expect(node.running).toBe(false);
    expect(node.pid).toBeUndefined();
    await expect(node.command('PING')).rejects.toThrow();
    await node.restart();
    expect(node.pid).not.toBe(pid);
    expect(await node.command('GET', 'k')).toBe('v');
    const pttl = Number(await node.command('PTTL', 'k'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('loses the key when restarted without persistence, and keeps it after a graceful stop', async () => {
    node = await RedisNode.start();
    await node.command('SET', 'k', 'v');
    await node.stop();
    await node.restart();
    expect(await node.command('GET', 'k')).toBe('v');
    await node.kill();
    await node.restart({ persistence: 'none' });
    expect(await node.command('GET', 'k')).toBeNull();
  });

  it('kill works on a paused node, and wipe deletes the data', async () => {
    node = await RedisNode.start();
    await node.command('SET', 'k', 'v');
    node.pause();
    await node.kill();
    await node.restart({ wipe: true });
    expect(await node.command('GET', 'k')).toBeNull();
  });

  it('stop works on a paused node', async () => {
    node = await RedisNode.start({ persistence: 'none' });
    node.pause();
    await node.stop();
    expect(node.running).toBe(false);
  });

  it('restart waits at least delayMs and refuses a running node', async () => {
    node = await RedisNode.start({ persistence: 'none' });
    await expect(node.restart()).rejects.toThrow(/still running/);
    await node.kill();
    const started = performance.now();
    await node.restart({ delayMs: 100 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(await node.command('PING')).toBe('PONG');
  });

  it('rolls data back to a snapshot', async () => {
    node = await RedisNode.start();
    await node.command('SET', 'k', 'old');
    const snapshot = await node.snapshotData();
    await node.command('SET', 'k', 'new');
    await expect(node.restoreData(snapshot)).rejects.toThrow(/running/);
    await node.kill();
    await node.restoreData(snapshot);
    await node.restart();
    expect(await node.command('GET', 'k')).toBe('old');
    await node.dispose();
    expect(existsSync(snapshot)).toBe(false);
    expect(existsSync(node.dir)).toBe(false);
  });

  it('notices a node that shut itself down', async () => {
    node = await RedisNode.start({ persistence: 'none' });
    await node.command('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    for (let i = 0; i < 100 && node.running; i++) await new Promise((r) => setTimeout(r, 20));
    expect(node.running).toBe(false);
    await node.restart();
    expect(await node.command('PING')).toBe('PONG');
  });

  it('fails to start with the log tail when the port is taken', async () => {
    node = await RedisNode.start({ persistence: 'none' });
    await expect(RedisNode.start({ port: node.port })).rejects.toThrow(
      /exited during start-up[\s\S]*in use/i,
    );
  });
});

describe('NodeSet', () => {
  it('starts independent nodes on distinct ports and disposes them all', async () => {
    const set = await NodeSet.start(3, { persistence: 'none' });
    try {
      expect(new Set(set.addresses).size).toBe(3);
      const runIds = await Promise.all(
        set.nodes.map(async (n) => String(await n.command('INFO', 'server')).match(/run_id:(\w+)/)?.[1]),
      );
      expect(new Set(runIds).size).toBe(3);
    } finally {
      await set.dispose();
    }
    expect(set.nodes.every((n) => !n.running)).toBe(true);
  });
});

describe('adminClient', () => {
  it('fails fast against a port nobody listens on and ends without reconnecting', async () => {
    const node = await RedisNode.start({ persistence: 'none' });
    const address = node.address;
    await node.dispose();
    const client = adminClient(address);
    try {
      await expect(client.ping()).rejects.toThrow();
      expect(client.status).toBe('end');
      await expect(client.ping()).rejects.toThrow(/Connection is closed/);
    } finally {
      await closeClient(client);
    }
  });
});
