/**
 * Does the measuring instrument work? Not part of `npm test` (it starts its own nodes and takes
 * about half a minute); run it after changing the harness:
 *
 *   npm run build && npx tsx --expose-gc --test bench/harness.test.ts
 *
 * Pure parts (statistics, summary, report, commandstats parsing, the allocation method) are
 * checked against known answers; then every contender runs every kind of cell briefly on five
 * real nodes, and the results must be sane: no errors, no failed uncontended acquisition, no two
 * holders at once, commands counted, and every connection closed afterwards.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { NodeSet, parseAddress } from '../tools/nodes.js';
import { CONTENDERS, FLOOR_ID, LIBRARY_ID } from './contenders/index.js';
import { distProblem } from './contenders/quorumlock.js';
import { openContention } from './contention.js';
import { canForceGc, commandDelta, parseCommandStats, startResourceWindow } from './measure.js';
import { renderMarkdown, renderRatioChart, renderTargetChart, replaceGenerated } from './report.js';
import { type ContenderInfo, type Repetition, type RunData, summarise } from './results.js';
import { jainIndex, median, percentile, ratio, seededRandom, shuffle } from './stats.js';
import { type CellParams, openLatency, openThroughput } from './workloads.js';

describe('statistics', () => {
  it('percentile uses the nearest rank', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('median ignores non-finite values', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([Number.NaN, 5]), 5);
    assert.ok(Number.isNaN(median([])));
  });

  it("Jain's index is 1 for equal shares and 1/n for one winner", () => {
    assert.equal(jainIndex([5, 5, 5, 5]), 1);
    assert.equal(jainIndex([8, 0, 0, 0]), 0.25);
    assert.ok(Math.abs(jainIndex([1, 2, 3]) - 36 / 42) < 1e-12);
  });

  it('ratio refuses missing or zero denominators', () => {
    assert.equal(ratio(3, 2), 1.5);
    assert.ok(Number.isNaN(ratio(3, 0)));
    assert.ok(Number.isNaN(ratio(undefined, 2)));
  });

  it('the seeded shuffle is a permutation and replays', () => {
    const a = shuffle([1, 2, 3, 4, 5, 6], seededRandom(42));
    const b = shuffle([1, 2, 3, 4, 5, 6], seededRandom(42));
    assert.deepEqual(a, b);
    assert.deepEqual([...a].sort(), [1, 2, 3, 4, 5, 6]);
  });
});

describe('measurement helpers', () => {
  it('parses INFO commandstats and sums deltas over nodes without INFO itself', () => {
    const info =
      '# Commandstats\r\ncmdstat_evalsha:calls=10,usec=5\r\ncmdstat_info:calls=3,usec=1\r\ncmdstat_config|resetstat:calls=1,usec=1\r\n';
    const parsed = parseCommandStats(info);
    assert.equal(parsed.get('evalsha'), 10);
    assert.equal(parsed.get('config|resetstat'), 1);
    const before = [new Map([['evalsha', 10]]), new Map([['set', 1]])];
    const afterCounts = [
      new Map([
        ['evalsha', 14],
        ['info', 9],
      ]),
      new Map([
        ['set', 4],
        ['evalsha', 2],
      ]),
    ];
    assert.deepEqual(
      [...commandDelta(before, afterCounts)],
      [
        ['evalsha', 6],
        ['set', 3],
      ],
    );
  });

  it('counts heap allocation within a factor of two of what was allocated', { skip: !canForceGc }, () => {
    const window = startResourceWindow();
    let keep: number[][] = [];
    for (let i = 0; i < 2_000; i++) {
      keep.push(new Array<number>(1_000).fill(i + 0.5)); // ~8 KB of doubles each
      if (keep.length > 50) keep = [];
    }
    const use = window.stop();
    const expected = 2_000 * 1_000 * 8;
    assert.ok(use.allocBytes > expected * 0.9, `counted ${use.allocBytes} < ${expected}`);
    assert.ok(use.allocBytes < expected * 2, `counted ${use.allocBytes} ≫ ${expected}`);
    assert.ok(use.cpuUs > 0);
  });
});

function syntheticRun(): RunData {
  const contenders: ContenderInfo[] = [
    { id: 'lib', label: 'lib', kind: 'library', version: '1', notes: '' },
    { id: 'p1', label: 'p1', kind: 'peer', version: '1', notes: '' },
    { id: 'p2', label: 'p2', kind: 'peer', version: '1', notes: '' },
    { id: 'fl', label: 'fl', kind: 'floor', version: '1', notes: '' },
  ];
  const repetitions: Repetition[] = [1, 2, 3, 4, 5].map((index) => {
    // Per repetition: lib is 2x the floor's latency, p1 is the best peer on throughput, load drifts.
    const load = 1 + index / 10;
    const latency = (p50: number) => ({
      ops: 100,
      p50Ms: p50 * load,
      p90Ms: p50 * load,
      p99Ms: p50 * 2 * load,
      meanMs: p50,
      errors: 0,
      failures: 0,
    });
    const tp = (ops: number, cpu: number) => ({
      concurrency: 16,
      nodes: 5,
      ops,
      seconds: 1,
      opsPerSec: ops / load,
      cpuUsPerOp: cpu * load,
      cpuUserUsPerOp: cpu * load * 0.4,
      cpuSystemUsPerOp: cpu * load * 0.6,
      allocBytesPerOp: 1024,
      writesPerOp: 10,
      readsPerOp: 1,
      gcs: 0,
      errors: 0,
      failures: 0,
    });
    return {
      index,
      order: {},
      cells: {
        latency: { lib: latency(0.4), p1: latency(0.3), p2: latency(0.25), fl: latency(0.2) },
        'throughput-16': { lib: tp(9000, 50), p1: tp(3000, 100), p2: tp(2000, 80), fl: tp(4000, 60) },
      },
    };
  });
  return {
    meta: {
      date: '2026-01-01T00:00:00.000Z',
      command: 'npm run bench',
      quick: false,
      commit: 'abc1234',
      machine: {
        cpuModel: 'test',
        cores: 2,
        memoryGiB: 4,
        os: 'test',
        loadAverageStart: [0, 0, 0],
        loadAverageEnd: [0, 0, 0],
      },
      node: 'v20',
      redis: '7.0',
      nodes: { count: 5, source: 'started', persistence: 'none' },
      gcExposed: true,
      durationSeconds: 1,
      seed: 1,
    },
    config: {
      repetitions: 5,
      plan: { latency: { sliceMs: 500, slices: 3 } },
      warmupMs: 300,
      ttlMs: 10_000,
      contention: { workers: 8, holdMs: 1, retries: 20, retryDelayMs: 7, retryJitterMs: 3 },
    },
    contenders,
    repetitions,
  };
}

describe('summary and report', () => {
  const data = syntheticRun();
  const summary = summarise(data, 'lib', 'fl');
  const metric = (id: string) => summary.metrics.find((m) => m.id === id)!;

  it('picks the best peer by median, in the direction of the metric', () => {
    assert.equal(metric('seq.p50').bestPeer, 'p2'); // lower is better
    assert.equal(metric('tp.c16').bestPeer, 'p1'); // higher is better
    assert.equal(metric('cpu.c16').bestPeer, 'p2');
  });

  it('reports medians of per-repetition ratios', () => {
    assert.ok(Math.abs(metric('seq.p50').contenders.lib!.ratioToFloor - 2) < 1e-9);
    assert.ok(Math.abs(metric('tp.c16').contenders.lib!.ratioToBestPeer - 3) < 1e-9);
    assert.ok(Math.abs(metric('cpu.c16').contenders.lib!.ratioToBestPeer - 50 / 80) < 1e-9);
  });

  it('marks targets pass and fail', () => {
    const target = (id: string) => summary.targets.find((t) => t.id === id)!;
    assert.equal(target('seq-p50').pass, false);
    assert.equal(target('tp-16').pass, true);
    assert.equal(target('cpu-16').pass, false); // 0.625 > 0.6
    assert.ok(Number.isNaN(target('cont-jain').measured)); // no contention cells
    assert.equal(target('cont-jain').pass, false);
  });

  it('replaces only the generated section, idempotently', () => {
    const markdown = renderMarkdown(
      data,
      summary,
      { library: 'lib', floor: 'fl' },
      { ratios: 'r.svg', targets: 't.svg' },
    );
    assert.match(markdown, /\| Throughput c16 ≥ 2\.5 × best peer \| 3\.00× \| p1 \| ✅ pass \|/);
    const doc = '# Performance\n\nIntro.\n\n## Notes\n\nKeep me.\n';
    const once = replaceGenerated(doc, markdown);
    assert.ok(once.startsWith('# Performance\n\nIntro.'));
    assert.ok(once.includes('Keep me.'));
    const twice = replaceGenerated(once, markdown);
    assert.equal(twice, once);
    const edited = replaceGenerated(once.replace('Keep me.', 'Still here.'), 'new table');
    assert.ok(edited.includes('Still here.') && edited.includes('new table') && !edited.includes('3.00×'));
  });

  it('writes well-formed SVG', () => {
    for (const svg of [renderRatioChart(data, summary, 'fl'), renderTargetChart(data, summary)]) {
      assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
      const stack: string[] = [];
      for (const match of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
        const [, closing, name, selfClosing] = match;
        if (selfClosing) continue;
        if (closing) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
        else stack.push(name!);
      }
      assert.deepEqual(stack, []);
      assert.ok(!/NaN|undefined/.test(svg), 'no NaN or undefined in the SVG');
    }
  });
});

describe('every contender on five real nodes', { timeout: 180_000 }, () => {
  let nodes: NodeSet | undefined;
  let addresses: string[] = [];
  let admins: Redis[] = [];

  before(async () => {
    const problem = distProblem(); // quorumlock is measured from its build
    if (problem !== undefined) throw new Error(problem);
    const fromEnv = NodeSet.fromEnv();
    if (fromEnv === undefined) {
      nodes = await NodeSet.start(5, { persistence: 'none' });
      addresses = nodes.addresses;
    } else {
      addresses = fromEnv.slice(0, 5);
    }
    admins = addresses.map(
      (a) => new Redis({ ...parseAddress(a), lazyConnect: true, maxRetriesPerRequest: 0 }),
    );
    await Promise.all(admins.map((a) => a.connect()));
  });

  after(async () => {
    await Promise.all(admins.map((a) => a.quit()));
    await nodes?.dispose();
  });

  /** Connections to node 0 other than the admin one. */
  async function otherClients(): Promise<number> {
    const list = (await admins[0]!.client('LIST')) as string;
    return list.trim().split('\n').length - 1;
  }

  const params = (prefix: string): CellParams => ({
    addresses,
    admins,
    warmupMs: 40,
    ttlMs: 10_000,
    keyPrefix: `harness-test:${Date.now()}:${prefix}`,
  });

  it('lists quorumlock, the floor and four peers', () => {
    assert.ok(CONTENDERS.some((c) => c.id === LIBRARY_ID && c.kind === 'library'));
    assert.ok(CONTENDERS.some((c) => c.id === FLOOR_ID && c.kind === 'floor'));
    assert.equal(CONTENDERS.filter((c) => c.kind === 'peer').length, 4);
  });

  for (const spec of CONTENDERS) {
    it(`${spec.id}: latency, throughput and contention cells give sane numbers and close every connection`, async () => {
      const baseline = await otherClients();

      const latency = await openLatency(spec, params(`${spec.id}:lat`));
      await latency.slice(100);
      await latency.slice(100);
      const lat = latency.result();
      await latency.close();
      assert.equal(lat.errors, 0, lat.firstError);
      assert.equal(lat.failures, 0);
      assert.ok(lat.ops > 10, `only ${lat.ops} sequential ops`);
      assert.ok(lat.p50Ms > 0 && lat.p50Ms <= lat.p90Ms && lat.p90Ms <= lat.p99Ms);

      const throughput = await openThroughput(spec, params(`${spec.id}:tp`), 16, 3);
      await throughput.slice(150);
      const tp = throughput.result();
      await throughput.close();
      assert.equal(tp.errors, 0, tp.firstError);
      assert.equal(tp.failures, 0);
      assert.equal(tp.nodes, 3);
      assert.ok(tp.opsPerSec > 0 && tp.cpuUsPerOp > 0 && tp.allocBytesPerOp > 0);

      const contention = await openContention(spec, params(`${spec.id}:cont`), {
        workers: 4,
        holdMs: 1,
        retry: { kind: 'retry', retries: 20, delayMs: 7, jitterMs: 3 },
      });
      await contention.slice(250);
      const cont = contention.result();
      await contention.close();
      assert.equal(cont.errors, 0, cont.firstError);
      assert.equal(cont.exclusionViolations, 0, 'two workers held the lock at once');
      assert.ok(cont.acquisitions > 0, 'no acquisition under contention');
      assert.equal(cont.perWorker.length, 4);
      assert.ok(cont.jain > 0 && cont.jain <= 1);
      assert.ok(cont.waitP50Ms <= cont.waitP99Ms);
      // Every acquisition needs at least a quorum of writes and a release on the nodes.
      assert.ok(cont.commandsPerAcquisition >= 3, `${cont.commandsPerAcquisition} commands per acquisition`);
      assert.ok(cont.sentPerAcquisition >= 3, `${cont.sentPerAcquisition} sent per acquisition`);

      assert.equal(await otherClients(), baseline, 'a connection was left open');
    });
  }

  it('the floor sends exactly N SETs and N EVALSHAs per uncontended acquire + release', async () => {
    const floor = CONTENDERS.find((c) => c.id === FLOOR_ID)!;
    const latency = await openLatency(floor, params('floor-count'));
    const before = await Promise.all(admins.map((a) => a.info('commandstats')));
    await latency.slice(100);
    const { ops } = latency.result();
    await latency.close();
    const afterInfo = await Promise.all(admins.map((a) => a.info('commandstats')));
    const delta = commandDelta(before.map(parseCommandStats), afterInfo.map(parseCommandStats));
    // ops counts completed operations only; one more may have been in flight at the stop.
    const sets = delta.get('set') ?? 0;
    assert.ok(sets >= 5 * ops && sets <= 5 * (ops + 1), `${sets} SETs for ${ops} ops`);
    assert.equal(delta.get('evalsha'), sets);
  });
});
