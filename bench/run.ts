import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { NodeSet, parseAddress } from '../tools/nodes.js';
import { connectionStats } from './connections.js';
import type { ContenderSpec } from './contender.js';
import { FLOOR_ID, LIBRARY_ID } from './contenders/index.js';
import { distProblem } from './contenders/quorumlock.js';
import { openContention } from './contention.js';
import { canForceGc, collectGarbage } from './measure.js';
import {
  renderConsole,
  renderMarkdown,
  renderRatioChart,
  renderTargetChart,
  replaceGenerated,
} from './report.js';
import {
  type CellResult,
  type Repetition,
  type RunConfig,
  type RunData,
  summarise,
  type WorkloadId,
} from './results.js';
import {
  commandLine,
  contenderInfo,
  FULL_PLAN,
  formatWithBiome,
  gitCommit,
  type Plan,
  parseOptions,
  QUICK_PLAN,
  ROOT,
} from './run-plan.js';
import { seededRandom, shuffle } from './stats.js';
import { type CellParams, type CellRunner, openLatency, openThroughput } from './workloads.js';

const RESULTS_DIR = join(ROOT, 'bench', 'results');
const DOC = join(ROOT, 'docs', 'performance.md');
const RATIO_SVG = join(ROOT, 'docs', 'performance-ratios.svg');
const TARGET_SVG = join(ROOT, 'docs', 'performance-targets.svg');

function adminClient(address: string): Redis {
  const { host, port } = parseAddress(address);
  const client = new Redis({ host, port, maxRetriesPerRequest: 0, lazyConnect: true });
  client.on('error', () => {});
  return client;
}

function describe(workload: WorkloadId, r: CellResult): string {
  if ('p50Ms' in r) return `p50 ${r.p50Ms.toFixed(3)} ms`;
  if ('jain' in r) return `${r.acquisitionsPerSec.toFixed(0)} acq/s, p99 ${r.waitP99Ms.toFixed(1)} ms`;
  if (workload.startsWith('scaling')) return `${r.cpuUsPerOp.toFixed(0)} µs/op`;
  return `${r.opsPerSec.toFixed(0)} ops/s`;
}

function openCell(workload: WorkloadId, spec: ContenderSpec, p: CellParams): Promise<CellRunner<CellResult>> {
  switch (workload) {
    case 'latency':
      return openLatency(spec, p);
    case 'throughput-1':
      return openThroughput(spec, p, 1);
    case 'throughput-16':
      return openThroughput(spec, p, 16);
    case 'throughput-128':
      return openThroughput(spec, p, 128);
    case 'scaling-n1':
      return openThroughput(spec, p, 16, 1);
    case 'scaling-n3':
      return openThroughput(spec, p, 16, 3);
    case 'scaling-n5':
      return openThroughput(spec, p, 16, 5);
    case 'contention':
      return openContention(spec, p, CONTENTION);
  }
}

/**
 * One workload of one repetition: open every contender (fresh connections, warm-up), then the
 * measured slices, alternating between contenders in `order` rotated by one each round.
 */
async function runWorkload(
  workload: WorkloadId,
  order: readonly ContenderSpec[],
  base: Omit<CellParams, 'keyPrefix'>,
  plan: Plan,
  prefix: string,
): Promise<Record<string, CellResult>> {
  const runners: CellRunner<CellResult>[] = [];
  try {
    for (const spec of order) {
      runners.push(await openCell(workload, spec, { ...base, keyPrefix: `${prefix}:${spec.id}` }));
    }
    for (let round = 0; round < plan.slices; round++) {
      for (let k = 0; k < runners.length; k++) {
        collectGarbage();
        await runners[(k + round) % runners.length]!.slice(plan.sliceMs);
      }
    }
    return Object.fromEntries(order.map((spec, i) => [spec.id, runners[i]!.result()]));
  } finally {
    for (const runner of runners) await runner.close();
  }
}

const CONTENTION = {
  workers: 8,
  holdMs: 1,
  retry: { kind: 'retry', retries: 20, delayMs: 7, jitterMs: 3 },
} as const;
const TTL_MS = 10_000;

/**
 * Libraries warn once per instance (quorumlock about node settings, for example), and the
 * workloads make hundreds of instances: print each warning code once and count the rest.
 */
function dedupeWarnings(): Map<string, number> {
  const seen = new Map<string, number>();
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    const code = warning.code ?? warning.name;
    if (!seen.has(code)) console.error(`warning ${code} (shown once): ${warning.message}`);
    seen.set(code, (seen.get(code) ?? 0) + 1);
  });
  return seen;
}

/**
 * Print the tables; write the run's JSON to results/raw/ (a new run) and, for a complete full
 * run, latest.json, the charts and the generated section of docs/performance.md.
 */
async function publish(data: RunData, write: { raw: boolean; latest: boolean }): Promise<void> {
  const summary = summarise(data, LIBRARY_ID, FLOOR_ID);
  const json = `${JSON.stringify({ ...data, summary }, null, 2)}\n`;
  console.log(`\n${renderConsole(data, summary, LIBRARY_ID)}\n`);
  if (write.raw) {
    await mkdir(join(RESULTS_DIR, 'raw'), { recursive: true });
    const rawFile = join(
      RESULTS_DIR,
      'raw',
      `${data.meta.date.replace(/[:.]/g, '-')}${data.meta.quick ? '-quick' : ''}.json`,
    );
    await writeFile(rawFile, json);
    console.log(`raw results: ${relative(ROOT, rawFile)}`);
  }
  if (!write.latest) {
    console.log('(quick, partial or --no-docs run: bench/results/latest.json and docs/ left as they were)');
    return;
  }
  const latest = join(RESULTS_DIR, 'latest.json');
  await writeFile(latest, json);
  formatWithBiome(latest);
  const charts = { ratios: 'performance-ratios.svg', targets: 'performance-targets.svg' };
  await writeFile(RATIO_SVG, renderRatioChart(data, summary, FLOOR_ID));
  await writeFile(TARGET_SVG, renderTargetChart(data, summary));
  const doc = existsSync(DOC) ? await readFile(DOC, 'utf8') : '# Performance\n';
  const markdown = renderMarkdown(data, summary, { library: LIBRARY_ID, floor: FLOOR_ID }, charts);
  await writeFile(DOC, replaceGenerated(doc, markdown));
  console.log(
    'wrote bench/results/latest.json, docs/performance.md, docs/performance-ratios.svg, docs/performance-targets.svg',
  );
}

/** `--from FILE`: the report of a saved run again (after a change to the report), nothing measured. */
async function republish(file: string, docs: boolean): Promise<void> {
  const data = JSON.parse(await readFile(file, 'utf8')) as RunData & { summary?: unknown };
  delete data.summary;
  const ids = new Set(data.contenders.map((c) => c.id));
  const complete =
    !data.meta.quick && ids.has(LIBRARY_ID) && ids.has(FLOOR_ID) && data.repetitions.length >= 5;
  await publish(data, { raw: false, latest: complete && docs });
}

async function main(): Promise<void> {
  dedupeWarnings();
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  if (options.from !== undefined) return republish(options.from, options.docs);
  const problem = options.contenders.some((c) => c.id === LIBRARY_ID) ? distProblem() : undefined;
  if (problem !== undefined) throw new Error(problem);
  const began = performance.now();
  const plans = options.quick ? QUICK_PLAN : FULL_PLAN;
  const warmupMs = options.quick ? 80 : 300;

  let nodeSet: NodeSet | undefined;
  let addresses = NodeSet.fromEnv();
  const source = addresses === undefined ? 'started' : 'QUORUMLOCK_NODES';
  if (addresses === undefined) {
    nodeSet = await NodeSet.start(5, { persistence: 'none' });
    addresses = nodeSet.addresses;
  } else if (addresses.length < 5) {
    throw new Error(`QUORUMLOCK_NODES lists ${addresses.length} nodes; the benchmark needs 5`);
  }
  addresses = addresses.slice(0, 5);
  const stopNodes = async () => {
    const set = nodeSet;
    nodeSet = undefined;
    await set?.dispose();
  };
  process.once('SIGINT', () => {
    console.error('\ninterrupted: stopping the nodes');
    void stopNodes().finally(() => process.exit(130));
  });

  const admins = addresses.map(adminClient);
  try {
    await Promise.all(admins.map((a) => a.connect()));
    const redisInfo = await admins[0]!.info('server');
    const redis = /^redis_version:(\S+)/m.exec(redisInfo)?.[1] ?? 'unknown';
    console.log(
      `quorumlock bench: ${options.contenders.length} contenders × ${options.workloads.length} workloads × ${options.reps} repetitions on ${addresses.join(', ')} (${source}); redis ${redis}; seed ${options.seed}${canForceGc ? '' : '; WARNING: no --expose-gc, allocation figures are noisier'}`,
    );
    const loadAverageStart = os.loadavg();
    const random = seededRandom(options.seed);
    const runId = `${Date.now().toString(36)}`;
    const base = { addresses, admins, warmupMs, ttlMs: TTL_MS };
    const repetitions: Repetition[] = [];

    for (let rep = 1; rep <= options.reps; rep++) {
      const repetition: Repetition = { index: rep, order: {}, cells: {} };
      for (const workload of options.workloads) {
        const order = shuffle(options.contenders, random);
        repetition.order[workload] = order.map((c) => c.id);
        const cells = await runWorkload(
          workload,
          order,
          base,
          plans[workload],
          `qlb:${runId}:${rep}:${workload}`,
        );
        const line = order.map((spec) => {
          const r = cells[spec.id]!;
          const trouble = r.errors + r.failures > 0 ? ` (${r.errors} errors, ${r.failures} failures)` : '';
          return `${spec.id} ${describe(workload, r)}${trouble}`;
        });
        repetition.cells[workload] = cells;
        console.log(
          `[rep ${rep}/${options.reps} ${((performance.now() - began) / 1000).toFixed(0)}s] ${workload}: ${line.join(' | ')}`,
        );
      }
      repetitions.push(repetition);
    }

    const contenders = await Promise.all(options.contenders.map(contenderInfo));
    const config: RunConfig = {
      repetitions: options.reps,
      plan: Object.fromEntries(options.workloads.map((w) => [w, plans[w]])),
      warmupMs,
      ttlMs: TTL_MS,
      contention: {
        workers: CONTENTION.workers,
        holdMs: CONTENTION.holdMs,
        retries: CONTENTION.retry.retries,
        retryDelayMs: CONTENTION.retry.delayMs,
        retryJitterMs: CONTENTION.retry.jitterMs,
      },
    };
    const cpus = os.cpus();
    const data: RunData = {
      meta: {
        date: new Date().toISOString(),
        command: commandLine(argv),
        quick: options.quick,
        commit: gitCommit(),
        machine: {
          cpuModel: cpus[0]?.model.trim() ?? 'unknown',
          cores: cpus.length,
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
          os: `${os.type()} ${os.release()} ${os.arch()}`,
          loadAverageStart,
          loadAverageEnd: os.loadavg(),
        },
        node: process.version,
        redis,
        nodes: {
          count: addresses.length,
          source,
          persistence: source === 'started' ? 'none' : 'as configured',
        },
        gcExposed: canForceGc,
        connectionErrors: connectionStats.errors,
        durationSeconds: (performance.now() - began) / 1000,
        seed: options.seed,
      },
      config,
      contenders,
      repetitions,
    };
    if (connectionStats.errors > 0) {
      console.log(
        `WARNING: ${connectionStats.errors} connection errors (last: ${connectionStats.lastError})`,
      );
    }
    const complete =
      !options.quick &&
      !options.partial &&
      options.contenders.some((c) => c.id === LIBRARY_ID) &&
      options.contenders.some((c) => c.id === FLOOR_ID);
    await publish(data, { raw: true, latest: complete && options.docs });
  } finally {
    await Promise.all(admins.map((a) => a.quit().catch(() => a.disconnect())));
    await stopNodes();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
