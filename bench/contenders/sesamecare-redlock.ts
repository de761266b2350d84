/**
 * @sesamecare-oss/redlock 1.x, the TypeScript fork of node-redlock 5 for ioredis 5. Scripts are
 * registered on each client with defineCommand; every script first SELECTs its `db` (default 0).
 */
import { ExecutionError, type Lock, Redlock } from '@sesamecare-oss/redlock';
import type { ContenderSpec } from '../contender.js';

export const sesamecareRedlock: ContenderSpec = {
  id: 'sesamecare',
  label: '@sesamecare-oss/redlock',
  kind: 'peer',
  package: '@sesamecare-oss/redlock',
  notes:
    'new Redlock(clients, settings); acquire([resource], ttl) / lock.release(). ' +
    'Uncontended: retryCount 0. Contended: retryCount R, retryDelay 7, retryJitter 3 (same engine as node-redlock 5).',
  async create(setup) {
    const clients = await setup.connect();
    const retry = setup.retry;
    const redlock = new Redlock(
      clients,
      retry.kind === 'none'
        ? { retryCount: 0 }
        : { retryCount: retry.retries, retryDelay: retry.delayMs, retryJitter: retry.jitterMs },
    );
    return {
      async acquire(resource, ttlMs) {
        try {
          return await redlock.acquire([resource], ttlMs);
        } catch (error) {
          if (error instanceof ExecutionError) return null;
          throw error;
        }
      },
      async release(lock: Lock) {
        await lock.release();
      },
      async close() {
        redlock.removeAllListeners();
      },
    };
  },
};
