/**
 * The workloads. Each runs one contender on fresh connections for a bounded window after a short
 * warm-up, and returns plain numbers. See bench/README.md for what each one means.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ConnectionPool, type SentCounter } from './connections.js';
import type { Contender, ContenderSpec, RetryPlan } from './contender.js';
import { commandDelta, commandStats, startResourceWindow } from './measure.js';
import { jainIndex, percentile, Samples } from './stats.js';

export interface CellParams {
  readonly addresses: readonly string[];
  /** Admin connections (one per node of `addresses`), for INFO commandstats. */
  readonly admins: readonly Redis[];
  readonly warmupMs: number;
  readonly ttlMs: number;
  /** Unique per cell, so no cell ever meets another cell's keys. */
  readonly keyPrefix: string;
}

export interface ContentionParams {
  readonly workers: number;
  /** Holders allowed at once (a semaphore's permits); more is an exclusion violation. @default 1 */
  readonly permits?: number;
  readonly holdMs: number;
  readonly retry: Extract<RetryPlan, { kind: 'retry' }>;
}

/** Problems a cell saw; all should stay 0 on a healthy run. */
export interface CellHealth {
  /** acquire/release threw (not a "could not acquire" answer). */
  errors: number;
  firstError?: string;
  /** Uncontended acquisitions that came back null (a distinct key should always be free). */
  failures: number;
}

export interface LatencyResult extends CellHealth {
  ops: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface ThroughputResult extends CellHealth {
  concurrency: number;
  nodes: number;
  ops: number;
  seconds: number;
  opsPerSec: number;
  cpuUsPerOp: number;
  cpuUserUsPerOp: number;
  cpuSystemUsPerOp: number;
  allocBytesPerOp: number;
  /** write(2) system calls per operation (Linux; NaN elsewhere). */
  writesPerOp: number;
  readsPerOp: number;
  gcs: number;
}

export interface ContentionResult extends CellHealth {
  workers: number;
  seconds: number;
  /** Acquisitions that completed inside the windows. */
  acquisitions: number;
  acquisitionsPerSec: number;
  /** Percentiles over completed acquisitions, from the moment the worker wanted the lock. */
  waitP50Ms: number;
  waitP99Ms: number;
  /** The longest wait still unfinished when a window closed (starvation shows here and in Jain). */
  longestUnfinishedWaitMs: number;
  perWorker: number[];
  jain: number;
  /**
   * Share of acquisitions won by the worker whose release came last (it re-acquired before any
   * waiter): near 1 means waiters rarely get in between; 1/workers is strict rotation.
   */
  backToBackShare: number;
  /** Every acquisition between the commandstats snapshots (the windows plus their tails). */
  countedAcquisitions: number;
  /** Σ over nodes of INFO commandstats calls (commands inside scripts included) per counted acquisition. */
  commandsPerAcquisition: number;
  /** Commands the clients wrote (EVALSHA = 1, whatever it runs) per counted acquisition. */
  sentPerAcquisition: number;
  commandBreakdown: Record<string, number>;
  /** acquire() calls that gave up (the worker then calls again, still waiting). */
  giveUps: number;
  /** Times a worker was granted the lock while another worker of this cell still held it. */
  exclusionViolations: number;
}

interface LoopState extends CellHealth {
  stopped: boolean;
  ops: number;
}

const MAX_ERRORS = 100;

function noteError(state: CellHealth & { stopped: boolean }, error: unknown): void {
  state.errors++;
  state.firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (state.errors >= MAX_ERRORS) state.stopped = true;
}

function health(h: CellHealth): CellHealth {
  return {
    errors: h.errors,
    ...(h.firstError === undefined ? {} : { firstError: h.firstError }),
    failures: h.failures,
  };
}

function addHealth(into: CellHealth, from: CellHealth): void {
  into.errors += from.errors;
  into.failures += from.failures;
  if (into.firstError === undefined && from.firstError !== undefined) into.firstError = from.firstError;
}

/**
 * One contender prepared for one workload: connected and warmed up. The harness runs its slices
 * interleaved with the other contenders' slices, then reads the result and closes it.
 */
export interface CellRunner<R extends CellHealth = CellHealth> {
  /** Measure for `ms` more; results accumulate over slices. */
  slice(ms: number): Promise<void>;
  result(): R;
  close(): Promise<void>;
}

/** Acquire + release on `key` until stopped; counts completed operations while not stopped. */
async function acquireReleaseLoop(
  contender: Contender,
  key: string,
  ttlMs: number,
  state: LoopState,
  latencies?: Samples,
): Promise<void> {
  while (!state.stopped) {
    const started = performance.now();
    let handle: unknown;
    try {
      handle = await contender.acquire(key, ttlMs);
    } catch (error) {
      noteError(state, error);
      continue;
    }
    if (handle === null) {
      state.failures++;
      if (state.failures >= MAX_ERRORS) state.stopped = true;
      continue;
    }
    try {
      await contender.release(handle);
    } catch (error) {
      noteError(state, error);
      continue;
    }
    if (state.stopped) break;
    state.ops++;
    latencies?.push(performance.now() - started);
  }
}

/**
 * Run `loops` until `ms` has passed; resolves when every loop has finished its operation in
 * flight. `onStop` runs at the end of the window, before the stragglers finish.
 */
async function runFor(
  ms: number,
  loops: (state: LoopState) => Promise<void>[],
  onStop?: () => void,
): Promise<LoopState & { seconds: number }> {
  const state: LoopState = { stopped: false, ops: 0, errors: 0, failures: 0 };
  const started = performance.now();
  let stoppedAt = Number.NaN;
  const stop = () => {
    if (!Number.isNaN(stoppedAt)) return;
    stoppedAt = performance.now();
    onStop?.();
    state.stopped = true;
  };
  const timer = setTimeout(stop, ms);
  await Promise.all(loops(state));
  clearTimeout(timer);
  stop(); // when every loop stopped early on errors
  return { ...state, seconds: (stoppedAt - started) / 1000 };
}

async function open(spec: ContenderSpec, addresses: readonly string[], retry: RetryPlan) {
  const pool = new ConnectionPool(addresses);
  try {
    const contender = await spec.create({
      addresses,
      retry,
      connect: (o) => pool.connect(o),
      connectNodeRedis: () => pool.connectNodeRedis(),
      connectIoredis5: () => pool.connectIoredis5(),
    });
    return {
      contender,
      async close() {
        try {
          await contender.close();
        } finally {
          await pool.closeAll();
        }
      },
    };
  } catch (error) {
    await pool.closeAll();
    throw error;
  }
}

/** Sequential, uncontended acquire + release on one key: latency percentiles. */
export async function openLatency(spec: ContenderSpec, p: CellParams): Promise<CellRunner<LatencyResult>> {
  const { contender, close } = await open(spec, p.addresses, { kind: 'none' });
  const key = `${p.keyPrefix}:seq`;
  await runFor(p.warmupMs, (s) => [acquireReleaseLoop(contender, key, p.ttlMs, s)]);
  const samples = new Samples();
  const total: CellHealth & { ops: number } = { ops: 0, errors: 0, failures: 0 };
  return {
    async slice(ms) {
      const run = await runFor(ms, (s) => [acquireReleaseLoop(contender, key, p.ttlMs, s, samples)]);
      total.ops += run.ops;
      addHealth(total, run);
    },
    result() {
      const sorted = samples.sorted();
      let sum = 0;
      for (const v of sorted) sum += v;
      return {
        ops: total.ops,
        p50Ms: percentile(sorted, 50),
        p90Ms: percentile(sorted, 90),
        p99Ms: percentile(sorted, 99),
        meanMs: sorted.length > 0 ? sum / sorted.length : Number.NaN,
        ...health(total),
      };
    },
    close,
  };
}

/**
 * `concurrency` loops, each on its own key, on the first `nodes` nodes: operations per second,
 * and client CPU and heap allocation per operation over the same windows.
 */
export async function openThroughput(
  spec: ContenderSpec,
  p: CellParams,
  concurrency: number,
  nodes = p.addresses.length,
): Promise<CellRunner<ThroughputResult>> {
  const { contender, close } = await open(spec, p.addresses.slice(0, nodes), { kind: 'none' });
  const keys = Array.from({ length: concurrency }, (_, i) => `${p.keyPrefix}:tp:${i}`);
  const loops = (s: LoopState) => keys.map((key) => acquireReleaseLoop(contender, key, p.ttlMs, s));
  await runFor(p.warmupMs, loops);
  const total = {
    ops: 0,
    seconds: 0,
    cpuUs: 0,
    userUs: 0,
    systemUs: 0,
    allocBytes: 0,
    writes: 0,
    reads: 0,
    gcs: 0,
    errors: 0,
    failures: 0,
  } as CellHealth & {
    ops: number;
    seconds: number;
    cpuUs: number;
    userUs: number;
    systemUs: number;
    allocBytes: number;
    writes: number;
    reads: number;
    gcs: number;
  };
  return {
    async slice(ms) {
      const window = startResourceWindow();
      const run = await runFor(ms, loops, () => {
        const use = window.stop();
        total.cpuUs += use.cpuUs;
        total.userUs += use.userUs;
        total.systemUs += use.systemUs;
        total.allocBytes += use.allocBytes;
        total.writes += use.writes;
        total.reads += use.reads;
        total.gcs += use.gcs;
      });
      total.ops += run.ops;
      total.seconds += run.seconds;
      addHealth(total, run);
    },
    result() {
      return {
        concurrency,
        nodes,
        ops: total.ops,
        seconds: total.seconds,
        opsPerSec: total.ops / total.seconds,
        cpuUsPerOp: total.cpuUs / total.ops,
        cpuUserUsPerOp: total.userUs / total.ops,
        cpuSystemUsPerOp: total.systemUs / total.ops,
        allocBytesPerOp: total.allocBytes / total.ops,
        writesPerOp: total.writes / total.ops,
        readsPerOp: total.reads / total.ops,
        gcs: total.gcs,
        ...health(total),
      };
    },
    close,
  };
}

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
