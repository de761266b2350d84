/**
 * The raw floor: the least a correct Redlock client does, written directly on ioredis.
 *
 * Acquire: a fresh 16-byte random value; `SET key value PX ttl NX` to every node in parallel
 * (waiting for every reply, no per-node timeout); acquired when at least floor(N/2)+1 answered OK
 * and the elapsed time is below ttl − drift (drift = floor(ttl × 0.01) + 2 ms). A failed attempt
 * releases on every node that did not answer nil (OK or error) before the next attempt.
 * Release: one compare-and-delete per node, `EVALSHA` of a script whose SHA1 is computed once,
 * `EVAL` on NOSCRIPT.
 *
 * No options objects, no per-node report, no validity bookkeeping beyond the check: it is what
 * the libraries' own overhead is measured against.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GlideClient } from '@valkey/valkey-glide';
import type { Redis } from 'ioredis';
import type { Redis as Redis5 } from 'ioredis5';
import type { NodeRedisClient } from '../connections.js';
import { type ContenderSetup, type ContenderSpec, jitteredDelay } from '../contender.js';

const RELEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const RELEASE_SHA = createHash('sha1').update(RELEASE).digest('hex');
const FAILED = Symbol('failed');

interface FloorLock {
  readonly key: string;
  readonly value: string;
}

/** What the floor needs from a client: SET NX PX, and the release script by SHA1 (EVAL on NOSCRIPT). */
interface FloorClient {
  setNx(key: string, value: string, ttlMs: number): Promise<unknown>;
  evalsha(key: string, value: string): Promise<unknown>;
  eval(key: string, value: string): Promise<unknown>;
}

function ioredisFloorClient(client: Redis | Redis5): FloorClient {
  return {
    setNx: (key, value, ttlMs) => client.set(key, value, 'PX', ttlMs, 'NX'),
    evalsha: (key, value) => client.evalsha(RELEASE_SHA, 1, key, value),
    eval: (key, value) => client.eval(RELEASE, 1, key, value),
  };
}

function nodeRedisFloorClient(client: NodeRedisClient): FloorClient {
  return {
    setNx: (key, value, ttlMs) => client.sendCommand(['SET', key, value, 'PX', String(ttlMs), 'NX']),
    evalsha: (key, value) => client.sendCommand(['EVALSHA', RELEASE_SHA, '1', key, value]),
    eval: (key, value) => client.sendCommand(['EVAL', RELEASE, '1', key, value]),
  };
}

function compareAndDelete(client: FloorClient, key: string, value: string): Promise<unknown> {
  return client.evalsha(key, value).catch((error: unknown) => {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(key, value);
    throw error;
  });
}

/** The floor over the clients `connect` makes. */
function floorOver(connect: (setup: ContenderSetup) => Promise<FloorClient[]>): ContenderSpec['create'] {
  return async (setup: ContenderSetup) => {
    const clients = await connect(setup);
    const quorum = Math.floor(clients.length / 2) + 1;
    const retry = setup.retry;
    const retries = retry.kind === 'none' ? 0 : retry.retries;
    return {
      async acquire(key, ttlMs): Promise<FloorLock | null> {
        const drift = Math.floor(ttlMs * 0.01) + 2;
        for (let attempt = 0; ; attempt++) {
          const value = randomBytes(16).toString('hex');
          const start = performance.now();
          const replies = await Promise.all(
            clients.map((c) => c.setNx(key, value, ttlMs).catch(() => FAILED)),
          );
          let votes = 0;
          for (const reply of replies) if (reply === 'OK') votes++;
          if (votes >= quorum && performance.now() - start < ttlMs - drift) return { key, value };
          await Promise.all(
            clients.map((c, i) =>
              replies[i] === null ? undefined : compareAndDelete(c, key, value).catch(() => undefined),
            ),
          );
          if (attempt >= retries || retry.kind === 'none') return null;
          await sleep(jitteredDelay(retry.delayMs, retry.jitterMs));
        }
      },
      async release(lock: FloorLock) {
        await Promise.all(clients.map((c) => compareAndDelete(c, lock.key, lock.value)));
      },
      async close() {},
    };
  };
}

export function makeFloor(autoPipelining: boolean): ContenderSpec['create'] {
  return floorOver(async (setup) => (await setup.connect({ autoPipelining })).map(ioredisFloorClient));
}

function glideFloorClient(client: GlideClient): FloorClient {
  return {
    setNx: (key, value, ttlMs) => client.customCommand(['SET', key, value, 'PX', String(ttlMs), 'NX']),
    evalsha: (key, value) => client.customCommand(['EVALSHA', RELEASE_SHA, '1', key, value]),
    eval: (key, value) => client.customCommand(['EVAL', RELEASE, '1', key, value]),
  };
}

/** The floor over Valkey GLIDE clients (the GLIDE section). */
export const floorGlide: ContenderSpec = {
  id: 'floor-glide',
  label: 'GLIDE floor',
  kind: 'variant',
  package: '@valkey/valkey-glide',
  notes: 'The raw floor written on Valkey GLIDE (customCommand): SET NX PX, EVALSHA compare-and-delete.',
  create: floorOver(async (setup) => (await setup.connectGlide()).map(glideFloorClient)),
};

/** The floor over ioredis 5 clients (the ioredis 5 section). */
export const floorIoredis5: ContenderSpec = {
  id: 'floor-ioredis5',
  package: 'ioredis5',
  label: 'ioredis 5 floor',
  kind: 'variant',
  notes: 'The raw floor on ioredis 5 clients (npm alias ioredis5).',
  create: floorOver(async (setup) => (await setup.connectIoredis5()).map(ioredisFloorClient)),
};

/** The floor over node-redis clients (the node-redis section). */
export const floorNodeRedis: ContenderSpec = {
  id: 'floor-node-redis',
  label: 'node-redis floor',
  kind: 'variant',
  notes: 'The raw floor written on node-redis (sendCommand): SET NX PX, EVALSHA compare-and-delete.',
  create: floorOver(async (setup) => (await setup.connectNodeRedis()).map(nodeRedisFloorClient)),
};

export const floor: ContenderSpec = {
  id: 'floor',
  label: 'raw floor',
  kind: 'floor',
  notes:
    'ioredis directly: parallel SET NX PX to all nodes, quorum and validity check, release on failure; ' +
    'release = one cached EVALSHA compare-and-delete per node. Contended: R retries, 7 ± 3 ms apart, fresh value each.',
  create: makeFloor(false),
};
