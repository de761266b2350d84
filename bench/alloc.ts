/**
 * Where does quorumlock allocate? Runs sequential acquire+release (concurrency 1) on 5 fresh local
 * nodes under V8's sampling heap profiler, counting objects that were collected too, and prints
 * the bytes allocated per operation by the function that allocated them.
 *
 *   npm run build && npx tsx bench/alloc.ts [--ops 5000]
 *
 * A companion of profile.ts (CPU): allocation drives GC time and the p99 of the sequential rows.
 */
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type * as Quorumlock from '../src/index.js';
import { NodeSet } from '../tools/nodes.js';
import { distProblem, QUORUMLOCK_DIST } from './contenders/quorumlock.js';

interface SampledNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampledNode[];
}

const { values } = parseArgs({ options: { ops: { type: 'string', default: '5000' } } });
const ops = Number(values.ops);
const problem = distProblem();
if (problem !== undefined) throw new Error(problem);
const { ioredisAdapter, Redlock } = (await import(pathToFileURL(QUORUMLOCK_DIST).href)) as typeof Quorumlock;
const set = await NodeSet.start(5, { persistence: 'none' });
const clients = set.addresses.map((address) => {
  const [host, port] = address.split(':');
  return new Redis({ host: host!, port: Number(port), maxRetriesPerRequest: 0 });
});
try {
  const redlock = new Redlock(
    clients.map((client, i) => ioredisAdapter(client, { endpoint: set.addresses[i]! })),
    { retryCount: 0 },
  );
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) await (await redlock.acquire(`alloc:${i}`, 10_000)).release();
  };
  await run(2_000); // warm-up: JIT, script cache, first-contact INFO
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await run(ops);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampledNode } };
  session.disconnect();
  const bySite = new Map<string, number>();
  const walk = (node: SampledNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}`;
    if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const total = [...bySite.values()].reduce((a, b) => a + b, 0);
  console.log(`${(total / ops / 1024).toFixed(1)} KiB allocated per acquire+release (sampled)`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${(bytes / ops).toFixed(0).padStart(7)} B/op  ${site}`);
  }
} finally {
  for (const client of clients) client.disconnect();
  await set.dispose();
}
