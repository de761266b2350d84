import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, closeClient, FaultProxy, RedisNode } from '../../support/index.js';

/** The value of `promise` if it settles within `ms`, else 'timeout'; a later rejection is swallowed. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  promise.catch(() => undefined);
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

/** Resolves when the client has closed its connection for good, or 'timeout' after `ms`. */
function ended(client: Redis, ms: number): Promise<true | 'timeout'> {
  if (client.status === 'end') return Promise.resolve(true);
  return within(new Promise<true>((resolve) => client.once('end', () => resolve(true))), ms);
}

describe('FaultProxy', () => {
  let node: RedisNode;
  let proxy: FaultProxy | undefined;
  const clients: Redis[] = [];

  /** A fail-fast client through the proxy, connected and answering. */
  async function connectedClient(): Promise<Redis> {
    const client = adminClient(proxy!.address);
    clients.push(client);
    expect(await client.ping()).toBe('PONG');
    return client;
  }

  beforeAll(async () => {
    node = await RedisNode.start({ persistence: 'none' });
  });
  afterAll(async () => {
    await node.dispose();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(closeClient));
    await proxy?.close();
    proxy = undefined;
  });

  it('passes traffic through and counts it', async () => {
    proxy = await FaultProxy.start(node);
    expect(proxy.address).toBe(`127.0.0.1:${proxy.port}`);
    const client = await connectedClient();
    expect(await client.set('k', 'v')).toBe('OK');
    expect(await client.get('k')).toBe('v');
    expect(proxy.stats.connections).toBe(1);
    expect(proxy.stats.bytesUp).toBeGreaterThan(0);
    expect(proxy.stats.bytesDown).toBeGreaterThan(0);
  });

  it('delays each direction by at least the configured latency', async () => {
    proxy = await FaultProxy.start(node);
    const client = await connectedClient();
    proxy.setLatency({ upMs: 100, downMs: 50 });
    const started = performance.now();
    expect(await client.ping()).toBe('PONG');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('keeps byte order when the latency drops while bytes are queued', async () => {
    proxy = await FaultProxy.start(node);
    const client = await connectedClient();
    await client.mset('a', 'A', 'b', 'B');
    proxy.setLatency({ upMs: 200 });
    const order: string[] = [];
    const first = client.get('a').then((v) => order.push(`a=${v}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    proxy.setLatency({});
    const second = client.get('b').then((v) => order.push(`b=${v}`));
    await Promise.all([first, second]);
    expect(order).toEqual(['a=A', 'b=B']);
  });

  it('blackhole: a PING is not answered; traffic flows again after switching back to pass', async () => {
    proxy = await FaultProxy.start(node);
    const client = await connectedClient();
    proxy.setMode('blackhole');
    expect(await within(client.ping(), 300)).toBe('timeout');
    const newcomer = adminClient(proxy.address);
    clients.push(newcomer);
    expect(await within(newcomer.ping(), 300)).toBe('timeout');
    proxy.setMode('pass');
    const fresh = await connectedClient();
    expect(await fresh.get('missing')).toBeNull();
  });

  it('drop-replies: the SET is applied but its reply never comes', async () => {
    proxy = await FaultProxy.start(node);
    const client = await connectedClient();
    proxy.setMode('drop-replies');
    expect(await within(client.set('dropped', 'yes'), 300)).toBe('timeout');
    expect(await node.command('GET', 'dropped')).toBe('yes');
  });

  it('refuse: connecting fails and existing connections are cut', async () => {
    proxy = await FaultProxy.start(node);
    const existing = await connectedClient();
    proxy.setMode('refuse');
    expect(await ended(existing, 5_000)).toBe(true);
    const client = adminClient(proxy.address);
    clients.push(client);
    await expect(client.ping()).rejects.toThrow();
    expect(proxy.stats.connections).toBe(2);
  });

  it('cutConnections closes the client', async () => {
    proxy = await FaultProxy.start(node);
    const client = await connectedClient();
    proxy.cutConnections();
    expect(await ended(client, 5_000)).toBe(true);
    await expect(client.ping()).rejects.toThrow(/Connection is closed/);
    expect(await (await connectedClient()).ping()).toBe('PONG');
  });

  it('closes the client when the target node goes down', async () => {
    const target = await RedisNode.start({ persistence: 'none' });
    try {
      proxy = await FaultProxy.start(target);
      const client = await connectedClient();
      await target.kill();
      expect(await ended(client, 5_000)).toBe(true);
    } finally {
      await target.dispose();
    }
  });

  it('close() stops listening', async () => {
    proxy = await FaultProxy.start(node);
    await connectedClient();
    const address = proxy.address;
    await proxy.close();
    proxy = undefined;
    const client = adminClient(address);
    clients.push(client);
    await expect(client.ping()).rejects.toThrow();
  });
});
