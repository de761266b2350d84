import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, inject } from 'vitest';
import { RedisClient, type RedisClientOptions } from '../../src/client/index.js';
import { adminClient, closeClient, parseAddress } from '../../tools/nodes.js';

/**
 * RedisClients on the integration project's shared nodes, under a key prefix unique to this file
 * and run; each is disconnected after its test, and the file's keys are deleted at the end.
 */
export function useClients() {
  const addresses = inject('nodes');
  const prefix = `cl:${randomUUID().slice(0, 8)}:`;
  const admins = new Map<string, Redis>();
  const opened: RedisClient[] = [];
  const state = {
    addresses,
    prefix,
    /** A client on `addresses[node]`, with this file's prefix unless `options` names another. */
    client(node = 0, options: RedisClientOptions = {}): RedisClient {
      const { host, port } = parseAddress(addresses[node]!);
      const c = new RedisClient({ host, port, keyPrefix: prefix, ...options });
      opened.push(c);
      return c;
    },
    /** `count` distinct client instances on one node (each its own connection). */
    clients(count: number, node = 0, options: RedisClientOptions = {}): RedisClient[] {
      return Array.from({ length: count }, () => state.client(node, options));
    },
    /** A plain ioredis client on `addresses[node]`, for looking at what the client wrote. */
    admin(node = 0): Redis {
      const address = addresses[node]!;
      let admin = admins.get(address);
      if (!admin) {
        admin = adminClient(address);
        admins.set(address, admin);
      }
      return admin;
    },
    /** The server's clock, in µs (what the rate limiter decides by). */
    async serverTimeUs(node = 0): Promise<number> {
      const [s, us] = (await state.admin(node).call('TIME')) as [string, string];
      return Number(s) * 1_000_000 + Number(us);
    },
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.disconnect()));
  });
  afterAll(async () => {
    for (const admin of admins.values()) {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await closeClient(admin);
    }
  });
  return state;
}

/** Wait (bounded) until `predicate` holds; polls every `everyMs`. Fails with `what` otherwise. */
export async function eventually(
  what: string,
  predicate: () => Promise<boolean>,
  { timeoutMs = 10_000, everyMs = 20 } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < Math.ceil(timeoutMs / everyMs) + 1; i++) {
    if (await predicate()) return;
    if (performance.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}
