import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { channels, type LockTraceContext } from '../../src/diagnostics.js';
import { Redlock } from '../../src/redlock.js';
import { memoryAdapter } from '../../src/testing/memory.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

describe('tracing keeps the caller’s async context (what span nesting needs)', () => {
  it('a store bound to the start channel is entered while the operation talks to its nodes', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    const als = new AsyncLocalStorage<LockTraceContext>();
    const seen: Array<string | undefined> = [];
    const clients: RedisClient[] = cluster.nodes.map((node, i) => {
      const base = memoryAdapter(node, { endpoint: `m${i}` });
      return {
        endpoint: base.endpoint,
        exec(commands) {
          seen.push(als.getStore()?.operation);
          return base.exec(commands);
        },
      };
    });
    const redlock = new Redlock(clients, { runtime: virtualRuntime(time) });
    for (const channel of [channels.acquire, channels.renew, channels.release]) {
      channel.start.bindStore(als, (context) => context as LockTraceContext);
    }
    try {
      const lock = await time.run(redlock.acquire('r', 10_000));
      expect(seen.splice(0)).toEqual(['acquire', 'acquire', 'acquire']);
      await time.run(lock.renew());
      expect(seen.splice(0)).toEqual(['renew', 'renew', 'renew']);
      await time.run(lock.release());
      expect(seen.splice(0)).toEqual(['release', 'release', 'release']);
      expect(als.getStore()).toBeUndefined();
    } finally {
      for (const channel of [channels.acquire, channels.renew, channels.release])
        channel.start.unbindStore(als);
    }
  });
});
