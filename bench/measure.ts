/**
 * What the workloads measure besides time: client CPU, heap allocation, and the commands the
 * nodes executed.
 *
 * CPU: `process.cpuUsage()` delta (user + system, every thread of this process: main thread, GC
 * helpers, libuv pool) over the measured window.
 *
 * Allocation: Node 20's `v8.getHeapStatistics()` has no "total allocated" counter, so it is
 * derived: a full GC before the window (`--expose-gc`), a `v8.GCProfiler` over the window, and
 *   allocated = (used heap at the end − used heap at the start) + Σ over every GC in the window of
 *               (used heap before that GC − used heap after it).
 * Every byte allocated in the window is either still in the heap at the end or was freed by one
 * of those GCs. It counts V8 heap only (not Buffers' external memory), and it slightly
 * over-counts when an object allocated before the window dies in it; the full GC before the
 * window keeps that small, and it is the same for every contender.
 *
 * Syscalls: on Linux, `syscw`/`syscr` of /proc/self/io (write and read system calls of the
 * process), which shows how many socket writes an operation costs: one per command unless the
 * client batches.
 */
import { readFileSync } from 'node:fs';
import * as v8 from 'node:v8';
import type { Redis } from 'ioredis';

const gc = (globalThis as { gc?: () => void }).gc;

/** True when the process runs with --expose-gc (the bench script passes it). */
export const canForceGc = typeof gc === 'function';

export interface ResourceUse {
  /** User + system CPU time of this process, µs. */
  cpuUs: number;
  userUs: number;
  systemUs: number;
  /** write / read system calls (NaN where /proc/self/io is missing). */
  writes: number;
  reads: number;
  /** V8 heap bytes allocated (see the header). */
  allocBytes: number;
  /** GCs that ran in the window. */
  gcs: number;
}

/** `[syscw, syscr]` of this process, or NaN where /proc/self/io cannot be read. */
function syscalls(): [number, number] {
  try {
    const io = readFileSync('/proc/self/io', 'latin1');
    return [
      Number(/^syscw: (\d+)/m.exec(io)?.[1] ?? Number.NaN),
      Number(/^syscr: (\d+)/m.exec(io)?.[1] ?? Number.NaN),
    ];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

/** Start measuring; `stop()` ends the window. */
export function startResourceWindow(): { stop(): ResourceUse } {
  gc?.();
  const usedBefore = v8.getHeapStatistics().used_heap_size;
  const profiler = new v8.GCProfiler();
  profiler.start();
  const [writesBefore, readsBefore] = syscalls();
  const cpuBefore = process.cpuUsage();
  return {
    stop() {
      const cpu = process.cpuUsage(cpuBefore);
      const [writesAfter, readsAfter] = syscalls();
      const profile = profiler.stop();
      const usedAfter = v8.getHeapStatistics().used_heap_size;
      let freed = 0;
      for (const s of profile.statistics) {
        freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
      }
      return {
        cpuUs: cpu.user + cpu.system,
        userUs: cpu.user,
        systemUs: cpu.system,
        // The two reads of /proc/self/io are a read syscall each (and an open and close).
        writes: writesAfter - writesBefore,
        reads: readsAfter - readsBefore,
        allocBytes: usedAfter - usedBefore + freed,
        gcs: profile.statistics.length,
      };
    },
  };
}

/** Force a full GC if we can (between cells, so one contender's garbage is not the next one's cost). */
export function collectGarbage(): void {
  gc?.();
}

/** Calls per command name from `INFO commandstats` of one node. */
export type CommandCounts = Map<string, number>;

export function parseCommandStats(info: string): CommandCounts {
  const counts: CommandCounts = new Map();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

/** `INFO commandstats` of every node. */
export async function commandStats(admins: readonly Redis[]): Promise<CommandCounts[]> {
  const infos = await Promise.all(admins.map((a) => a.info('commandstats')));
  return infos.map(parseCommandStats);
}

/**
 * Commands executed between two snapshots, summed over the nodes, by name. Commands run inside
 * scripts count under their own names (Redis counts them), EVALSHA/EVAL once per call. `info` is
 * left out: the snapshots themselves are INFO calls.
 */
export function commandDelta(
  before: readonly CommandCounts[],
  after: readonly CommandCounts[],
): CommandCounts {
  const total: CommandCounts = new Map();
  after.forEach((counts, node) => {
    for (const [name, calls] of counts) {
      if (name === 'info') continue;
      const delta = calls - (before[node]?.get(name) ?? 0);
      if (delta !== 0) total.set(name, (total.get(name) ?? 0) + delta);
    }
  });
  return total;
}

export function sumCounts(counts: CommandCounts): number {
  let sum = 0;
  for (const calls of counts.values()) sum += calls;
  return sum;
}
