/**
 * quorumlock itself, as users get it: the built ESM bundle dist/index.js (`npm run bench` builds
 * it first; run.ts refuses a dist/ older than src/). One Redlock over one ioredis adapter per
 * node, library defaults except the retry settings of the workload.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Quorumlock from '../../src/index.js';
import type { ContenderSpec } from '../contender.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const QUORUMLOCK_DIST = join(ROOT, 'dist', 'index.js');

/** Why dist/ cannot be measured (missing, or older than a file in src/), or undefined if it can. */
export function distProblem(): string | undefined {
  if (!existsSync(QUORUMLOCK_DIST))
    return 'dist/index.js is missing: run `npm run build` (`npm run bench` does)';
  const built = statSync(QUORUMLOCK_DIST).mtimeMs;
  const stale = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).find(
    (f) => f.endsWith('.ts') && statSync(join(ROOT, 'src', f)).mtimeMs > built,
  );
  return stale === undefined
    ? undefined
    : `dist/index.js is older than src/${stale}: run \`npm run build\` (\`npm run bench\` does)`;
}

let loaded: Promise<typeof Quorumlock> | undefined;

function load(): Promise<typeof Quorumlock> {
  const problem = distProblem();
  if (problem !== undefined) return Promise.reject(new Error(problem));
  loaded ??= import(pathToFileURL(QUORUMLOCK_DIST).href) as Promise<typeof Quorumlock>;
  return loaded;
}

/**
 * quorumlock as a contender: a Redlock from the module `load` gives, over one adapter per node
 * (ioredis clients, or node-redis clients for the node-redis section), library defaults except
 * the retry settings of the workload.
 */
function contender(
  load: () => Promise<typeof Quorumlock>,
  client: 'ioredis' | 'ioredis5' | 'node-redis' | 'glide',
): ContenderSpec['create'] {
  return async (setup) => {
    const lib = await load();
    const adapters =
      client === 'ioredis'
        ? (await setup.connect()).map((c) => lib.ioredisAdapter(c))
        : client === 'ioredis5'
          ? (await setup.connectIoredis5()).map((c) => lib.ioredisAdapter(c))
          : client === 'glide'
            ? (await setup.connectGlide()).map((c, i) =>
                lib.glideAdapter(c, { endpoint: `glide:${setup.addresses[i]}` }),
              )
            : (await setup.connectNodeRedis()).map((c) => lib.nodeRedisAdapter(c));
    const retry = setup.retry;
    const redlock = new lib.Redlock(
      adapters,
      retry.kind === 'none'
        ? { retryCount: 0 }
        : { retryCount: retry.retries, retryDelay: retry.delayMs, retryJitter: retry.jitterMs },
    );
    return {
      acquire: (resource, ttlMs) => redlock.acquireLock(resource, ttlMs),
      async release(lock: Quorumlock.Lock) {
        await lock.release();
      },
      // Let straggler node calls of decided rounds settle, so no timer of ours outlives the cell.
      close: () => redlock.idle(),
    };
  };
}

export const quorumlock: ContenderSpec = {
  id: 'quorumlock',
  label: 'quorumlock',
  kind: 'library',
  notes:
    'dist/index.js (tsup build of src/). Redlock over ioredisAdapter(client) per node; acquireLock(resource, ttl) / ' +
    'lock.release(). Uncontended: retryCount 0. Contended: retryCount R, retryDelay 7, retryJitter 3. ' +
    'Other options at their defaults (per-node timeout max(50 ms, 5% of ttl), driftFactor 0.01).',
  create: contender(load, 'ioredis'),
};

/** quorumlock over node-redis: the same build, one nodeRedisAdapter per node (node-redis section). */
export const quorumlockNodeRedis: ContenderSpec = {
  id: 'quorumlock-node-redis',
  label: 'quorumlock (node-redis)',
  kind: 'variant',
  floorId: 'floor-node-redis',
  notes:
    'As quorumlock, over nodeRedisAdapter(client) per node, node-redis clients with reconnection off; ' +
    'its ratios are taken against the node-redis floor.',
  create: contender(load, 'node-redis'),
};

/** quorumlock over ioredis 5 (what users of the previous major have), against a floor on ioredis 5. */
export const quorumlockIoredis5: ContenderSpec = {
  id: 'quorumlock-ioredis5',
  label: 'quorumlock (ioredis 5)',
  kind: 'variant',
  floorId: 'floor-ioredis5',
  package: 'ioredis5',
  notes:
    'As quorumlock, over ioredis 5 clients (npm alias ioredis5); its ratios are taken against the ioredis 5 floor.',
  create: contender(load, 'ioredis5'),
};

/** quorumlock over Valkey GLIDE, against a floor written on GLIDE. */
export const quorumlockGlide: ContenderSpec = {
  id: 'quorumlock-glide',
  label: 'quorumlock (GLIDE)',
  kind: 'variant',
  floorId: 'floor-glide',
  package: '@valkey/valkey-glide',
  notes:
    'As quorumlock, over glideAdapter(GlideClient) per node; its ratios are taken against the GLIDE floor.',
  create: contender(load, 'glide'),
};

/**
 * An earlier build of quorumlock, to measure a change: `--baseline DIR` (a checkout with a built
 * dist/, for example a `git worktree` of the commit before) adds it as a variant against the
 * ioredis floor, so that the report shows both builds' ratios from the same run.
 */
export function quorumlockBaseline(dir: string, label: string): ContenderSpec {
  const dist = join(dir, 'dist', 'index.js');
  const loadBaseline = async () => {
    if (!existsSync(dist)) throw new Error(`--baseline: ${dist} is missing: build that checkout first`);
    return (await import(pathToFileURL(dist).href)) as typeof Quorumlock;
  };
  return {
    id: 'quorumlock-baseline',
    label: `quorumlock (${label})`,
    kind: 'variant',
    floorId: 'floor',
    notes: `The build in ${dist}, configured as quorumlock.`,
    create: contender(loadBaseline, 'ioredis'),
  };
}
