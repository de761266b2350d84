/**
 * node-redlock 5.0.0-beta.2 (npm `redlock`): acquire([resource], ttl) throws ExecutionError when
 * it gives up, which is the "not acquired" answer here.
 */
import Redlock, { ExecutionError, type Lock } from 'redlock';
import type { ContenderSpec } from '../contender.js';

export const nodeRedlock: ContenderSpec = {
  id: 'node-redlock',
  label: 'node-redlock 5β',
  kind: 'peer',
  package: 'redlock',
  notes:
    'new Redlock(clients, settings); acquire([resource], ttl) / lock.release(). ' +
    'Uncontended: retryCount 0. Contended: retryCount R, retryDelay 7, retryJitter 3 ' +
    '(it keeps one value across retries and does not release between them). driftFactor 0.01 (default).',
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
