import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, RedisClient } from '../../src/adapter.js';
import { acquireScript, extendScript, releaseScript, repairScript } from '../../src/scripts/index.js';
import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';
import { useSharedNodes } from '../support/real-nodes.js';
import { simParameters } from '../support/simulation/replay.js';

/**
 * The in-memory node the simulation trusts, against a real redis-server: the same random
 * sequences of script calls and direct writes on both, the same replies, and the same values
 * and TTLs after every step (TTLs within a tolerance; all of them are far from expiry).
 */
const shared = useSharedNodes();

const NAMES = ['a', 'b', 'c'] as const;
const VALUES = ['v1', 'v2', 'v3'] as const;
/** TTLs are 60–120 s, so nothing expires while a sequence runs; PTTLs may differ by this much. */
const TTL_TOLERANCE_MS = 2_000;

type Op =
  | { kind: 'acquire'; keys: string[]; value: string; ttl: number; fence: boolean }
  | { kind: 'release'; keys: string[]; value: string }
  | { kind: 'extend' | 'repair'; keys: string[]; value: string; ttl: number }
  | { kind: 'set'; key: string; value: string; ttl: number | undefined }
  | { kind: 'counter'; value: number }
  | { kind: 'del'; key: string }
  | { kind: 'list'; key: string }
  | { kind: 'flush-scripts' };

const keys = fc
  .subarray([...NAMES], { minLength: 1 })
  .chain((k) => fc.shuffledSubarray(k, { minLength: k.length }));
const value = fc.constantFrom(...VALUES);
const ttl = fc.integer({ min: 60_000, max: 120_000 });
const name = fc.constantFrom(...NAMES);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('acquire' as const), keys, value, ttl, fence: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), keys, value }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constantFrom('extend' as const, 'repair' as const), keys, value, ttl }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: name,
      value,
      ttl: fc.option(ttl, { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('counter' as const), value: fc.nat({ max: 1_000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('del' as const), key: name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('list' as const), key: name }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush-scripts' as const }) },
);

/** One side of the comparison: a client for script calls, and direct access for the rest. */
interface Side {
  readonly client: RedisClient;
  set(key: string, value: string, ttl: number | undefined): Promise<void>;
  del(key: string): Promise<void>;
  list(key: string): Promise<void>;
  flushScripts(): Promise<void>;
  /** The value, `WRONGTYPE` for a list, or null. */
  get(key: string): Promise<string | null>;
  pttl(key: string): Promise<number>;
}

function memorySide(): Side {
  const node = new MemoryNode({ clock: { now: () => performance.now() } });
  return {
    client: memoryAdapter(node),
    set: async (key, v, t) => node.set(key, v, t),
    del: async (key) => void node.del(key),
    list: async (key) => {
      node.del(key);
      node.rpush(key, 'x');
    },
    flushScripts: async () => node.flushScripts(),
    get: async (key) => wrongType(() => node.get(key)),
    pttl: async (key) => node.pttl(key),
  };
}

function redisSide(): Side {
  const admin = shared.admins[0]!;
  return {
    client: shared.clients[0]!,
    set: async (key, v, t) =>
      void (t === undefined ? await admin.set(key, v) : await admin.set(key, v, 'PX', t)),
    del: async (key) => void (await admin.del(key)),
    list: async (key) => {
      await admin.del(key);
      await admin.rpush(key, 'x');
    },
    flushScripts: async () => void (await admin.script('FLUSH')),
    get: (key) => wrongType(() => admin.get(key)),
    pttl: (key) => admin.pttl(key),
  };
}

async function wrongType(read: () => Promise<string | null> | string | null): Promise<string | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof Error && /WRONGTYPE/.test(error.message)) return 'WRONGTYPE';
    throw error;
  }
}

function command(op: Op, key: (name: string) => string): Command | undefined {
  switch (op.kind) {
    case 'acquire': {
      const lockKeys = op.keys.map(key);
      return {
        type: 'eval',
        script: acquireScript,
        keys: op.fence ? [...lockKeys, key('fence')] : lockKeys,
        args: [op.value, String(op.ttl), String(lockKeys.length)],
      };
    }
    case 'release':
      return { type: 'eval', script: releaseScript, keys: op.keys.map(key), args: [op.value] };
    case 'extend':
    case 'repair':
      return {
        type: 'eval',
        script: op.kind === 'extend' ? extendScript : repairScript,
        keys: op.keys.map(key),
        args: [op.value, String(op.ttl)],
      };
    default:
      return undefined;
  }
}

async function apply(side: Side, op: Op, key: (name: string) => string): Promise<unknown> {
  const cmd = command(op, key);
  if (cmd) {
    const [reply] = await side.client.exec([cmd]);
    // Error replies carry different text (redis-server names the script and line): compare the error code.
    return reply instanceof Error ? `error ${/WRONGTYPE|NOSCRIPT|ERR/.exec(reply.message)?.[0]}` : reply;
  }
  switch (op.kind) {
    case 'set':
      return side.set(key(op.key), op.value, op.ttl);
    case 'counter':
      return side.set(key('fence'), String(op.value), undefined);
    case 'del':
      return side.del(key(op.key));
    case 'list':
      return side.list(key(op.key));
    case 'flush-scripts':
      return side.flushScripts();
  }
}

async function state(side: Side, key: (name: string) => string) {
  const out: Record<string, { value: string | null; pttl: number }> = {};
  for (const name of [...NAMES, 'fence'])
    out[name] = { value: await side.get(key(name)), pttl: await side.pttl(key(name)) };
  return out;
}

describe('differential: MemoryNode against redis-server', () => {
  it('gives the same replies, values and TTLs for random sequences of script calls', async () => {
    let sequence = 0;
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        // Fresh keys per sequence (and per shrink attempt) on the real node; the file's prefix is removed after.
        const prefix = shared.key(`diff:${sequence++}:`);
        const key = (name: string) => `${prefix}${name}`;
        const model = memorySide();
        const real = redisSide();
        for (const [i, op] of ops.entries()) {
          const expected = await apply(real, op, key);
          const actual = await apply(model, op, key);
          const where = `step ${i} ${JSON.stringify(op)}`;
          expect(actual, where).toEqual(expected);
          const [r, m] = [await state(real, key), await state(model, key)];
          for (const name of Object.keys(r)) {
            expect(m[name]!.value, `${where}: ${name}`).toBe(r[name]!.value);
            if (r[name]!.pttl < 0) expect(m[name]!.pttl, `${where}: pttl of ${name}`).toBe(r[name]!.pttl);
            else
              expect(
                Math.abs(m[name]!.pttl - r[name]!.pttl),
                `${where}: pttl of ${name}`,
              ).toBeLessThanOrEqual(TTL_TOLERANCE_MS);
          }
          steps++;
        }
      }),
      simParameters('differential memory vs redis-server', 40),
    );
    expect(steps).toBeGreaterThan(0);
  });

  // Found by the property above: the in-memory acquire read keys with GET (WRONGTYPE on a list).
  it('answers "held" for a lock key of another type, as EXISTS does', async () => {
    const key = (name: string) => shared.key(`diff:list:${name}`);
    const op: Op = { kind: 'acquire', keys: ['a'], value: 'v1', ttl: 60_000, fence: false };
    const replies = [];
    for (const side of [redisSide(), memorySide()]) {
      await apply(side, { kind: 'list', key: 'a' }, key);
      replies.push(await apply(side, op, key));
    }
    expect(replies[0]).toEqual([0, 1, -1]);
    expect(replies[1]).toEqual(replies[0]);
  });
});
