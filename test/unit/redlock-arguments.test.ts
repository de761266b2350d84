import { describe, expect, it } from 'vitest';
import { channels, type LockTraceContext } from '../../src/diagnostics.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { memoryRedlock } from '../support/memory-cluster.js';
import { refusal } from '../support/refusal.js';

/**
 * Every public method of Redlock names the argument it refuses, and says what it accepts: the
 * name a caller reads in the error is the name of the parameter or option they passed.
 */
const TTL = 10_000;

/** The InvalidArgumentError a promise rejects with, as [argument, expected]. */
async function rejection(promise: Promise<unknown>): Promise<[string, string]> {
  const error = await promise.then(
    () => {
      throw new Error('expected an InvalidArgumentError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidArgumentError);
  const { argument, expected } = error as InvalidArgumentError;
  return [argument, expected];
}

describe('Redlock: the argument each method refuses', () => {
  it('acquire, acquireLockWithCustomRetry and a lock’s renew', async () => {
    const { time, redlock, cluster } = memoryRedlock(3, { retryCount: 0 });
    expect(await rejection(redlock.acquire('r', TTL, { retryStrategy: 5 as never }))).toEqual([
      'options.retryStrategy',
      'a function (attempt, context) => number | null',
    ]);
    expect(
      (await rejection(redlock.acquireLockWithCustomRetry('r', TTL, () => null, { retries: 1 } as never)))[0],
    ).toBe('options.retries');
    const lock = await time.run(redlock.acquire('r', TTL));
    expect((await rejection(lock.renew(1)))[0]).toBe('ttl');
    await time.run(lock.release());
    expect(cluster.keys()).toEqual([]);
  });

  it('with fencing, acquire takes one resource', async () => {
    const { redlock } = memoryRedlock(3, { fencing: true });
    expect(await rejection(redlock.acquire(['a', 'b'], TTL))).toEqual([
      'resource',
      'a single resource when fencing is on',
    ]);
  });

  it('renew, releaseLock and inspect', async () => {
    const { redlock } = memoryRedlock(3);
    for (const call of [
      () => redlock.renew('', 'v', TTL),
      () => redlock.releaseLock([], 'v'),
      () => redlock.inspect(''),
    ]) {
      expect((await rejection(call()))[0]).toBe('resource');
    }
    expect((await rejection(redlock.inspect('r', { value: '' })))[0]).toBe('options.value');
    expect((await rejection(redlock.inspect('r', { signal: 'x' as never })))[0]).toBe('options.signal');
  });

  it('using and keep', async () => {
    const { time, redlock } = memoryRedlock(3);
    expect(await rejection(redlock.using('r', TTL, 'fn' as never))).toEqual([
      'fn',
      'a function (signal, lock) => result',
    ]);
    expect(refusal(() => redlock.keep({} as never)).expected).toBe('a Lock taken by a Redlock');
    const permit = await time.run(redlock.semaphore('s', { permits: 2 }).acquire(TTL));
    expect(refusal(() => redlock.keep(permit)).argument).toBe('lock');
    const lock = await time.run(redlock.acquire('r', TTL));
    expect(refusal(() => redlock.keep(lock, { renewals: 1 } as never)).argument).toBe('options.renewals');
    await time.run(lock.release());
    await time.run(permit.release());
  });

  it('initFencing', async () => {
    const { redlock } = memoryRedlock(3);
    expect((await rejection(redlock.initFencing('r', { flor: 1 } as never)))[0]).toBe('options.flor');
    expect(await rejection(redlock.initFencing('r', { floor: -1 }))).toEqual([
      'options.floor',
      `an integer in [0, ${Number.MAX_SAFE_INTEGER}]`,
    ]);
    expect((await rejection(redlock.initFencing('r', { signal: {} as never })))[0]).toBe('options.signal');
  });
});

describe('Redlock: what a traced acquire says', () => {
  it('names one resource as a list of one', async () => {
    const { time, redlock } = memoryRedlock(3);
    const seen: LockTraceContext[] = [];
    const handlers = { start: (context: LockTraceContext) => seen.push(context) };
    channels.acquire.subscribe(handlers as never);
    try {
      const lock = await time.run(redlock.acquire('r', TTL));
      await time.run(lock.release());
    } finally {
      channels.acquire.unsubscribe(handlers as never);
    }
    expect(seen.map((c) => [c.operation, c.resources, c.ttl])).toEqual([['acquire', ['r'], TTL]]);
  });
});
