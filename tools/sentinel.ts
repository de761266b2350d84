/**
 * A Sentinel-managed master for integration tests: a master, one replica and one `redis-sentinel`
 * (quorum 1), each a child process of the test process on a free port, stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './cluster.js';
import { adminClient, closeClient, exitOf, freePort, RedisNode, redisServerPath } from './nodes.js';

export const MASTER_NAME = 'mymaster';

export class SentinelSet {
  private admin: ReturnType<typeof adminClient> | undefined;
  private constructor(
    /** The servers, in start order: `servers[0]` is the first master, `servers[1]` its replica. */
    readonly servers: RedisNode[],
    readonly sentinelPort: number,
    private readonly sentinel: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly dir: string,
  ) {}

  /** Start master, replica and sentinel; resolves once the sentinel sees the replica in sync. */
  static async start(): Promise<SentinelSet> {
    // Diskless full sync at once (the default waits 5 s for more replicas).
    const master = await RedisNode.start({
      persistence: 'none',
      extraArgs: ['--repl-diskless-sync-delay', '0'],
    });
    const servers = [master];
    let set: SentinelSet | undefined;
    const dir = await mkdtemp(join(tmpdir(), 'quorumlock-sentinel-'));
    try {
      servers.push(
        await RedisNode.start({
          persistence: 'none',
          extraArgs: ['--replicaof', '127.0.0.1', String(master.port), '--repl-diskless-sync-delay', '0'],
        }),
      );
      const port = await freePort();
      await writeFile(
        join(dir, 'sentinel.conf'),
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'daemonize no',
          'protected-mode no',
          `dir ${dir}`,
          `logfile ${join(dir, 'sentinel.log')}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          '',
        ].join('\n'),
      );
      const log = openSync(join(dir, 'sentinel.out'), 'a');
      let child: ChildProcess;
      try {
        // `redis-server --sentinel` is what the redis-sentinel binary runs: no extra package.
        child = spawn(redisServerPath(), [join(dir, 'sentinel.conf'), '--sentinel'], {
          stdio: ['ignore', log, log],
        });
      } finally {
        closeSync(log);
      }
      set = new SentinelSet(servers, port, child, exitOf(child), dir);
      await set.waitUntilReplicaReady();
      return set;
    } catch (error) {
      if (set) await set.dispose();
      else {
        await Promise.all(servers.map((s) => s.dispose()));
        await rm(dir, { recursive: true, force: true });
      }
      throw error;
    }
  }

  /** `{ host, port }` of the sentinel, the list clients take. */
  get sentinels(): Array<{ host: string; port: number }> {
    return [{ host: '127.0.0.1', port: this.sentinelPort }];
  }

  /** One `SENTINEL <args>` command. */
  command(...args: string[]): Promise<unknown> {
    // A fresh admin client after the last one ended (refused while the sentinel was starting).
    if (this.admin?.status === 'end') this.admin = undefined;
    this.admin ??= adminClient(`127.0.0.1:${this.sentinelPort}`);
    return this.admin.call('SENTINEL', ...args);
  }

  /** The server the sentinel names as master now. */
  async master(): Promise<RedisNode> {
    const [, port] = (await this.command('GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
    const server = this.servers.find((s) => s.port === Number(port));
    if (server === undefined) throw new Error(`sentinel names an unknown master on port ${port}`);
    return server;
  }

  /** Bounded: until the sentinel knows a replica that is up and linked to its master. */
  async waitUntilReplicaReady(): Promise<void> {
    await waitFor('sentinel sees an in-sync replica', async () => {
      const replicas = (await this.command('REPLICAS', MASTER_NAME)) as string[][];
      return replicas.some((fields) => {
        const f = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
        return f.get('flags') === 'slave' && f.get('master-link-status') === 'ok';
      });
    });
  }

  /**
   * `SENTINEL FAILOVER`, then wait (bounded) until the sentinel names the replica as master, the
   * replica says `role:master` and the old master `role:slave` (until then it still takes writes
   * from clients that have not moved). Returns the new master.
   */
  async failover(): Promise<RedisNode> {
    const old = await this.master();
    await this.command('FAILOVER', MASTER_NAME);
    let promoted: RedisNode | undefined;
    await waitFor('failover done', async () => {
      const now = await this.master();
      if (now === old) return false;
      promoted = now;
      const role = async (s: RedisNode) =>
        /^role:(\w+)/m.exec(String(await s.command('INFO', 'replication')))?.[1];
      return (await role(now)) === 'master' && (!old.running || (await role(old)) === 'slave');
    });
    return promoted!;
  }

  /** Stop the sentinel (by PID), then the servers; delete the sentinel's directory. */
  async dispose(): Promise<void> {
    if (this.admin) await closeClient(this.admin);
    if (this.sentinel.exitCode === null && this.sentinel.signalCode === null) {
      this.sentinel.kill('SIGTERM');
      let exited = false;
      void this.exited.then(() => {
        exited = true;
      });
      await waitFor('redis-sentinel exits', async () => exited, 10_000).catch(() => {
        this.sentinel.kill('SIGKILL');
      });
      await this.exited;
    }
    await Promise.all(this.servers.map((s) => s.dispose()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
