/**
 * `npm run bench:semaphore [-- options]`: quorumlock's counting semaphore (dist/index.js,
 * `redlock.semaphore(resource, { permits: 3 })`) against redis-semaphore's RedlockSemaphore, on
 * the same 5 nodes, with the lock workloads of workloads.ts: throughput on distinct keys at
 * concurrency 16, and 8 workers contending for one semaphore of 3 permits (each holding 1 ms).
 * Slices alternate between the two; each figure is over all of a contender's slices. See
 * docs/performance.md.
 *
 *   --slice-ms N     measured time per slice (default 1000)
 *   --slices N       slices per contender and workload (default 5)
 *   --quick          a smoke run: 200 ms slices, 2 of them
 *
 * Nodes: QUORUMLOCK_NODES (at least 5) when set; otherwise 5 redis-server processes of its own on
 * free ports (persistence off), stopped at the end.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RedlockSemaphore } from 'redis-semaphore';
import { adminClient, NodeSet } from '../tools/nodes.js';
import type { ContenderSpec } from './contender.js';
import { distProblem, QUORUMLOCK_DIST } from './contenders/quorumlock.js';
import { openContention } from './contention.js';
import { type CellParams, type CellRunner, openThroughput } from './workloads.js';

const PERMITS = 3;
const TTL_MS = 10_000;
const RETRY = { kind: 'retry', retries: 20, delayMs: 7, jitterMs: 3 } as const;

const quorumlockSemaphore: ContenderSpec = {
  id: 'quorumlock',
  label: 'quorumlock semaphore',
  kind: 'library',
  notes: `redlock.semaphore(resource, { permits: ${PERMITS} }) per resource; acquirePermit(ttl) / lock.release()`,
  async create(setup) {
    const problem = distProblem();
    if (problem !== undefined) throw new Error(problem);
    const { Redlock, ioredisAdapter } = (await import(
      pathToFileURL(QUORUMLOCK_DIST).href
    )) as typeof import('../src/index.js');
    const clients = await setup.connect();
    const retry = setup.retry;
    const redlock = new Redlock(
      clients.map((c) => ioredisAdapter(c)),
      retry.kind === 'none'
        ? { retryCount: 0 }
        : { retryCount: retry.retries, retryDelay: retry.delayMs, retryJitter: retry.jitterMs },
    );
    const semaphores = new Map<string, ReturnType<typeof redlock.semaphore>>();
    const of = (resource: string) => {
      let s = semaphores.get(resource);
      if (s === undefined) {
        s = redlock.semaphore(resource, { permits: PERMITS });
        semaphores.set(resource, s);
      }
      return s;
    };
    return {
      acquire: (resource, ttlMs) => of(resource).acquirePermit(ttlMs),
      async release(lock: { release(): Promise<unknown> }) {
        await lock.release();
      },
      close: () => redlock.idle(),
    };
  },
};

const redisSemaphore: ContenderSpec = {
  id: 'redis-semaphore',
  label: 'redis-semaphore RedlockSemaphore',
  kind: 'peer',
  package: 'redis-semaphore',
  notes:
    `new RedlockSemaphore(clients, resource, ${PERMITS}, { lockTimeout: ttl, refreshInterval: 0, ` +
    'acquireAttemptsLimit, retryInterval }) per acquisition; tryAcquire() / release()',
  async create(setup) {
    const clients = await setup.connect();
    const retry = setup.retry;
    const attempts = retry.kind === 'none' ? 1 : retry.retries + 1;
    const retryInterval = retry.kind === 'none' ? 0 : Math.round(retry.delayMs);
    return {
      async acquire(resource, ttlMs): Promise<RedlockSemaphore | null> {
        const semaphore = new RedlockSemaphore(clients, resource, PERMITS, {
          lockTimeout: ttlMs,
          acquireTimeout: 60_000,
          acquireAttemptsLimit: attempts,
          retryInterval,
          refreshInterval: 0,
        });
        return (await semaphore.tryAcquire()) ? semaphore : null;
      },
      async release(semaphore: RedlockSemaphore) {
        await semaphore.release();
      },
      async close() {},
    };
  },
};

interface Row {
  readonly workload: string;
  readonly contender: string;
  readonly figures: Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'slice-ms': { type: 'string' },
      slices: { type: 'string' },
    },
  });
  const sliceMs = Number(values['slice-ms'] ?? (values.quick ? 200 : 1000));
  const slices = Number(values.slices ?? (values.quick ? 2 : 5));
  const external = NodeSet.fromEnv();
  const set = external ? undefined : await NodeSet.start(5, { persistence: 'none' });
  const addresses = (external ?? set!.addresses).slice(0, 5);
  const admins = addresses.map((a) => adminClient(a));
  const rows: Row[] = [];
  try {
    await Promise.all(admins.map((a) => a.connect()));
    const contenders = [quorumlockSemaphore, redisSemaphore];
    const workloads: Array<{
      id: string;
      open: (spec: ContenderSpec, p: CellParams) => Promise<CellRunner>;
      figures: (r: never) => Record<string, number>;
    }> = [
      {
        id: 'throughput c16 (distinct keys, uncontended)',
        open: (spec, p) => openThroughput(spec, p, 16),
        figures: (r: { opsPerSec: number; cpuUsPerOp: number }) => ({
          'ops/s': r.opsPerSec,
          'CPU µs/op': r.cpuUsPerOp,
        }),
      },
      {
        id: `contention (8 workers, one semaphore of ${PERMITS} permits, 1 ms holds)`,
        open: (spec, p) => openContention(spec, p, { workers: 8, holdMs: 1, permits: PERMITS, retry: RETRY }),
        figures: (r: {
          acquisitionsPerSec: number;
          waitP99Ms: number;
          jain: number;
          commandsPerAcquisition: number;
          exclusionViolations: number;
        }) => ({
          'acq/s': r.acquisitionsPerSec,
          'wait p99 ms': r.waitP99Ms,
          Jain: r.jain,
          'cmds/acq': r.commandsPerAcquisition,
          'over permits': r.exclusionViolations,
        }),
      },
    ];
    for (const [w, workload] of workloads.entries()) {
      const runners = new Map<string, CellRunner>();
      for (const spec of contenders) {
        const p: CellParams = {
          addresses,
          admins,
          warmupMs: 300,
          ttlMs: TTL_MS,
          keyPrefix: `bsem:${w}:${spec.id}`,
        };
        runners.set(spec.id, await workload.open(spec, p));
      }
      for (let i = 0; i < slices; i++) {
        // Alternate, and rotate who goes first, so drift of the machine hits both alike.
        for (const spec of i % 2 === 0 ? contenders : [...contenders].reverse()) {
          await runners.get(spec.id)!.slice(sliceMs);
        }
      }
      for (const spec of contenders) {
        const runner = runners.get(spec.id)!;
        rows.push({
          workload: workload.id,
          contender: spec.label,
          figures: workload.figures(runner.result() as never),
        });
        await runner.close();
      }
    }
  } finally {
    await Promise.all(admins.map((a) => a.quit().catch(() => a.disconnect())));
    await set?.dispose();
  }
  console.log(`\nnpm run bench:semaphore: ${slices} slices of ${sliceMs} ms per contender and workload\n`);
  for (const workload of new Set(rows.map((r) => r.workload))) {
    const mine = rows.filter((r) => r.workload === workload);
    const keys = Object.keys(mine[0]!.figures);
    console.log(`| ${workload} | ${keys.join(' | ')} |`);
    console.log(`|---|${keys.map(() => '---:').join('|')}|`);
    for (const r of mine) {
      console.log(`| ${r.contender} | ${keys.map((k) => format(r.figures[k]!)).join(' | ')} |`);
    }
    console.log('');
  }
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
