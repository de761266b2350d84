import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';

const clients = () => [0, 1, 2].map((i) => memoryAdapter(new MemoryNode(), { endpoint: `m${i}` }));

function invalid(fn: () => unknown, argument: string, range: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect((error as Error).message).toMatch(range);
    return;
  }
  throw new Error(`expected an InvalidArgumentError for ${argument}`);
}

async function rejectsInvalid(promise: Promise<unknown>, argument: string, range: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).argument).toBe(argument);
  expect((error as Error).message).toMatch(range);
}

describe('constructor input', () => {
  it('refuses an empty or missing client list', () => {
    invalid(() => new Redlock([]), 'clients', /non-empty array/);
    invalid(() => new Redlock(undefined as never), 'clients', /non-empty array/);
  });

  it('refuses the same endpoint twice (R1)', () => {
    const node = new MemoryNode();
    invalid(
      () =>
        new Redlock([
          memoryAdapter(node, { endpoint: 'x' }),
          memoryAdapter(new MemoryNode(), { endpoint: 'x' }),
        ]),
      'clients[1]',
      /same endpoint as clients\[0\]/,
    );
  });

  it('names the adapter a raw ioredis or node-redis client needs', () => {
    const io = new Redis({ lazyConnect: true });
    const nr = createClient();
    invalid(() => new Redlock([io as never]), 'clients[0]', /ioredisAdapter\(client\)/);
    invalid(() => new Redlock([nr as never]), 'clients[0]', /nodeRedisAdapter\(client\)/);
    invalid(() => new Redlock([{} as never]), 'clients[0]', /RedisClient adapter/);
    io.disconnect();
  });

  it.each([
    ['retryCount', -1, /integer in \[0, 1000000\]/],
    ['retryCount', 1.5, /integer/],
    ['retryCount', Number.NaN, /integer/],
    ['retryDelay', -5, /\[0, /],
    ['retryDelay', Number.POSITIVE_INFINITY, /finite/],
    ['retryJitter', 300, /retryJitter may not exceed retryDelay/],
    ['retryJitter', -1, /\[0, 200\]/],
    ['driftFactor', 1, /\[0, 0\.99\]/],
    ['driftFactor', -0.1, /\[0, 0\.99\]/],
    ['driftFactor', '0.01', /\[0, 0\.99\]/],
    ['nodeTimeoutMs', 0, /integer in \[1, /],
    ['keyPrefix', 5, /a string/],
  ])('refuses options.%s = %s', (name, value, range) => {
    invalid(() => new Redlock(clients(), { [name]: value }), `options.${name}`, range);
  });

  it('refuses a runtime piece that is not a function', () => {
    invalid(
      () => new Redlock(clients(), { runtime: { clock: {} as never } }),
      'options.runtime.clock.now',
      /a function/,
    );
  });

  it('clamps the default jitter to a small retryDelay', () => {
    expect(new Redlock(clients(), { retryDelay: 40 }).options.retryJitter).toBe(40);
    expect(new Redlock(clients()).options).toMatchObject({
      retryCount: 3,
      retryDelay: 200,
      retryJitter: 100,
      driftFactor: 0.01,
      keyPrefix: '',
    });
  });

  it('warns on an even number of nodes (R1)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? '');
    process.on('warning', onWarning);
    try {
      const four = [0, 1, 2, 3].map((i) => memoryAdapter(new MemoryNode(), { endpoint: `e${i}` }));
      expect(new Redlock(four).quorum).toBe(3);
      // emitWarning dispatches on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toContain('QUORUMLOCK_EVEN_N');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('operation input', () => {
  const redlock = new Redlock(clients());

  it.each([
    ['', 'resource', /non-empty string/],
    [[], 'resource', /non-empty string or an array/],
    [['a', ''], 'resource[1]', /non-empty string/],
    [['a', 'a'], 'resource[1]', /not already in the list/],
    [42, 'resource', /non-empty string/],
  ])('acquireLock refuses resource %j', async (resource, argument, range) => {
    await rejectsInvalid(redlock.acquireLock(resource as never, 1000), argument, range);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100', 2, 11])(
    'acquireLock refuses ttl %s',
    async (ttl) => {
      await rejectsInvalid(redlock.acquireLock('r', ttl as never), 'ttl', /integer in \[12, 2147483647\]/);
    },
  );

  it('refuses a ttl too small for a large drift factor, naming the smallest', async () => {
    const lossy = new Redlock(clients(), { driftFactor: 0.5 });
    await rejectsInvalid(lossy.acquireLock('r', 22), 'ttl', /\[23, 2147483647\]/);
  });

  it('refuses bad per-call options', async () => {
    await rejectsInvalid(
      redlock.acquire('r', 1000, { signal: {} as never }),
      'options.signal',
      /AbortSignal/,
    );
    await rejectsInvalid(
      redlock.acquire('r', 1000, { timeoutMs: -1 }),
      'options.timeoutMs',
      /integer in \[0, /,
    );
    await rejectsInvalid(
      redlock.acquireLockWithCustomRetry('r', 1000, 5 as never),
      'retryStrategy',
      /a function/,
    );
  });

  it.each([
    ['', /non-empty string/],
    [undefined, /non-empty string/],
    [7, /non-empty string/],
  ])('release and renew refuse value %j', async (value, range) => {
    await rejectsInvalid(redlock.releaseLock('r', value as never), 'value', range);
    await rejectsInvalid(redlock.renewLock('r', value as never, 1000), 'value', range);
  });

  it('renew refuses a bad ttl', async () => {
    await rejectsInvalid(redlock.renewLock('r', 'v', 0), 'ttl', /integer/);
  });

  it('a well-formed value that matches nothing is not an error', async () => {
    const result = await redlock.releaseLock('r', 'nobody');
    expect(result.releasedCount).toBe(0);
    expect(result.notHeldCount).toBe(3);
    expect(await redlock.renewLock('r', 'nobody', 1000)).toBe(false);
  });
});

describe('unknown keys and shapes (bad input is named)', () => {
  it('refuses an unknown option key, naming the nearest valid one', () => {
    invalid(() => new Redlock(clients(), { retryCont: 5 } as never), 'options.retryCont', /retryCount/);
    invalid(() => new Redlock(clients(), { drift: 0.1 } as never), 'options.drift', /driftFactor/);
    invalid(
      () => new Redlock(clients(), { runtime: { clok: {} } } as never),
      'options.runtime.clok',
      /clock/,
    );
  });

  it('refuses per-call options that are not an object, or carry unknown keys', async () => {
    const redlock = new Redlock(clients());
    await rejectsInvalid(redlock.acquire('a', 1000, 5 as never), 'options', /an object/);
    await rejectsInvalid(
      redlock.acquireLock('a', 1000, { timeout: 5 } as never),
      'options.timeout',
      /timeoutMs/,
    );
    await rejectsInvalid(redlock.releaseLock('a', 'v', { sginal: 1 } as never), 'options.sginal', /signal/);
    await rejectsInvalid(redlock.renewLock('a', 'v', 1000, 'x' as never), 'options', /an object/);
    await rejectsInvalid(redlock.inspect('a', { valeu: 'x' } as never), 'options.valeu', /value/);
    await rejectsInvalid(
      redlock.using('a', 1000, () => 1, { maxRenewal: 2 } as never),
      'options.maxRenewal',
      /maxRenewals/,
    );
  });

  it('initFencing takes one resource, not an array', async () => {
    const redlock = new Redlock(clients(), { fencing: true });
    await rejectsInvalid(redlock.initFencing(['a', 'b'] as never), 'resource', /a non-empty string/);
  });
});

describe('delays stay within what a timer can wait (2^31 − 1 ms)', () => {
  it('refuses retryDelay + retryJitter above the timer range', () => {
    invalid(
      () => new Redlock(clients(), { retryDelay: 2e9, retryJitter: 1e9 }),
      'options.retryJitter',
      /retryDelay \+ retryJitter/,
    );
  });

  it('a strategy delay out of range fails the call with a named error, arming no timer', async () => {
    const armed: number[] = [];
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        armed.push(ms);
        return setTimeout(fn, Math.min(ms, 10));
      },
      clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
    };
    const nodes = clients();
    for (const c of nodes) await c.exec([]);
    const taken = new Redlock(nodes);
    const lock = await taken.acquire('r', 10_000);
    const redlock = new Redlock(nodes, { retryCount: 1, runtime: { timers } });
    await rejectsInvalid(
      redlock.acquireLock('r', 1000, { retryStrategy: () => 3e9 }),
      'retryStrategy(attempt, context)',
      /\[0, 2147483647\]/,
    );
    await rejectsInvalid(
      redlock.acquireLock('r', 1000, { retryStrategy: () => Number.POSITIVE_INFINITY }),
      'retryStrategy(attempt, context)',
      /\[0, 2147483647\]/,
    );
    expect(armed.filter((ms) => ms > 2_147_483_647)).toEqual([]);
    await lock.release();
  });
});
