/**
 * Where does a contender spend its CPU? Runs one contender's throughput workload on 5 fresh local
 * nodes (or QUORUMLOCK_NODES) under the V8 sampling profiler, writes the .cpuprofile (open it in
 * Chrome DevTools or speedscope) and prints self time by area and by function.
 *
 *   npx tsx --expose-gc bench/profile.ts [--contender quorumlock] [--concurrency 16] [--seconds 5]
 *
 * The same as `node --cpu-prof` on that workload, restricted to the measured window (no start-up,
 * no node start, no warm-up in the profile).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { NodeSet, parseAddress } from '../tools/nodes.js';
import { CONTENDERS } from './contenders/index.js';
import { openThroughput } from './workloads.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE_AREA = 'idle (waiting for I/O)';
const QUORUMLOCK_AREA = 'quorumlock (dist/ or src/)';
const SYSCALL_AREA = 'socket write syscalls (incl. kernel loopback delivery)';

function area(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return IDLE_AREA;
  if (functionName === '(program)') return 'V8/native (program)';
  if (/^write(Utf8String|Latin1String|Buffer|v)$/.test(functionName) && url === '') {
    return SYSCALL_AREA;
  }
  if (url === '') return 'native / builtins';
  if (url.startsWith('node:')) return 'node internals (net, streams, timers, crypto)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (nm) return nm[1] === 'ioredis' ? 'ioredis' : `node_modules/${nm[1]}`;
  const rel = relative(ROOT, path);
  if (rel.startsWith('src/') || rel.startsWith('dist/')) return QUORUMLOCK_AREA;
  if (rel.startsWith('bench/')) return 'bench harness';
  return rel;
}

function where(node: ProfileNode): string {
  const { url, functionName, lineNumber } = node.callFrame;
  const path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url;
  return `${functionName || '(anonymous)'} ${path ? `${path.replace(/^node_modules\//, '')}:${lineNumber + 1}` : ''}`.trim();
}

function summarise(profile: Profile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const idle = [...self].reduce(
    (sum, [id, us]) => (byId.get(id)!.callFrame.functionName === '(idle)' ? sum + us : sum),
    0,
  );
  const busy = total - idle;
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    byArea.set(area(node), (byArea.get(area(node)) ?? 0) + us);
    const key = where(node);
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  // Inclusive time of quorumlock's own functions (a frame counted once per stack).
  const inclusive = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  for (const [id, us] of self) {
    if (area(byId.get(id)!) === SYSCALL_AREA) continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)!;
      if (area(node) !== QUORUMLOCK_AREA) continue;
      const key = where(node);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const writes = byArea.get(SYSCALL_AREA) ?? 0;
  const rest = busy - writes;
  const pct = (us: number) => `${((100 * us) / rest).toFixed(1).padStart(5)}%`;
  const lines = [
    `sampled ${(total / 1000).toFixed(0)} ms: idle ${(idle / 1000).toFixed(0)} ms, inside socket write syscalls ${(writes / 1000).toFixed(0)} ms, the rest ${(rest / 1000).toFixed(0)} ms.`,
    'The sampler runs on wall-clock time, so a thread preempted inside write(2) (the woken redis-server',
    'taking its core) is counted there: judge the syscall share by the user/system split above.',
    'Percentages below are of "the rest" (JavaScript, V8, GC, native code other than the socket writes).',
    '',
    'Self time by area:',
  ];
  for (const [name, us] of [...byArea].sort((a, b) => b[1] - a[1])) {
    if (name !== IDLE_AREA && name !== SYSCALL_AREA) lines.push(`  ${pct(us)}  ${name}`);
  }
  lines.push('', 'Top functions by self time:');
  const top = [...byFunction].filter(
    ([name]) => name !== '(idle)' && !/^write(Utf8String|Latin1String|Buffer|v)$/.test(name),
  );
  for (const [name, us] of top.sort((a, b) => b[1] - a[1]).slice(0, 30)) lines.push(`  ${pct(us)}  ${name}`);
  lines.push('', 'quorumlock functions by inclusive time (callees included, socket writes excluded):');
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 20))
    lines.push(`  ${pct(us)}  ${name}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      contender: { type: 'string', default: 'quorumlock' },
      concurrency: { type: 'string', default: '16' },
      seconds: { type: 'string', default: '5' },
    },
  });
  const spec = CONTENDERS.find((c) => c.id === values.contender);
  if (spec === undefined)
    throw new Error(
      `unknown contender ${values.contender}; known: ${CONTENDERS.map((c) => c.id).join(', ')}`,
    );
  const concurrency = Number(values.concurrency);
  const ms = Number(values.seconds) * 1000;
  process.removeAllListeners('warning');

  const fromEnv = NodeSet.fromEnv();
  const nodes = fromEnv === undefined ? await NodeSet.start(5, { persistence: 'none' }) : undefined;
  const addresses = (fromEnv ?? nodes!.addresses).slice(0, 5);
  const admins = addresses.map(
    (a) => new Redis({ ...parseAddress(a), lazyConnect: true, maxRetriesPerRequest: 0 }),
  );
  const session = new Session();
  try {
    await Promise.all(admins.map((a) => a.connect()));
    const runner = await openThroughput(
      spec,
      { addresses, admins, warmupMs: 1000, ttlMs: 10_000, keyPrefix: `qlprof:${Date.now()}` },
      concurrency,
    );
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    await runner.slice(ms);
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    const result = runner.result();
    await runner.close();
    const out = join(ROOT, 'bench', 'results', 'raw', `${spec.id}-c${concurrency}.cpuprofile`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify(profile));
    console.log(
      `${spec.label}, concurrency ${concurrency}, ${values.seconds} s: ${result.opsPerSec.toFixed(0)} ops/s, ${result.cpuUsPerOp.toFixed(1)} µs CPU/op (user ${result.cpuUserUsPerOp.toFixed(1)}, system ${result.cpuSystemUsPerOp.toFixed(1)}), ${result.writesPerOp.toFixed(2)} write syscalls/op, ${(result.allocBytesPerOp / 1024).toFixed(1)} KiB/op (under the profiler)`,
    );
    console.log(`profile: ${relative(ROOT, out)}\n`);
    console.log(summarise(profile));
  } finally {
    session.disconnect();
    await Promise.all(admins.map((a) => a.quit()));
    await nodes?.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
