/**
 * quorumlock/client without a server: input is checked before anything is sent (a client that
 * refuses bad input never even connects), the JSON codec, and a RedisClient as a Redlock node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CacheValueError, RedisClient } from '../../src/client/index.js';
import { decodeJson, encodeJson } from '../../src/client/json.js';
import { InvalidArgumentError, Redlock } from '../../src/index.js';

const opened: RedisClient[] = [];
/** A client on a port nothing listens on: it must never try to connect in these tests. */
function client(options: ConstructorParameters<typeof RedisClient>[0] = { port: 1 }): RedisClient {
  const c = new RedisClient(options);
  opened.push(c);
  return c;
}
afterEach(async () => {
  for (const c of opened) expect(c.status, 'nothing was sent').toBe('wait');
  await Promise.all(opened.splice(0).map((c) => c.disconnect()));
});

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<InvalidArgumentError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('JSON codec', () => {
  it.each([null, true, 0, -1.5, 'text', [], {}, [1, 'a', null, { b: [true] }], Object.create(null)])(
    'encodes %j faithfully',
    (value) => {
      expect(JSON.parse(encodeJson('value', value))).toEqual(value);
    },
  );

  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  it.each([
    ['a BigInt', 1n, 'value is a BigInt'],
    ['a cycle', cycle, 'value.self is a cycle'],
    ['undefined', undefined, 'value is undefined'],
    ['undefined in an object', { a: 1, b: undefined }, 'value.b is undefined'],
    ['undefined in an array', [1, undefined], 'value[1] is undefined'],
    ['NaN', { n: Number.NaN }, 'value.n is NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'value[0] is Infinity'],
    ['a function', { f: () => 1 }, 'value.f is a function'],
    ['a symbol', Symbol('s'), 'value is a symbol'],
    ['a Date', { at: new Date(0) }, 'value.at is an instance of Date'],
    ['a Map', new Map(), 'value is an instance of Map'],
    ['a symbol key', { [Symbol('k')]: 1 }, 'value is keyed by a symbol'],
    ['a sparse array', new Array(2), 'value[0] is a hole'],
    ['a toJSON method', { toJSON: () => 'x' }, 'value.toJSON is a function'],
  ])('refuses %s, naming where it is', (_what, value, where) => {
    const error = (() => {
      try {
        encodeJson('value', value);
      } catch (e) {
        return e as InvalidArgumentError;
      }
      throw new Error('not refused');
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.argument).toBe('value');
    expect(error.message).toContain(where);
  });

  it('reads a stored value that is not JSON as a CacheValueError naming the key', () => {
    expect(() => decodeJson('user:1', '{"broken')).toThrow(CacheValueError);
    expect(() => decodeJson('user:1', '{"broken')).toThrow(/"user:1"/);
    expect(decodeJson('k', '[1,2]')).toEqual([1, 2]);
  });
});

describe('RedisClient options', () => {
  it('connects lazily: constructing opens nothing', () => {
    const c = client();
    expect(c.isConnected).toBe(false);
    expect(c.endpoint).toBe('localhost:1/0');
  });

  it('names the node from the URL, the options or the endpoint option', () => {
    expect(client('redis://u:p@127.0.0.1:7001/2').endpoint).toBe('127.0.0.1:7001/2');
    expect(client({ host: '10.0.0.1', port: 7002 }).endpoint).toBe('10.0.0.1:7002/0');
    expect(client({ port: 1, endpoint: 'node-a' }).endpoint).toBe('node-a');
  });

  it.each([
    [{ prot: 1 }, 'options.prot', 'did you mean port?'],
    [{ port: 0 }, 'options.port', 'an integer in [1, 65535]'],
    [{ url: 'http://x' }, 'options.url', 'redis://'],
    [{ commandTimeoutMs: -1 }, 'options.commandTimeoutMs', 'an integer in [1, '],
    [{ keyPrefix: 'a\u0000b' }, 'options.keyPrefix', 'without NUL'],
    [{ ioredis: { enableOfflineQueue: true } }, 'options.ioredis.enableOfflineQueue', 'no offline queue'],
    [{ ioredis: { maxRetriesPerRequest: 3 } }, 'options.ioredis.maxRetriesPerRequest', 'never retried'],
    [{ ioredis: { keyPrefix: 'x:' } }, 'options.ioredis.keyPrefix', 'keyPrefix option'],
    [{ locks: { keyPrefix: 'x' } }, 'options.locks.keyPrefix', 'one of the known keys'],
    [{ locks: { retryCount: -1 } }, 'options.locks.retryCount', 'an integer in [0, '],
    [{ locks: { driftFactor: 2 } }, 'options.locks.driftFactor', 'in [0, 0.99]'],
  ])('refuses %j, naming %s', async (options, argument, text) => {
    const error = await refusal(() => new RedisClient(options as never));
    expect(error.argument).toBe(argument);
    expect(error.message).toContain(text);
  });
});

describe('RedisClient input', () => {
  const limits = { limit: 10, windowMs: 1000 };
  it.each([
    ['limit 0', '', { limit: 0, windowMs: 1000 }, 'options.limit', 'an integer in [1, 100000]'],
    [
      'a negative window',
      '',
      { limit: 1, windowMs: -5 },
      'options.windowMs',
      'an integer in [1, 2147483647]',
    ],
    ['a NaN cost', '', { ...limits, cost: Number.NaN }, 'options.cost', 'an integer in [1, 10]'],
    ['a cost above the limit', '', { ...limits, cost: 11 }, 'options.cost', 'an integer in [1, 10]'],
    ['a fractional limit', '', { limit: 1.5, windowMs: 1 }, 'options.limit', 'an integer'],
    ['a huge log limit', '', { limit: 200_000, windowMs: 1 }, 'options.limit', "algorithm: 'counter'"],
    [
      'an unknown algorithm',
      '',
      { ...limits, algorithm: 'token' },
      'options.algorithm',
      "'log' or 'counter'",
    ],
    ['an unknown option', '', { ...limits, window: 5 }, 'options.window', 'did you mean windowMs?'],
    ['an empty key', 'empty', limits, 'key', 'a non-empty string'],
  ])('rateLimit refuses %s', async (_what, keyKind, options, argument, text) => {
    const c = client();
    const error = await refusal(c.rateLimit(keyKind === 'empty' ? '' : 'k', options as never));
    expect(error.argument).toBe(argument);
    expect(error.message).toContain(text);
  });

  it('rateLimit without options names them', async () => {
    expect((await refusal(client().rateLimit('k', undefined as never))).argument).toBe('options');
  });

  it('the counter takes limits up to a billion', async () => {
    const error = await refusal(client().rateLimit('k', { limit: 2e9, windowMs: 1, algorithm: 'counter' }));
    expect(error.message).toContain('[1, 1000000000]');
  });

  it('set refuses what JSON cannot represent, and writes nothing', async () => {
    const c = client();
    expect((await refusal(c.set('k', { big: 1n }))).message).toContain('value.big is a BigInt');
    expect((await refusal(c.set('k', 1, { ttlMs: 0 }))).argument).toBe('options.ttlMs');
    expect((await refusal(c.set('k', 1, { ttl: 5 } as never))).message).toContain('did you mean ttlMs?');
    expect((await refusal(c.get(''))).argument).toBe('key');
    expect((await refusal(c.del('a\u0000'))).argument).toBe('key');
  });

  it('getOrSet checks everything before computing', async () => {
    const c = client();
    let computed = 0;
    const compute = () => ++computed;
    expect((await refusal(c.getOrSet('k', 0, compute))).argument).toBe('ttlMs');
    expect((await refusal(c.getOrSet('k', 10, 'x' as never))).argument).toBe('compute');
    expect((await refusal(c.getOrSet('k', 10, compute, { waitMs: -1 }))).argument).toBe('options.waitMs');
    expect((await refusal(c.getOrSet('k', 10, compute, { lockTtlMs: 5 }))).argument).toBe(
      'options.lockTtlMs',
    );
    expect(computed).toBe(0);
  });

  it('lock methods validate as the core does', async () => {
    const c = client();
    expect((await refusal(c.acquireLock('', 1000))).argument).toBe('resource');
    expect((await refusal(c.acquireLock('k', 1))).argument).toBe('ttl');
    expect((await refusal(c.withLock('k', 1000, 'x' as never))).argument).toBe('fn');
    expect((await refusal(c.releaseLock('k', ''))).argument).toBe('value');
  });
});

describe('RedisClient as a Redlock node', () => {
  it('is a node as it is: no adapter call, nothing connected', () => {
    const nodes = [client({ port: 1 }), client({ port: 2 }), client({ port: 3 })];
    const redlock = new Redlock(nodes);
    expect(redlock.size).toBe(3);
    expect(redlock.quorum).toBe(2);
  });

  it('the same node twice is refused, as for adapters', async () => {
    const error = await refusal(() => new Redlock([client({ port: 1 }), client({ port: 1 })]));
    expect(error.argument).toBe('clients[1]');
  });

  it('locks on one node use a Redlock of one node', () => {
    const redlock = client().redlock;
    expect(redlock.size).toBe(1);
    expect(redlock.quorum).toBe(1);
    expect(redlock.options.keyPrefix).toBe('lock:');
  });
});
