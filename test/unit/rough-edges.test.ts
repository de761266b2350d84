import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { nodeRedisAdapter } from '../../src/adapters/node-redis.js';
import { diagnose, summary } from '../../src/cli/doctor.js';
import { main } from '../../src/cli/main.js';
import { InvalidArgumentError, LockAcquireError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { MIN_VALIDITY_MS, minTtlMs } from '../../src/validity.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/** What a newcomer met first (issue 12): each case failed before its fix. */

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('errors say their cause', () => {
  it('a never-connected node-redis client: the cause is in the message and in JSON', async () => {
    const clients = [0, 1, 2].map((i) => nodeRedisAdapter(createClient(), { endpoint: `never-${i}` }));
    const redlock = new Redlock(clients, { retryCount: 0 });
    const error = await redlock.acquire('r', 1_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LockAcquireError);
    const message = (error as Error).message;
    expect(message).toContain('ClientClosedError');
    expect(message).toContain('The client is closed');
    const json = JSON.parse(JSON.stringify(error));
    expect(json).toMatchObject({ name: 'LockAcquireError', reason: 'unavailable', message });
    const failed = json.attempts[0].nodes.find((n: { outcome: string }) => n.outcome === 'error');
    expect(failed.error).toEqual({ name: 'ClientClosedError', message: 'The client is closed' });
    // A report on its own too.
    const report = (error as LockAcquireError).attempts[0]!.nodes.find((n) => n.outcome === 'error')!;
    expect(JSON.parse(JSON.stringify(report)).error.name).toBe('ClientClosedError');
  });

  it('InvalidArgumentError keeps its message in JSON', () => {
    const error = new InvalidArgumentError('ttl', 'an integer', 'x');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      name: 'InvalidArgumentError',
      code: 'ERR_QUORUMLOCK_INVALID_ARGUMENT',
      argument: 'ttl',
      message: 'ttl must be an integer, received "x"',
    });
  });
});

describe('a node whose connection is known closed', () => {
  let client: Redis | undefined;
  afterEach(async () => {
    client?.disconnect();
    // ioredis arms a `disconnectTimeout` timer (0 here) to destroy the socket: timers of equal
    // delay fire in the order they were set, so this one runs after it.
    await new Promise((resolve) => setTimeout(resolve, 0));
  });

  it('fails a release at once instead of waiting its timeout (ioredis, reconnecting)', async () => {
    const port = await closedPort();
    // The next reconnect is an hour away: a queued command would wait for it (or the timeout).
    client = new Redis({
      host: '127.0.0.1',
      port,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 3_600_000,
      disconnectTimeout: 0,
    });
    client.on('error', () => {});
    await new Promise<void>((resolve) => client!.once('reconnecting', () => resolve()));
    const redlock = new Redlock([ioredisAdapter(client)], { nodeTimeoutMs: 20_000 });
    const result = await redlock.releaseLock('r', 'v');
    expect(result.nodes[0]).toMatchObject({ outcome: 'error' });
    expect(result.nodes[0]!.error?.message).toMatch(/is reconnecting: call not sent/);
    expect(client.status).toBe('reconnecting');
  });
});

describe('the smallest TTL (R4)', () => {
  it('leaves MIN_VALIDITY_MS after the drift, and is named in the error', async () => {
    expect(minTtlMs(0.01)).toBe(12);
    const time = new VirtualTime();
    const redlock = new Redlock(new MemoryCluster(3, time).clients, { runtime: virtualRuntime(time) });
    for (const ttl of [3, 11]) {
      const error = await redlock.acquireLock('r', ttl).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/ttl must be an integer in \[12, 2147483647\] ms \(MIN_TTL/);
      expect((error as Error).message).toContain(`${MIN_VALIDITY_MS} ms`);
    }
  });

  it('healthy nodes slower than a short validity: validity-exhausted, not unavailable', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    for (let i = 0; i < 5; i++) cluster.set(i, { kind: 'up', delayMs: 40 });
    const redlock = new Redlock(cluster.clients, { retryCount: 0, runtime: virtualRuntime(time) });
    // ttl 20: the per-node timeout is capped at the validity, 18 ms, below the 40 ms round trip.
    const error = await time.run(redlock.acquire('short', 20)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    expect((error as LockAcquireError).reason).toBe('validity-exhausted');
    // With room for the round trip, the same nodes grant the lock.
    const lock = await time.run(redlock.acquire('long', 1_000));
    expect(lock.report.outcome).toBe('acquired');
    await time.run(lock.release());
    // Nodes that do not answer at all with a timeout of their own are unavailable.
    for (let i = 0; i < 5; i++) cluster.set(i, { kind: 'blackhole' });
    const down = await time.run(redlock.acquire('down', 1_000)).catch((e: unknown) => e);
    expect((down as LockAcquireError).reason).toBe('unavailable');
    await time.run(redlock.idle());
  });
});

describe('warnings', () => {
  it('QUORUMLOCK_PERSISTENCE once per process, not once per node or per Redlock; eviction once per node', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    for (const node of cluster.nodes) node.aofEnabled = false;
    cluster.nodes[1]!.maxmemoryPolicy = 'allkeys-lru';
    const seen: string[] = [];
    const evictions: string[] = [];
    const listener = (w: Error & { code?: string }) => {
      if (w.code === 'QUORUMLOCK_PERSISTENCE') seen.push(w.message);
      if (w.code === 'QUORUMLOCK_EVICTION_POLICY') evictions.push(w.message);
    };
    process.on('warning', listener);
    try {
      for (const _ of [1, 2]) {
        const redlock = new Redlock(cluster.clients, { runtime: virtualRuntime(time) });
        const lock = (await time.run(redlock.acquireLock('r', 1_000)))!;
        await time.run(lock.release());
        await time.run(redlock.idle());
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    // Two Redlocks over the same five servers: one persistence warning, one eviction warning.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/warned once per process/);
    expect(evictions).toHaveLength(1);
    expect(evictions[0]).toMatch(/node 1 \(mem-1\)/);
  });
});

describe('quorumlock doctor', () => {
  async function run(argv: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => {
      out += `${s}\n`;
    });
    const err = vi.spyOn(console, 'error').mockImplementation((s: string) => {
      out += `${s}\n`;
    });
    try {
      return { code: await main(argv), out };
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  }

  it('--help prints the usage and exits 0, probing nothing', async () => {
    for (const argv of [['doctor', '--help'], ['doctor', '-h'], ['--help']]) {
      const { code, out } = await run(argv);
      expect(code).toBe(0);
      expect(out).toMatch(/^usage: quorumlock doctor/);
      expect(out).not.toMatch(/FAIL/);
    }
  });

  it('no command or an unknown one is a usage error (exit 2)', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['doctr'])).code).toBe(2);
    expect((await run(['doctor', '--verbose'])).code).toBe(2);
  });

  const healthy = (address: string, runId: string) => ({
    address,
    info: `run_id:${runId}\r\nredis_version:7.0.0\r\nuptime_in_seconds:9\r\nmaxmemory_policy:noeviction\r\naof_enabled:1\r\nrole:master\r\n`,
    appendfsync: 'always',
  });

  it('one node is a warning, and the summary says so', () => {
    const { findings, ok } = diagnose([healthy('a:1', 'x'.repeat(40))]);
    expect(ok).toBe(true);
    expect(findings[0]).toMatchObject({ level: 'warn', check: 'count' });
    expect(summary(findings)).toBe('No failed checks, but 1 warning: see WARN above.');
  });

  it('an address given twice is one node, and a failed check', () => {
    const { findings, ok } = diagnose(
      [healthy('a:1', 'x'.repeat(40)), healthy('b:1', 'y'.repeat(40)), healthy('c:1', 'z'.repeat(40))],
      ['a:1'],
    );
    expect(ok).toBe(false);
    expect(findings).toContainEqual(
      expect.objectContaining({ node: 'a:1', level: 'fail', check: 'independent' }),
    );
    expect(findings).toContainEqual(
      expect.objectContaining({ check: 'count', detail: expect.stringMatching(/^3 nodes/) }),
    );
  });
});
