import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import Redlock, { ExecutionError, type ExecutionStats, ResourceLockedError } from 'quorumlock/compat';
import NodeRedlock from 'redlock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LockAcquireError } from '../../src/errors.js';
import { eventually } from '../support/fault-hooks.js';

/**
 * quorumlock/compat against node-redlock v5's documented behaviour and the scenarios of its own
 * test suite (single instance, multi instance), told in our own words. The scenarios that are
 * the API's contract run against node-redlock itself too: a user changes one import.
 */

const addresses = inject('nodes');
const prefix = `compat:${randomUUID().slice(0, 8)}:`;
const k = (name: string) => prefix + name;
const LONG = 60_000;
const ONE_SECOND = 1_000;

let raw: Redis[] = [];
const client = (i: number) => raw[i]!;

beforeAll(async () => {
  raw = addresses.slice(0, 3).map((address) => {
    const [host, port] = address.split(':');
    const c = new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0, lazyConnect: true });
    c.on('error', () => {});
    return c;
  });
  await Promise.all(raw.map((c) => c.connect()));
});

afterAll(async () => {
  await Promise.all(
    raw.map(async (c) => {
      const keys = await c.keys(`${prefix}*`);
      if (keys.length > 0) await c.del(...keys);
    }),
  );
  for (const c of raw) c.disconnect();
});

/** Both behind compat's type: the scenarios use only what the two have in common. */
const IMPLEMENTATIONS: ReadonlyArray<[string, (clients: Redis[], settings?: object) => Redlock]> = [
  ['quorumlock/compat', (clients, settings) => new Redlock(clients, settings)],
  ['node-redlock', (clients, settings) => new NodeRedlock(clients as never, settings) as unknown as Redlock],
];

/** Every vote against of every attempt, once the attempts' statistics are in. */
async function votesAgainst(
  attempts: ReadonlyArray<Promise<ExecutionStats<unknown>>>,
): Promise<Array<[unknown, Error]>> {
  const all = await Promise.all(attempts);
  return all.flatMap((s) => [...s.votesAgainst.entries()]);
}

async function pttlWithin(c: Redis, key: string, duration: number): Promise<void> {
  const pttl = await c.pttl(key);
  expect(pttl).toBeGreaterThan(0);
  expect(pttl).toBeLessThanOrEqual(duration);
}

for (const [name, make] of IMPLEMENTATIONS) {
  describe(`${name}: one instance`, () => {
    it('acquires, extends and releases a lock on one resource', async () => {
      const redlock = make([client(0)]);
      const r = k(`${name}:single`);
      let lock = await redlock.acquire([r], LONG);
      expect(await client(0).get(r)).toBe(lock.value);
      await pttlWithin(client(0), r, LONG);
      lock = await lock.extend(3 * LONG);
      expect(await client(0).get(r)).toBe(lock.value);
      expect(await client(0).pttl(r)).toBeGreaterThan(LONG);
      await lock.release();
      expect(await client(0).get(r)).toBeNull();
    });

    it('acquires, extends and releases a lock on several resources', async () => {
      const redlock = make([client(0)]);
      const [a, b] = [k(`${name}:m1`), k(`${name}:m2`)];
      let lock = await redlock.acquire([a, b], LONG);
      expect(await client(0).mget(a, b)).toEqual([lock.value, lock.value]);
      lock = await lock.extend(2 * LONG);
      expect(await client(0).pttl(b)).toBeGreaterThan(LONG);
      await lock.release();
      expect(await client(0).mget(a, b)).toEqual([null, null]);
    });

    it('a held resource is exclusive: retryCount + 1 attempts, every vote against a ResourceLockedError', async () => {
      const redlock = make([client(0)], { retryCount: 2, retryDelay: 10, retryJitter: 5 });
      const r = k(`${name}:exclusive`);
      const lock = await redlock.acquire([r], LONG);
      const error = await redlock.acquire([r], LONG).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(name === 'node-redlock' ? Error : ExecutionError);
      expect((error as Error).message).toBe(
        'The operation was unable to achieve a quorum during its retry window.',
      );
      const { attempts } = error as { attempts: ReadonlyArray<Promise<ExecutionStats<unknown>>> };
      expect(attempts).toHaveLength(3);
      for (const [, against] of await votesAgainst(attempts)) {
        expect(against.name).toBe('ResourceLockedError');
        expect(against.message).toBe('The operation was applied to: 0 of the 1 requested resources.');
      }
      await lock.release();
      expect(await client(0).get(r)).toBeNull();
    });

    it('overlapping resource sets are exclusive, and a failed attempt leaves nothing behind', async () => {
      const redlock = make([client(0)], { retryCount: 1, retryDelay: 10, retryJitter: 0 });
      const [c1, c2, c3] = [k(`${name}:c1`), k(`${name}:c2`), k(`${name}:c3`)];
      const lock = await redlock.acquire([c1, c2], LONG);
      await expect(redlock.acquire([c2, c3], LONG)).rejects.toThrow(/unable to achieve a quorum/);
      expect(await client(0).mget(c1, c2, c3)).toEqual([lock.value, lock.value, null]);
      await lock.release();
    });

    it('a lock expires on its own, and the resource can be taken again', async () => {
      const redlock = make([client(0)], { retryCount: 0 });
      const r = k(`${name}:expires`);
      const first = await redlock.acquire([r], 200);
      expect(await eventually(async () => (await client(0).exists(r)) === 0, 10 * ONE_SECOND)).toBe(true);
      const second = await redlock.acquire([r], 200);
      expect(second.value).not.toBe(first.value);
      await second.release();
    });

    it('using() acquires, keeps the lock past its duration, and releases it', async () => {
      const redlock = make([client(0)]);
      const r = k(`${name}:using`);
      const duration = ONE_SECOND;
      const value = await redlock.using(
        [r],
        duration,
        { automaticExtensionThreshold: 200 },
        async (signal) => {
          const held = await client(0).get(r);
          // Outlive the first duration: the lock must have been extended meanwhile.
          expect(await eventually(async () => false, 1.5 * duration)).toBe(false);
          expect(signal.aborted).toBe(false);
          expect((signal as { error?: Error }).error).toBeUndefined();
          expect(await client(0).get(r)).toBe(held);
          return held;
        },
      );
      expect(typeof value).toBe('string');
      expect(await client(0).get(r)).toBeNull();
    });

    it('using() is exclusive', async () => {
      const redlock = make([client(0)]);
      const r = k(`${name}:using-exclusive`);
      let inside = 0;
      let most = 0;
      const routine = async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setImmediate(resolve));
        await client(0).get(r);
        inside--;
        return client(0).get(r);
      };
      const [a, b] = await Promise.all([redlock.using([r], 600, routine), redlock.using([r], 600, routine)]);
      expect(most).toBe(1);
      expect(a).not.toBe(b);
      expect(await client(0).get(r)).toBeNull();
    });
  });

  describe(`${name}: three instances`, () => {
    it('acquires, extends and releases on every instance', async () => {
      const redlock = make(raw);
      const r = k(`${name}:multi`);
      // Both decide at quorum (2 of 3): the third instance's answer may land just after.
      const everywhere = (check: (c: Redis) => Promise<boolean>) =>
        eventually(async () => (await Promise.all(raw.map(check))).every(Boolean), 10 * ONE_SECOND);
      let lock = await redlock.acquire([r], LONG);
      expect(await everywhere(async (c) => (await c.get(r)) === lock.value)).toBe(true);
      lock = await lock.extend(3 * LONG);
      expect(await everywhere(async (c) => (await c.pttl(r)) > LONG)).toBe(true);
      await lock.release();
      expect(await everywhere(async (c) => (await c.get(r)) === null)).toBe(true);
    });

    it('succeeds when a minority holds another value, and never touches it', async () => {
      const redlock = make(raw);
      const r = k(`${name}:minority`);
      await client(2).set(r, 'other');
      let lock = await redlock.acquire([r], LONG);
      expect(await client(0).get(r)).toBe(lock.value);
      expect(await client(1).get(r)).toBe(lock.value);
      expect(await client(2).get(r)).toBe('other');
      lock = await lock.extend(2 * LONG);
      expect(await client(2).pttl(r)).toBe(-1);
      await lock.release();
      expect(await Promise.all(raw.map((c) => c.get(r)))).toEqual([null, null, 'other']);
    });

    it('fails when a majority holds another value, and takes nothing', async () => {
      const redlock = make(raw, { retryCount: 3, retryDelay: 10, retryJitter: 5 });
      const r = k(`${name}:majority`);
      await client(1).set(r, 'other1');
      await client(2).set(r, 'other2');
      const error = (await redlock.acquire([r], LONG).catch((e: unknown) => e)) as {
        attempts: ReadonlyArray<Promise<ExecutionStats<unknown>>>;
      };
      expect(error.attempts).toHaveLength(4);
      expect(await Promise.all(raw.map((c) => c.get(r)))).toEqual([null, 'other1', 'other2']);
      for (const [voter, against] of await votesAgainst(error.attempts)) {
        // quorumlock decides at the second "held": instance 0 may not have answered yet.
        if (voter === client(0)) continue;
        expect(against).toBeInstanceOf(name === 'node-redlock' ? Error : ResourceLockedError);
        expect(against.message).toBe('The operation was applied to: 0 of the 1 requested resources.');
      }
    });
  });
}

describe('quorumlock/compat: what node-redlock users keep, and what is safer', () => {
  it("keeps node-redlock's defaults: 11 attempts for a held resource", async () => {
    const redlock = new Redlock([client(0)]);
    expect(redlock.settings).toEqual({
      driftFactor: 0.01,
      retryCount: 10,
      retryDelay: 200,
      retryJitter: 100,
      automaticExtensionThreshold: 500,
    });
    const r = k('defaults');
    const lock = await redlock.acquire([r], LONG);
    const error = (await redlock.acquire([r], LONG).catch((e: unknown) => e)) as ExecutionError;
    expect(error.attempts).toHaveLength(11);
    // The cause is quorumlock's own error, with every node's answer.
    expect(error.cause).toBeInstanceOf(LockAcquireError);
    expect((error.cause as LockAcquireError).reason).toBe('contended');
    await lock.release();
  });

  it("emits 'error' and 'clientError' for each vote against", async () => {
    const redlock = new Redlock(raw, { retryCount: 0 });
    const r = k('events');
    const lock = await redlock.acquire([r], LONG);
    const seen: Array<[string, Error]> = [];
    redlock.on('error', (e: Error) => seen.push(['error', e]));
    redlock.on('clientError', (e: Error) => seen.push(['clientError', e]));
    await expect(redlock.acquire([r], LONG)).rejects.toBeInstanceOf(ExecutionError);
    expect(seen.filter(([event]) => event === 'error').length).toBeGreaterThanOrEqual(2);
    expect(seen.filter(([event]) => event === 'clientError').length).toBe(seen.length / 2);
    expect(seen.every(([, e]) => e instanceof Error)).toBe(true);
    await lock.release();
  });

  it('an unreachable instance: votes against say "Connection is closed."', async () => {
    const dead = new Redis({
      host: '127.0.0.1',
      port: 1,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    await new Promise<void>((resolve) => dead.once('end', () => resolve()));
    const redlock = new Redlock([dead], { retryCount: 2, retryDelay: 10, retryJitter: 0 });
    const error = (await redlock.acquire([k('dead')], LONG).catch((e: unknown) => e)) as ExecutionError;
    expect(error).toBeInstanceOf(ExecutionError);
    expect(error.attempts).toHaveLength(3);
    for (const [, against] of await votesAgainst(error.attempts))
      expect(against.message).toBe('Connection is closed.');
  });

  it('refuses an expired lock to extend, and release of a lost lock is an ExecutionError', async () => {
    const redlock = new Redlock([client(0)], { retryCount: 0 });
    const r = k('expired');
    const lock = await redlock.acquire([r], 200);
    expect(await eventually(async () => (await client(0).exists(r)) === 0, 10 * ONE_SECOND)).toBe(true);
    await expect(lock.extend(LONG)).rejects.toThrow('Cannot extend an already-expired lock.');
    await expect(lock.release()).rejects.toBeInstanceOf(ExecutionError);
    expect(lock.expiration).toBe(0);
  });

  it('refuses unknown settings, a bad duration for using(), and the same server twice', async () => {
    expect(() => new Redlock([client(0)], { retryCont: 3 } as never)).toThrow(
      /settings\.retryCont.*did you mean retryCount/,
    );
    expect(() => new Redlock([])).toThrow(/at least one redis client/);
    const redlock = new Redlock([client(0)]);
    await expect(redlock.using([k('u')], 550, async () => 1)).rejects.toThrow(/at least 100ms greater/);
    const twin = new Redis({
      host: client(0).options.host!,
      port: client(0).options.port!,
      lazyConnect: true,
    });
    expect(() => new Redlock([client(0), twin])).toThrow(/same endpoint/);
    twin.disconnect();
  });

  it('accepts the same client twice as one (a set of clients)', async () => {
    const redlock = new Redlock([client(0), client(0)]);
    expect(redlock.clients.size).toBe(1);
    const lock = await redlock.acquire([k('set')], LONG);
    await lock.release();
  });
});
