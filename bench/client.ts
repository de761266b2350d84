/**
 * `npm run bench:client [-- options]`: the RedisClient's rate limiter (dist/client.js, both
 * algorithms) against rate-limiter-flexible's RateLimiterRedis, on the same redis-server, in
 * slices that alternate between contenders. Prints one row per contender and concurrency:
 * decisions per second and the commands the server ran per decision. See docs/performance.md.
 *
 *   --slice-ms N     measured time per slice (default 1000)
 *   --slices N       slices per contender and concurrency (default 5; the median is reported)
 *   --quick          a smoke run: 150 ms slices, 2 of them
 *
 * Node: the first of QUORUMLOCK_NODES when set; otherwise one redis-server of its own on a free
 * port (persistence off), stopped at the end.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type * as Client from '../src/client/index.js';
import { NodeSet, parseAddress } from '../tools/nodes.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist', 'client.js');

/** Same limit for everyone: 1000 decisions per key per second over 100 keys, so most are admitted. */
const LIMIT = 1000;
const WINDOW_MS = 1000;
const KEYS = 100;
const CONCURRENCY = [1, 16] as const;
const WARMUP_MS = 200;

interface Limiter {
  decide(key: string): Promise<boolean>;
  close(): Promise<void>;
}

interface Contender {
  readonly id: string;
  readonly notes: string;
  open(host: string, port: number, prefix: string): Promise<Limiter>;
}

function distProblem(): string | undefined {
  if (!existsSync(DIST))
    return 'dist/client.js is missing: run `npm run build` (`npm run bench:client` does)';
  const built = statSync(DIST).mtimeMs;
  const stale = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).find(
    (f) => f.endsWith('.ts') && statSync(join(ROOT, 'src', f)).mtimeMs > built,
  );
  return stale && `dist/client.js is older than src/${stale}: run \`npm run build\``;
}

function quorumlockClient(algorithm: 'log' | 'counter'): Contender {
  return {
    id: `quorumlock ${algorithm}`,
    notes: `RedisClient.rateLimit(key, { limit, windowMs, algorithm: '${algorithm}' }): one EVALSHA per decision`,
    async open(host, port, prefix) {
      const { RedisClient } = (await import(pathToFileURL(DIST).href)) as typeof Client;
      const client = new RedisClient({ host, port, keyPrefix: prefix });
      await client.connect();
      const options = { limit: LIMIT, windowMs: WINDOW_MS, algorithm };
      return {
        decide: async (key) => (await client.rateLimit(key, options)).allowed,
        close: () => client.disconnect(),
      };
    },
  };
}

const flexible: Contender = {
  id: 'rate-limiter-flexible',
  notes:
    'RateLimiterRedis({ storeClient: ioredis, points, duration }).consume(key): a fixed window ' +
    '(INCRBY and a TTL in its own script, via defineCommand); a rejection with RateLimiterRes is a refusal',
  async open(host, port, prefix) {
    const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    const limiter = new RateLimiterRedis({
      storeClient: redis,
      points: LIMIT,
      duration: WINDOW_MS / 1000,
      keyPrefix: `${prefix}rlf`,
    });
    return {
      async decide(key) {
        try {
          await limiter.consume(key, 1);
          return true;
        } catch (error) {
          if (error instanceof RateLimiterRes) return false;
          throw error;
        }
      },
      async close() {
        await redis.quit();
      },
    };
  },
};

/** The server's command counters: the total, and calls per command. */
async function serverCounts(admin: Redis): Promise<{ total: number; byCommand: Map<string, number> }> {
  const stats = (await admin.info('stats')) as string;
  const total = Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? Number.NaN);
  const byCommand = new Map<string, number>();
  for (const m of ((await admin.info('commandstats')) as string).matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
    byCommand.set(m[1]!, Number(m[2]));
  }
  return { total, byCommand };
}

interface Slice {
  decisions: number;
  allowed: number;
  seconds: number;
  commands: number;
  byCommand: Map<string, number>;
}

/** `concurrency` loops deciding on round-robin keys until `ms` have passed. */
async function run(limiter: Limiter, concurrency: number, ms: number, admin: Redis): Promise<Slice> {
  const before = await serverCounts(admin);
  let decisions = 0;
  let allowed = 0;
  let next = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const key = `k${next++ % KEYS}`;
        if (await limiter.decide(key)) allowed++;
        decisions++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const after = await serverCounts(admin);
  const byCommand = new Map<string, number>();
  for (const [name, calls] of after.byCommand) {
    const delta = calls - (before.byCommand.get(name) ?? 0);
    if (delta > 0 && name !== 'info') byCommand.set(name, delta);
  }
  // The two INFO calls of `before` are in the total; those of `after` are not yet.
  return { decisions, allowed, seconds, commands: after.total - before.total - 2, byCommand };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'slice-ms': { type: 'string', default: '1000' },
      slices: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: false },
    },
  });
  const sliceMs = values.quick ? 150 : Number(values['slice-ms']);
  const slices = values.quick ? 2 : Number(values.slices);
  if (!(Number.isInteger(sliceMs) && sliceMs > 0 && Number.isInteger(slices) && slices > 0)) {
    throw new Error('--slice-ms and --slices take positive integers');
  }
  const problem = distProblem();
  if (problem) throw new Error(problem);

  const external = NodeSet.fromEnv();
  const nodes = external ? undefined : await NodeSet.start(1, { persistence: 'none' });
  const address = external?.[0] ?? nodes!.addresses[0]!;
  const { host, port } = parseAddress(address);
  const admin = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await admin.connect();
  const contenders = [quorumlockClient('log'), quorumlockClient('counter'), flexible];
  const prefix = `bench-client:${process.pid}:`;
  const results = new Map<string, Slice[]>();
  try {
    const limiters = await Promise.all(contenders.map((c) => c.open(host, port, prefix)));
    try {
      for (const limiter of limiters) await run(limiter, 16, WARMUP_MS, admin);
      for (let round = 0; round < slices; round++) {
        for (const concurrency of CONCURRENCY) {
          // Alternate contenders within each round, the order rotating by one every round.
          for (let k = 0; k < contenders.length; k++) {
            const i = (k + round) % contenders.length;
            const slice = await run(limiters[i]!, concurrency, sliceMs, admin);
            const cell = `${contenders[i]!.id}\u0000${concurrency}`;
            results.set(cell, [...(results.get(cell) ?? []), slice]);
          }
        }
      }
    } finally {
      await Promise.all(limiters.map((l) => l.close()));
    }
  } finally {
    const keys = await admin.keys(`${prefix}*`);
    for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
    await admin.quit();
    await nodes?.dispose();
  }

  console.log(
    `\nRate limiter, one redis-server at ${address}${external ? ' (QUORUMLOCK_NODES)' : ' (started by the bench)'}; ` +
      `limit ${LIMIT} per ${WINDOW_MS} ms on ${KEYS} round-robin keys; ${slices} × ${sliceMs} ms per cell, median reported\n`,
  );
  console.log(
    '| Contender | Concurrency | Decisions/s | Server commands per decision | Admitted | Commands per decision, by name |',
  );
  console.log('|---|---:|---:|---:|---:|---|');
  for (const contender of contenders) {
    for (const concurrency of CONCURRENCY) {
      const cell = results.get(`${contender.id}\u0000${concurrency}`) ?? [];
      const rate = median(cell.map((s) => s.decisions / s.seconds));
      const perDecision = median(cell.map((s) => s.commands / s.decisions));
      const admitted = cell.reduce((a, s) => a + s.allowed, 0) / cell.reduce((a, s) => a + s.decisions, 0);
      const names = new Map<string, number>();
      let decisions = 0;
      for (const s of cell) {
        decisions += s.decisions;
        for (const [name, calls] of s.byCommand) names.set(name, (names.get(name) ?? 0) + calls);
      }
      const breakdown = [...names]
        .sort((a, b) => b[1] - a[1])
        .map(([name, calls]) => `${name} ${(calls / decisions).toFixed(2)}`)
        .join(', ');
      console.log(
        `| ${contender.id} | ${concurrency} | ${Math.round(rate).toLocaleString('en-US')} | ${perDecision.toFixed(2)} | ${(100 * admitted).toFixed(1)}% | ${breakdown} |`,
      );
    }
  }
  console.log('');
  for (const contender of contenders) console.log(`- ${contender.id}: ${contender.notes}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
