/**
 * The soak's summary and files (summary.json, history.json), and an offline re-check of a history.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findOverlaps } from '../checkers.js';
import { type Acquisition, checkTokens, type FencedWrite, type History } from '../history.js';
import { type FaultEvent, type SoakOptions, type SoakSummary, type Stats, spread } from './model.js';

/** A holder that stopped without releasing, and how long until its resource was acquired again. */
export interface Crash {
  readonly contender: string;
  readonly resource: string;
  readonly at: number;
  resolvedAfter?: number;
}

/** Everything a finished run hands to {@link report}. */
export interface RunRecord {
  readonly options: SoakOptions;
  readonly seed: number;
  readonly t0: number;
  readonly prefix: string;
  readonly ttl: number;
  readonly contenders: number;
  readonly resources: number;
  readonly fenced: number;
  /** Whether the soak started its own nodes (else they were external). */
  readonly started: boolean;
  readonly history: History;
  readonly faults: readonly FaultEvent[];
  readonly crashes: readonly Crash[];
  readonly stats: Stats;
  readonly skipped: number;
}

type Violations = SoakSummary['violations'];

/** The violation counts with their total. */
function counted(parts: Omit<Violations, 'total'>): Violations {
  const total = Object.values(parts).reduce((sum, n) => sum + n, 0);
  return { ...parts, total };
}

/** Check the history, summarise the run, and write the files when `options.outDir` is set. */
export async function report(run: RunRecord): Promise<SoakSummary> {
  const {
    options,
    seed,
    t0,
    prefix,
    ttl,
    contenders,
    resources,
    fenced,
    started,
    history,
    faults,
    crashes,
    stats,
    skipped,
  } = run;
  const found = history.check();
  const byResource: Record<string, number> = {};
  for (const a of history.acquisitions)
    byResource[a.resource.slice(prefix.length)] = (byResource[a.resource.slice(prefix.length)] ?? 0) + 1;
  const byKind: Record<string, number> = {};
  for (const f of faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const violations = counted({
    leaseOverlaps: found.overlaps.length,
    lostUpdates: found.lostUpdates,
    tokenOrder: found.tokenOrder.length,
    falseSuccess: found.falseSuccess.length,
    fencedWhileValid: found.fencedWhileValid.length,
  });
  const summary: SoakSummary = {
    seed,
    durationMs: Math.round(performance.now() - t0),
    nodes: started ? 'started' : 'external',
    contenders,
    resources,
    fencedResources: fenced,
    ttlMs: ttl,
    unsafe: options.unsafe ?? false,
    acquisitions: {
      total: history.acquisitions.length,
      byResource,
      attempts: stats.attempts,
      failures: stats.failures,
      renewals: stats.renewals,
      lostSignals: stats.lost,
      holderCrashes: stats.crashes,
    },
    violations,
    lateWrites: stats.lateWrites,
    fencedWrites: {
      accepted: history.fencedWrites.filter((w) => w.accepted).length,
      rejected: history.fencedWrites.filter((w) => !w.accepted).length,
    },
    faults: { total: faults.length, skipped, byKind },
    liveness: {
      acquireMs: spread(stats.acquireLatencies),
      afterHolderCrashMs: {
        ...spread(stats.afterCrash),
        unresolved: crashes.filter((c) => c.resolvedAfter === undefined).length,
      },
    },
  };
  if (options.outDir === undefined) return summary;
  await mkdir(options.outDir, { recursive: true });
  const files = {
    history: join(options.outDir, 'history.json'),
    summary: join(options.outDir, 'summary.json'),
  };
  const json = history.toJSON() as { acquisitions: Acquisition[]; fencedWrites: FencedWrite[] };
  await writeFile(
    files.history,
    JSON.stringify(
      {
        options: { ...options, log: undefined },
        t0,
        faults,
        crashes,
        ...json,
        violations: { ...found, overlaps: found.overlaps.length },
      },
      null,
      1,
    ),
  );
  const withFiles = { ...summary, files };
  await writeFile(files.summary, JSON.stringify(withFiles, null, 2));
  return withFiles;
}

/**
 * Re-run the checkers over a `history.json` written by {@link runSoak} (S1 windows, S2 token
 * order, S4, fenced writes; lost updates as recorded), for offline re-checking.
 */
export async function recheckHistory(path: string): Promise<Violations> {
  const data = JSON.parse(await readFile(path, 'utf8')) as {
    acquisitions: Array<Acquisition & { end: number }>;
    fencedWrites: FencedWrite[];
    counters: Record<string, { lostUpdates: number }>;
  };
  const overlaps = findOverlaps(
    data.acquisitions.map((a) => ({ holder: a.holder, resource: a.resource, start: a.start, end: a.end })),
  );
  const tokenOrder = checkTokens(data.acquisitions);
  const falseSuccess = data.acquisitions.filter((a) => a.votes < a.quorum || !(a.validityMs > 0));
  const fencedWhileValid = data.fencedWrites.filter((w) => !w.accepted && w.valid);
  const lostUpdates = Object.values(data.counters).reduce((sum, c) => sum + c.lostUpdates, 0);
  return counted({
    leaseOverlaps: overlaps.length,
    lostUpdates,
    tokenOrder: tokenOrder.length,
    falseSuccess: falseSuccess.length,
    fencedWhileValid: fencedWhileValid.length,
  });
}
