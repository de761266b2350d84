/**
 * The workloads. Each runs one contender on fresh connections for a bounded window after a short
 * warm-up, and returns plain numbers. See bench/README.md for what each one means.
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { ConnectionPool } from './connections.js';
import type { Contender, ContenderSpec, RetryPlan } from './contender.js';
import { startResourceWindow } from './measure.js';
import { percentile, Samples } from './stats.js';

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

export function noteError(state: CellHealth & { stopped: boolean }, error: unknown): void {
  state.errors++;
  state.firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (state.errors >= MAX_ERRORS) state.stopped = true;
}

export function health(h: CellHealth): CellHealth {
  return {
    errors: h.errors,
    ...(h.firstError === undefined ? {} : { firstError: h.firstError }),
    failures: h.failures,
  };
}

export function addHealth(into: CellHealth, from: CellHealth): void {
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
      connectGlide: () => pool.connectGlide(),
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
