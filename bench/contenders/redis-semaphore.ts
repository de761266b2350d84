/**
 * redis-semaphore's RedlockMutex: one mutex object per acquisition (its identifier, a random
 * UUID, is the lock value), tryAcquire() / release(). Auto-refresh is turned off
 * (refreshInterval 0) because no other contender renews in these workloads.
 */
import { RedlockMutex } from 'redis-semaphore';
import type { ContenderSpec } from '../contender.js';

export const redisSemaphore: ContenderSpec = {
  id: 'redis-semaphore',
  label: 'redis-semaphore',
  kind: 'peer',
  package: 'redis-semaphore',
  notes:
    'new RedlockMutex(clients, resource, { lockTimeout: ttl, refreshInterval: 0, acquireAttemptsLimit, retryInterval, ' +
    'acquireTimeout: 60 s }) per acquisition; tryAcquire() / release(). Uncontended: acquireAttemptsLimit 1. ' +
    'Contended: acquireAttemptsLimit R + 1, retryInterval 7 (fixed: it has no jitter). Keys get its "mutex:" prefix.',
  async create(setup) {
    const clients = await setup.connect();
    const retry = setup.retry;
    const attempts = retry.kind === 'none' ? 1 : retry.retries + 1;
    const retryInterval = retry.kind === 'none' ? 0 : Math.round(retry.delayMs);
    return {
      async acquire(resource, ttlMs): Promise<RedlockMutex | null> {
        const mutex = new RedlockMutex(clients, resource, {
          lockTimeout: ttlMs,
          acquireTimeout: 60_000,
          acquireAttemptsLimit: attempts,
          retryInterval,
          refreshInterval: 0,
        });
        return (await mutex.tryAcquire()) ? mutex : null;
      },
      async release(mutex: RedlockMutex) {
        await mutex.release();
      },
      async close() {},
    };
  },
};
