/**
 * The shape of a run's results (bench/results/latest.json), and how they are summarised: medians
 * over repetitions, and per-repetition ratios (to the plain floor and to the best peer) whose
 * median is reported, plus the project's performance targets (TARGETS).
 */

import { METRICS, type MetricDef } from './metrics.js';
import { median, ratio } from './stats.js';
import type { ContentionResult, LatencyResult, ThroughputResult } from './workloads.js';

export const WORKLOADS = [
  'latency',
  'throughput-1',
  'throughput-16',
  'throughput-128',
  'contention',
  'scaling-n1',
  'scaling-n3',
  'scaling-n5',
] as const;
export type WorkloadId = (typeof WORKLOADS)[number];

export type CellResult = LatencyResult | ThroughputResult | ContentionResult;

export interface Repetition {
  index: number;
  /** Contender order per workload in this repetition (randomised). */
  order: Partial<Record<WorkloadId, string[]>>;
  cells: Partial<Record<WorkloadId, Record<string, CellResult>>>;
}

export interface ContenderInfo {
  id: string;
  label: string;
  kind: 'library' | 'peer' | 'floor' | 'variant';
  version: string;
  notes: string;
  /** A library variant: the floor variant its ratios are taken against. */
  floorId?: string;
}

export interface RunMeta {
  date: string;
  command: string;
  quick: boolean;
  commit: string;
  machine: {
    cpuModel: string;
    cores: number;
    memoryGiB: number;
    os: string;
    loadAverageStart: number[];
    loadAverageEnd: number[];
  };
  node: string;
  redis: string;
  nodes: { count: number; source: 'started' | 'QUORUMLOCK_NODES'; persistence: string };
  gcExposed: boolean;
  /** 'error' events on the contenders' connections (absent in runs before it was recorded). */
  connectionErrors?: number;
  durationSeconds: number;
  seed: number;
}

export interface RunConfig {
  repetitions: number;
  /** Measured time per contender and workload: `slices` slices of `sliceMs`, interleaved. */
  plan: Partial<Record<WorkloadId, { sliceMs: number; slices: number }>>;
  warmupMs: number;
  ttlMs: number;
  contention: {
    workers: number;
    holdMs: number;
    retries: number;
    retryDelayMs: number;
    retryJitterMs: number;
  };
}

export interface RunData {
  meta: RunMeta;
  config: RunConfig;
  contenders: ContenderInfo[];
  repetitions: Repetition[];
}

export interface ContenderSummary {
  perRep: number[];
  median: number;
  /** Median over repetitions of (this contender ÷ plain floor) in the same repetition. */
  ratioToFloor: number;
  /** Median over repetitions of (this contender ÷ best peer) in the same repetition. */
  ratioToBestPeer: number;
}

export interface MetricSummary {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** The peer with the best median (highest when higher is better, lowest otherwise). */
  bestPeer: string | undefined;
  contenders: Record<string, ContenderSummary>;
}

export interface TargetDef {
  id: string;
  text: string;
  metric: string;
  /** 'floor': ratio to the plain floor; 'best-peer': ratio to the best peer; 'absolute': the median itself. */
  against: 'floor' | 'best-peer' | 'absolute';
  op: '<=' | '>=';
  limit: number;
}

export const TARGETS: readonly TargetDef[] = [
  {
    id: 'seq-p50',
    text: 'Sequential p50 ≤ 1.05 × plain floor',
    metric: 'seq.p50',
    against: 'floor',
    op: '<=',
    limit: 1.05,
  },
  {
    id: 'seq-p99',
    text: 'Sequential p99 ≤ 1.25 × plain floor',
    metric: 'seq.p99',
    against: 'floor',
    op: '<=',
    limit: 1.25,
  },
  {
    id: 'tp-1',
    text: 'Throughput c1 ≥ best peer',
    metric: 'tp.c1',
    against: 'best-peer',
    op: '>=',
    limit: 1,
  },
  {
    id: 'cpu-1',
    text: 'CPU per op c1 ≤ plain floor',
    metric: 'cpu.c1',
    against: 'floor',
    op: '<=',
    limit: 1,
  },
  {
    id: 'tp-16',
    text: 'Throughput c16 ≥ 2.5 × best peer',
    metric: 'tp.c16',
    against: 'best-peer',
    op: '>=',
    limit: 2.5,
  },
  {
    id: 'tp-128',
    text: 'Throughput c128 ≥ 2.5 × best peer',
    metric: 'tp.c128',
    against: 'best-peer',
    op: '>=',
    limit: 2.5,
  },
  {
    id: 'cpu-16',
    text: 'CPU per op c16 ≤ 0.6 × best peer',
    metric: 'cpu.c16',
    against: 'best-peer',
    op: '<=',
    limit: 0.6,
  },
  {
    id: 'cont-cmds',
    text: 'Contention: commands per acquisition ≤ 1.1 × plain floor',
    metric: 'cont.cmds',
    against: 'floor',
    op: '<=',
    limit: 1.1,
  },
  {
    id: 'cont-rate',
    text: 'Contention: acquisitions per second ≥ best peer',
    metric: 'cont.rate',
    against: 'best-peer',
    op: '>=',
    limit: 1,
  },
  {
    id: 'cont-wait99',
    text: 'Contention: wait p99 ≤ best peer',
    metric: 'cont.wait99',
    against: 'best-peer',
    op: '<=',
    limit: 1,
  },
  {
    id: 'cont-jain',
    text: "Contention: Jain's index ≥ 0.95",
    metric: 'cont.jain',
    against: 'absolute',
    op: '>=',
    limit: 0.95,
  },
  {
    id: 'alloc-16',
    text: 'Heap allocated per op c16 ≤ best peer',
    metric: 'alloc.c16',
    against: 'best-peer',
    op: '<=',
    limit: 1,
  },
  {
    id: 'scale',
    text: 'Scaling: cost N5/N1 ≤ 1.1 × the floor’s own ratio',
    metric: 'scale.n5',
    against: 'floor',
    op: '<=',
    limit: 1.1,
  },
];

export interface TargetResult extends TargetDef {
  measured: number;
  pass: boolean;
  /** Who the ratio was taken against (contender id), or undefined for absolute targets. */
  versus: string | undefined;
}

export interface Summary {
  metrics: MetricSummary[];
  targets: TargetResult[];
}

function isBetter(better: 'higher' | 'lower', a: number, b: number): boolean {
  return better === 'higher' ? a > b : a < b;
}

export function summarise(
  data: Pick<RunData, 'contenders' | 'repetitions'>,
  libraryId: string,
  floorId: string,
): Summary {
  const peers = data.contenders.filter((c) => c.kind === 'peer').map((c) => c.id);
  const metrics = METRICS.map((m): MetricSummary => {
    const perRep: Record<string, number[]> = {};
    for (const c of data.contenders) {
      perRep[c.id] = data.repetitions.map((r) => m.value(r, c.id) ?? Number.NaN);
    }
    let bestPeer: string | undefined;
    for (const p of peers) {
      const med = median(perRep[p]!);
      if (!Number.isFinite(med)) continue;
      if (bestPeer === undefined || isBetter(m.better, med, median(perRep[bestPeer]!))) bestPeer = p;
    }
    const ratios = (of: string, to: string | undefined) =>
      to === undefined ? Number.NaN : median(perRep[of]!.map((v, i) => ratio(v, perRep[to]![i])));
    const contenders: Record<string, ContenderSummary> = {};
    for (const c of data.contenders) {
      contenders[c.id] = {
        perRep: perRep[c.id]!,
        median: median(perRep[c.id]!),
        ratioToFloor: ratios(c.id, c.floorId ?? floorId),
        ratioToBestPeer: ratios(c.id, bestPeer),
      };
    }
    return { id: m.id, label: m.label, unit: m.unit, better: m.better, bestPeer, contenders };
  });
  const targets = TARGETS.map((t): TargetResult => {
    const m = metrics.find((x) => x.id === t.metric)!;
    const lib = m.contenders[libraryId];
    const measured =
      lib === undefined
        ? Number.NaN
        : t.against === 'floor'
          ? lib.ratioToFloor
          : t.against === 'best-peer'
            ? lib.ratioToBestPeer
            : lib.median;
    const pass = Number.isFinite(measured) && (t.op === '<=' ? measured <= t.limit : measured >= t.limit);
    const versus = t.against === 'floor' ? floorId : t.against === 'best-peer' ? m.bestPeer : undefined;
    return { ...t, measured, pass, versus };
  });
  return { metrics, targets };
}

/** Health problems per contender over the whole run (all should be 0). */
export function health(
  data: RunData,
): Record<string, { errors: number; failures: number; violations: number; firstError?: string }> {
  const out: Record<string, { errors: number; failures: number; violations: number; firstError?: string }> =
    {};
  for (const c of data.contenders) out[c.id] = { errors: 0, failures: 0, violations: 0 };
  for (const rep of data.repetitions) {
    for (const cells of Object.values(rep.cells)) {
      for (const [id, r] of Object.entries(cells ?? {})) {
        const h = out[id];
        if (h === undefined) continue;
        h.errors += r.errors;
        h.failures += r.failures;
        if ('exclusionViolations' in r) h.violations += r.exclusionViolations;
        if (r.firstError !== undefined) h.firstError ??= r.firstError;
      }
    }
  }
  return out;
}

export { METRICS, type MetricDef };
