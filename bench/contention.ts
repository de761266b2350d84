/**
 * The contention workload: several workers, each with its own contender instance and connections,
 * on one key (workloads.ts has the others and the shared cell plumbing).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionPool, type SentCounter } from './connections.js';
import type { Contender, ContenderSpec } from './contender.js';
import { commandDelta, commandStats } from './measure.js';
import { jainIndex, percentile, Samples } from './stats.js';
import {
  addHealth,
  type CellHealth,
  type CellParams,
  type CellRunner,
  type ContentionParams,
  type ContentionResult,
  health,
  noteError,
} from './workloads.js';

interface ContentionState extends CellHealth {
  stopped: boolean;
  holders: number;
  violations: number;
  giveUps: number;
  /** Acquisitions since the state was made (window and tail). */
  total: number;
  perWorker: number[];
  /** The worker that released last (-1 before the first release), and wins by that worker. */
  lastReleaser: number;
  backToBack: number;
  waits: Samples | undefined;
  /** When each worker began wanting the lock (NaN while it holds it or has stopped). */
  wantingSince: number[];
}

async function contentionWorker(
  index: number,
  contender: Contender,
  key: string,
  p: CellParams,
  c: ContentionParams,
  s: ContentionState,
): Promise<void> {
  while (!s.stopped) {
    const wantAt = performance.now();
    s.wantingSince[index] = wantAt;
    let handle: unknown = null;
    while (handle === null) {
      try {
        handle = await contender.acquire(key, p.ttlMs);
      } catch (error) {
        noteError(s, error);
      }
      if (handle === null) {
        if (s.stopped) {
          s.wantingSince[index] = Number.NaN;
          return;
        }
        s.giveUps++;
      }
    }
    s.wantingSince[index] = Number.NaN;
    if (s.holders++ >= (c.permits ?? 1)) s.violations++;
    s.total++;
    if (!s.stopped) {
      s.perWorker[index]!++;
      if (s.lastReleaser === index) s.backToBack++;
      s.waits?.push(performance.now() - wantAt);
    }
    await sleep(c.holdMs);
    s.holders--;
    s.lastReleaser = index;
    try {
      await contender.release(handle);
    } catch (error) {
      noteError(s, error);
    }
  }
}

/**
 * `workers` workers, each with its own contender instance and connections, on one key, each
 * holding it `holdMs`: acquisitions per second, waits, fairness, and commands per acquisition.
 */
export async function openContention(
  spec: ContenderSpec,
  p: CellParams,
  c: ContentionParams,
): Promise<CellRunner<ContentionResult>> {
  const pool = new ConnectionPool(p.addresses);
  const counter: SentCounter = { sent: 0 };
  const contenders: Contender[] = [];
  const close = async () => {
    try {
      for (const ct of contenders) await ct.close();
    } finally {
      await pool.closeAll();
    }
  };
  try {
    pool.countSent(counter);
    for (let i = 0; i < c.workers; i++) {
      contenders.push(
        await spec.create({
          addresses: p.addresses,
          retry: c.retry,
          connect: (o) => pool.connect(o),
          connectNodeRedis: () => pool.connectNodeRedis(),
          connectIoredis5: () => pool.connectIoredis5(),
          connectGlide: () => pool.connectGlide(),
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  const key = `${p.keyPrefix}:one`;
  const perWorker = new Array<number>(c.workers).fill(0);
  let backToBack = 0;
  const waits = new Samples();
  const breakdown = new Map<string, number>();
  const total = {
    seconds: 0,
    counted: 0,
    sent: 0,
    giveUps: 0,
    violations: 0,
    longestUnfinished: 0,
    errors: 0,
    failures: 0,
  } as CellHealth & {
    seconds: number;
    counted: number;
    sent: number;
    giveUps: number;
    violations: number;
    longestUnfinished: number;
  };

  /** One window of all workers; `measure` false for the warm-up. */
  const window = async (ms: number, measure: boolean) => {
    const s: ContentionState = {
      stopped: false,
      holders: 0,
      violations: 0,
      giveUps: 0,
      total: 0,
      perWorker: new Array<number>(c.workers).fill(0),
      lastReleaser: -1,
      backToBack: 0,
      waits: measure ? waits : undefined,
      wantingSince: new Array<number>(c.workers).fill(Number.NaN),
      errors: 0,
      failures: 0,
    };
    const before = measure ? await commandStats(p.admins) : [];
    const sentBefore = counter.sent;
    const started = performance.now();
    let stoppedAt = Number.NaN;
    const timer = setTimeout(() => {
      stoppedAt = performance.now();
      for (const since of s.wantingSince) {
        if (Number.isFinite(since))
          total.longestUnfinished = Math.max(total.longestUnfinished, stoppedAt - since);
      }
      s.stopped = true;
    }, ms);
    await Promise.all(contenders.map((ct, i) => contentionWorker(i, ct, key, p, c, s)));
    clearTimeout(timer);
    if (Number.isNaN(stoppedAt)) stoppedAt = performance.now();
    await sleep(50); // stragglers of decided rounds reach the nodes before the snapshot
    if (!measure) return;
    const after = await commandStats(p.admins);
    for (const [name, calls] of commandDelta(before, after))
      breakdown.set(name, (breakdown.get(name) ?? 0) + calls);
    total.sent += counter.sent - sentBefore;
    total.seconds += (stoppedAt - started) / 1000;
    total.counted += s.total;
    total.giveUps += s.giveUps;
    total.violations += s.violations;
    s.perWorker.forEach((n, i) => {
      perWorker[i]! += n;
    });
    backToBack += s.backToBack;
    addHealth(total, s);
  };

  await window(p.warmupMs, false);
  return {
    slice: (ms) => window(ms, true),
    result() {
      const acquisitions = perWorker.reduce((a, b) => a + b, 0);
      const sorted = waits.sorted();
      let commands = 0;
      for (const calls of breakdown.values()) commands += calls;
      return {
        workers: c.workers,
        seconds: total.seconds,
        acquisitions,
        acquisitionsPerSec: acquisitions / total.seconds,
        waitP50Ms: percentile(sorted, 50),
        waitP99Ms: percentile(sorted, 99),
        longestUnfinishedWaitMs: total.longestUnfinished,
        perWorker,
        jain: jainIndex(perWorker),
        backToBackShare: acquisitions > 0 ? backToBack / acquisitions : Number.NaN,
        countedAcquisitions: total.counted,
        commandsPerAcquisition: commands / total.counted,
        sentPerAcquisition: total.sent / total.counted,
        commandBreakdown: Object.fromEntries([...breakdown].sort((a, b) => b[1] - a[1])),
        giveUps: total.giveUps,
        exclusionViolations: total.violations,
        ...health(total),
      };
    },
    close,
  };
}
