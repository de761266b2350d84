/**
 * Real Redis Clusters for integration and fault tests: each cluster is `masters` redis-server
 * processes started with `--cluster-enabled yes` (a small `cluster-node-timeout`, no replicas)
 * and joined with `redis-cli --cluster create`. Every process is a {@link RedisNode}: a child of
 * the test process, stopped by its PID, on a free port.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort, RedisNode, type RedisNodeOptions } from './nodes.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 30_000;

/** Path of a Redis tool (`redis-cli`, `redis-sentinel`) on PATH, /usr/bin or /usr/local/bin. */
export function redisToolPath(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${name} not found on PATH, /usr/bin or /usr/local/bin (Debian: apt-get install redis-tools)`,
  );
}

/** Poll `check` every 50 ms until it is true, at most `timeoutMs`. @throws Error naming `what` */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** One Redis Cluster of independent masters (no replicas). */
export class RedisCluster {
  private constructor(readonly masters: RedisNode[]) {}

  /**
   * Start `masters` cluster-enabled servers on free ports and join them into one cluster
   * covering all 16384 slots; resolves once every master reports `cluster_state:ok`.
   */
  static async start(
    masters = 3,
    options: Omit<RedisNodeOptions, 'port' | 'dir'> & { nodeTimeoutMs?: number } = {},
  ): Promise<RedisCluster> {
    const { nodeTimeoutMs = 500, ...nodeOptions } = options;
    const ports: number[] = [];
    while (ports.length < masters) {
      const port = await freePort();
      // The cluster bus listens on port + 10000: both must be usable.
      if (port + 10000 <= 65535 && !ports.includes(port)) ports.push(port);
    }
    const results = await Promise.allSettled(
      ports.map((port) =>
        RedisNode.start({
          persistence: 'none',
          ...nodeOptions,
          port,
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            ...(nodeOptions.extraArgs ?? []),
          ],
        }),
      ),
    );
    const nodes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const cluster = new RedisCluster(nodes);
    try {
      const failure = results.find((r) => r.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      await run(
        redisToolPath('redis-cli'),
        ['--cluster', 'create', ...cluster.addresses, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: READY_TIMEOUT_MS },
      );
      await cluster.waitUntilOk();
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** `127.0.0.1:port` of every master. */
  get addresses(): string[] {
    return this.masters.map((m) => m.address);
  }

  /** `{ host, port }` of every master, the seed list cluster clients take. */
  get seeds(): Array<{ host: string; port: number }> {
    return this.masters.map((m) => ({ host: m.host, port: m.port }));
  }

  /** Resolve once every running master says `cluster_state:ok` (bounded). */
  async waitUntilOk(): Promise<void> {
    await waitFor(`cluster ${this.addresses.join(',')} ok`, async () => {
      const states = await Promise.all(
        this.masters.filter((m) => m.running).map((m) => m.command('CLUSTER', 'INFO')),
      );
      return states.every((s) => /^cluster_state:ok\r?$/m.test(String(s)));
    });
  }

  /** The master serving `key`'s slot (asked of the first running master). */
  async masterOf(key: string): Promise<RedisNode> {
    const any = this.masters.find((m) => m.running);
    if (any === undefined) throw new Error('masterOf: no master running');
    const slot = Number(await any.command('CLUSTER', 'KEYSLOT', key));
    const slots = (await any.command('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    const port = range?.[2][1];
    const master = this.masters.find((m) => m.port === port);
    if (master === undefined) throw new Error(`masterOf: slot ${slot} of ${key} has no known master`);
    return master;
  }

  /** Stop every master (by PID) and delete their directories. */
  async dispose(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.dispose()));
  }
}

/** Several independent clusters, started in parallel; on any failure the others are disposed. */
export async function startClusters(count: number, masters = 3): Promise<RedisCluster[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => RedisCluster.start(masters)));
  const clusters = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(clusters.map((c) => c.dispose()));
    throw failure.reason;
  }
  return clusters;
}
