import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { nodeRedisAdapter } from '../../src/adapters/node-redis.js';
import { LockAcquireError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { closeClient } from '../../tools/nodes.js';
import { makeTlsFiles, type TlsFiles, TlsRedisNode, tlsUnsupported } from '../../tools/tls.js';

/**
 * Nodes that speak TLS only (docs/adapters.md, "Password, ACL user, TLS"): three `redis-server`
 * processes with `--port 0 --tls-port`, a CA and a certificate for 127.0.0.1 made at test time
 * with openssl (tools/tls.ts). Skipped, with the reason, where openssl is missing or redis-server
 * was built without TLS.
 */
const unsupported = await tlsUnsupported();
const CONNECT_TIMEOUT_MS = 20_000;

let files: TlsFiles | undefined;
const nodes: TlsRedisNode[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  if (unsupported !== undefined) return;
  files = await makeTlsFiles();
  const started = await Promise.allSettled([0, 1, 2].map(() => TlsRedisNode.start(files!)));
  for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
});

afterAll(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await Promise.all(nodes.splice(0).map((node) => node.dispose()));
  await files?.dispose();
});

/** An ioredis client per node; `ca: undefined` trusts only the system's CAs (not ours). */
function ioredisClients(ca: string | undefined): { clients: RedisClient[]; errors: Error[]; raw: Redis[] } {
  const errors: Error[] = [];
  const raw = nodes.map((node) => {
    const client = new Redis({
      host: node.host,
      port: node.port,
      tls: ca === undefined ? {} : { ca },
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    client.on('error', (error: Error) => errors.push(error));
    // closeClient leaves an ended client alone (disconnecting it again starts a 2 s timer).
    closers.push(() => closeClient(client));
    return client;
  });
  return { clients: raw.map((c) => ioredisAdapter(c)), errors, raw };
}

/** A node-redis client per node, not yet connected. */
function nodeRedisClients(ca: string | undefined) {
  return nodes.map((node) => {
    const client = createClient({
      socket: {
        host: node.host,
        port: node.port,
        tls: true,
        ...(ca === undefined ? {} : { ca }),
        reconnectStrategy: false,
        connectTimeout: CONNECT_TIMEOUT_MS,
      },
      // node-redis 6 bounds each command with a 5 s timer that outlives the reply (see
      // test/support/clients.ts); the core's per-node timeout bounds the calls instead.
      commandOptions: { timeout: 0 },
    });
    client.on('error', () => {});
    closers.push(async () => (client.isOpen ? client.destroy() : undefined));
    return client;
  });
}

/** Acquire, renew and release one lock over `clients`; every node must vote yes each time. */
async function lockCycle(clients: RedisClient[], resource: string): Promise<void> {
  const redlock = new Redlock(clients, { retryCount: 0 });
  const lock = await redlock.acquire(resource, 10_000);
  expect(lock.value).toMatch(/^[0-9a-f]{32}$/);
  expect((await redlock.renew(resource, lock.value, 20_000)).renewed).toBe(true);
  expect((await lock.release()).releasedCount).toBe(3);
  await redlock.idle();
}

/**
 * Each client's vote when it is the only node of a Redlock (with several, the core stops asking
 * once a quorum is out of reach, and the rest stay `pending`).
 */
async function votesAlone(clients: RedisClient[]): Promise<string[]> {
  const outcomes: string[] = [];
  for (const client of clients) {
    const redlock = new Redlock([client], { retryCount: 0 });
    const error = await redlock.acquire('tls-refused', 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    outcomes.push(...(error as LockAcquireError).nodes.map((v) => v.outcome));
    await redlock.idle();
  }
  return outcomes;
}

describe.skipIf(unsupported !== undefined)(
  `three TLS-only nodes with a certificate made at test time${unsupported === undefined ? '' : ` (skipped: ${unsupported})`}`,
  () => {
    it('ioredis with tls: { ca } acquires, renews and releases', async () => {
      const { clients, raw } = ioredisClients(files!.ca);
      await Promise.all(raw.map((c) => c.connect()));
      await lockCycle(clients, 'tls-ioredis');
    });

    it('node-redis with socket: { tls: true, ca } acquires, renews and releases', async () => {
      const raw = nodeRedisClients(files!.ca);
      await Promise.all(raw.map((c) => c.connect()));
      await lockCycle(
        raw.map((c) => nodeRedisAdapter(c)),
        'tls-node-redis',
      );
    });

    it('an ioredis client without the CA is refused: every vote is an error, never a yes', async () => {
      const { clients, errors } = ioredisClients(undefined);
      expect(await votesAlone(clients)).toEqual(['error', 'error', 'error']);
      expect(errors.map((e) => e.message).join('\n')).toMatch(/certificate/i);
    });

    it('a node-redis client without the CA is refused at connect, and its votes are errors', async () => {
      const raw = nodeRedisClients(undefined);
      const connecting = await Promise.allSettled(raw.map((c) => c.connect()));
      for (const result of connecting) {
        expect(result.status).toBe('rejected');
        expect(String((result as PromiseRejectedResult).reason)).toMatch(/certificate/i);
      }
      expect(await votesAlone(raw.map((c) => nodeRedisAdapter(c)))).toEqual(['error', 'error', 'error']);
    });
  },
);
