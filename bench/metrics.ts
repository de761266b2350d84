/** The benchmark's metrics: how each row of the report is read from a repetition's cells. */
import type { CellResult, Repetition, WorkloadId } from './results.js';
import { ratio } from './stats.js';
import type { ContentionResult, LatencyResult, ThroughputResult } from './workloads.js';

export interface MetricDef {
  id: string;
  label: string;
  /** Short label for the chart. */
  short: string;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
  value(rep: Repetition, contender: string): number | undefined;
}

function cell<T extends CellResult>(rep: Repetition, workload: WorkloadId, contender: string): T | undefined {
  return rep.cells[workload]?.[contender] as T | undefined;
}

const latency = (rep: Repetition, c: string) => cell<LatencyResult>(rep, 'latency', c);
const tp = (w: WorkloadId) => (rep: Repetition, c: string) => cell<ThroughputResult>(rep, w, c);
const contention = (rep: Repetition, c: string) => cell<ContentionResult>(rep, 'contention', c);

export const METRICS: readonly MetricDef[] = [
  {
    id: 'seq.p50',
    label: 'Sequential acquire+release p50',
    short: 'seq p50',
    unit: 'ms',
    better: 'lower',
    digits: 3,
    value: (r, c) => latency(r, c)?.p50Ms,
  },
  {
    id: 'seq.p90',
    label: 'Sequential acquire+release p90',
    short: 'seq p90',
    unit: 'ms',
    better: 'lower',
    digits: 3,
    value: (r, c) => latency(r, c)?.p90Ms,
  },
  {
    id: 'seq.p99',
    label: 'Sequential acquire+release p99',
    short: 'seq p99',
    unit: 'ms',
    better: 'lower',
    digits: 3,
    value: (r, c) => latency(r, c)?.p99Ms,
  },
  {
    id: 'tp.c1',
    label: 'Throughput, distinct keys, concurrency 1',
    short: 'ops/s c1',
    unit: 'ops/s',
    better: 'higher',
    digits: 0,
    value: (r, c) => tp('throughput-1')(r, c)?.opsPerSec,
  },
  {
    id: 'tp.c16',
    label: 'Throughput, distinct keys, concurrency 16',
    short: 'ops/s c16',
    unit: 'ops/s',
    better: 'higher',
    digits: 0,
    value: (r, c) => tp('throughput-16')(r, c)?.opsPerSec,
  },
  {
    id: 'tp.c128',
    label: 'Throughput, distinct keys, concurrency 128',
    short: 'ops/s c128',
    unit: 'ops/s',
    better: 'higher',
    digits: 0,
    value: (r, c) => tp('throughput-128')(r, c)?.opsPerSec,
  },
  {
    id: 'cpu.c1',
    label: 'Client CPU per acquire+release, concurrency 1',
    short: 'CPU/op c1',
    unit: 'µs',
    better: 'lower',
    digits: 1,
    value: (r, c) => tp('throughput-1')(r, c)?.cpuUsPerOp,
  },
  {
    id: 'cpu.c16',
    label: 'Client CPU per acquire+release, concurrency 16',
    short: 'CPU/op c16',
    unit: 'µs',
    better: 'lower',
    digits: 1,
    value: (r, c) => tp('throughput-16')(r, c)?.cpuUsPerOp,
  },
  {
    id: 'cpu.user.c16',
    label: '… of which user time (JS, V8, GC)',
    short: 'user/op c16',
    unit: 'µs',
    better: 'lower',
    digits: 1,
    value: (r, c) => tp('throughput-16')(r, c)?.cpuUserUsPerOp,
  },
  {
    id: 'cpu.sys.c16',
    label: '… of which system time (socket syscalls)',
    short: 'sys/op c16',
    unit: 'µs',
    better: 'lower',
    digits: 1,
    value: (r, c) => tp('throughput-16')(r, c)?.cpuSystemUsPerOp,
  },
  {
    id: 'writes.c16',
    label: 'write(2) syscalls per acquire+release, concurrency 16',
    short: 'writes/op c16',
    unit: 'calls',
    better: 'lower',
    digits: 2,
    value: (r, c) => tp('throughput-16')(r, c)?.writesPerOp,
  },
  {
    id: 'alloc.c16',
    label: 'Heap allocated per acquire+release, concurrency 16',
    short: 'alloc/op c16',
    unit: 'KiB',
    better: 'lower',
    digits: 2,
    value: (r, c) => {
      const v = tp('throughput-16')(r, c)?.allocBytesPerOp;
      return v === undefined ? undefined : v / 1024;
    },
  },
  {
    id: 'cpu.c128',
    label: 'Client CPU per acquire+release, concurrency 128',
    short: 'CPU/op c128',
    unit: 'µs',
    better: 'lower',
    digits: 1,
    value: (r, c) => tp('throughput-128')(r, c)?.cpuUsPerOp,
  },
  {
    id: 'cont.rate',
    label: 'Contention: acquisitions per second (8 workers, one key)',
    short: 'contention acq/s',
    unit: 'acq/s',
    better: 'higher',
    digits: 0,
    value: (r, c) => contention(r, c)?.acquisitionsPerSec,
  },
  {
    id: 'cont.wait50',
    label: 'Contention: wait p50',
    short: 'wait p50',
    unit: 'ms',
    better: 'lower',
    digits: 2,
    value: (r, c) => contention(r, c)?.waitP50Ms,
  },
  {
    id: 'cont.wait99',
    label: 'Contention: wait p99',
    short: 'wait p99',
    unit: 'ms',
    better: 'lower',
    digits: 1,
    value: (r, c) => contention(r, c)?.waitP99Ms,
  },
  {
    id: 'cont.jain',
    label: "Contention: Jain's fairness index",
    short: 'Jain',
    unit: '',
    better: 'higher',
    digits: 3,
    value: (r, c) => contention(r, c)?.jain,
  },
  {
    id: 'cont.repeat',
    label: 'Contention: share of acquisitions won by the worker that released last',
    short: 'back-to-back',
    unit: '%',
    better: 'lower',
    digits: 1,
    value: (r, c) => {
      const v = contention(r, c)?.backToBackShare;
      return v === undefined ? undefined : v * 100;
    },
  },
  {
    id: 'cont.cmds',
    label: 'Contention: Redis commands per acquisition (INFO commandstats, 5 nodes)',
    short: 'cmds/acq',
    unit: 'cmds',
    better: 'lower',
    digits: 1,
    value: (r, c) => contention(r, c)?.commandsPerAcquisition,
  },
  {
    id: 'cont.sent',
    label: 'Contention: commands sent by the clients per acquisition',
    short: 'sent/acq',
    unit: 'cmds',
    better: 'lower',
    digits: 1,
    value: (r, c) => contention(r, c)?.sentPerAcquisition,
  },
  {
    id: 'scale.n3',
    label: 'Scaling: CPU per op at N=3 over N=1 (concurrency 16)',
    short: 'cost N3/N1',
    unit: '×',
    better: 'lower',
    digits: 2,
    value: (r, c) => ratio(tp('scaling-n3')(r, c)?.cpuUsPerOp, tp('scaling-n1')(r, c)?.cpuUsPerOp),
  },
  {
    id: 'scale.node',
    label: 'Scaling: CPU per op per extra node, (N=5 − N=1) / 4',
    short: 'µs per node',
    unit: 'µs',
    better: 'lower',
    digits: 1,
    value: (r, c) => {
      const n5 = tp('scaling-n5')(r, c)?.cpuUsPerOp;
      const n1 = tp('scaling-n1')(r, c)?.cpuUsPerOp;
      return n5 === undefined || n1 === undefined ? undefined : (n5 - n1) / 4;
    },
  },
  {
    id: 'scale.n5',
    label: 'Scaling: CPU per op at N=5 over N=1 (concurrency 16)',
    short: 'cost N5/N1',
    unit: '×',
    better: 'lower',
    digits: 2,
    value: (r, c) => ratio(tp('scaling-n5')(r, c)?.cpuUsPerOp, tp('scaling-n1')(r, c)?.cpuUsPerOp),
  },
];
