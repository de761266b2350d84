/**
 * redlock-universal: a RedLock object is bound to one key (createRedlock({ adapters, key })) and
 * takes a fresh value on every acquire(), so the adapter keeps one per resource (the workloads
 * use a bounded set of keys). Its adapters wrap every command in their own 5 s timeout (default).
 */
import {
  createRedlock,
  IoredisAdapter,
  type Lock,
  LockAcquisitionError,
  type LockHandle,
} from 'redlock-universal';
import type { ContenderSpec } from '../contender.js';

interface Held {
  readonly lock: Lock;
  readonly handle: LockHandle;
}

export const redlockUniversal: ContenderSpec = {
  id: 'redlock-universal',
  label: 'redlock-universal',
  kind: 'peer',
  package: 'redlock-universal',
  notes:
    'createRedlock({ adapters: clients.map(c => new IoredisAdapter(c)), key, ttl, retryAttempts, retryDelay }), ' +
    'one per key, reused; acquire() / release(handle). Uncontended: retryAttempts 0. Contended: retryAttempts R, ' +
    'retryDelay 7 (fixed: it has no jitter). Adapter options at their defaults.',
  async create(setup) {
    const clients = await setup.connect();
    const adapters = clients.map((client) => new IoredisAdapter(client));
    const retry = setup.retry;
    const locks = new Map<string, Lock>();
    const lockFor = (key: string, ttl: number): Lock => {
      let lock = locks.get(key);
      if (lock === undefined) {
        lock = createRedlock({
          adapters,
          key,
          ttl,
          retryAttempts: retry.kind === 'none' ? 0 : retry.retries,
          retryDelay: retry.kind === 'none' ? 0 : Math.round(retry.delayMs),
        });
        locks.set(key, lock);
      }
      return lock;
    };
    return {
      async acquire(resource, ttlMs): Promise<Held | null> {
        const lock = lockFor(resource, ttlMs);
        try {
          return { lock, handle: await lock.acquire() };
        } catch (error) {
          if (error instanceof LockAcquisitionError) return null;
          throw error;
        }
      },
      async release(held: Held) {
        await held.lock.release(held.handle);
      },
      async close() {
        locks.clear();
      },
    };
  },
};
