/**
 * Real `redis-server` processes for integration and fault tests: start, stop, kill -9, SIGSTOP,
 * restart with or without persistence, and roll a node's data back to a snapshot.
 *
 * Every node binds 127.0.0.1 only. A node started here is a child of the test process; a
 * process-exit hook SIGKILLs any that a test forgot to dispose (ours only, by PID).
 */
import type { ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  adminClient,
  closeClient,
  DATA_FILES,
  exitOf,
  freePort,
  KILL_TIMEOUT_MS,
  type Persistence,
  parseAddress,
  type RedisNodeOptions,
  STOP_TIMEOUT_MS,
  settlesWithin,
  spawnRedisServer,
  track,
  waitUntilAnswering,
} from './redis-process.js';

export * from './redis-process.js';

/** Options for {@link RedisNode.restart}. */
export interface RestartOptions {
  /** Wait this long before starting (a delayed restart, docs/spec.md). @default 0 */
  delayMs?: number;
  /** Persistence from now on (also for later restarts). @default unchanged */
  persistence?: Persistence;
  /** Delete the data files first (a node that lost its disk). @default false */
  wipe?: boolean;
}

/** One `redis-server` child process on 127.0.0.1 with its own directory. */
export class RedisNode {
  readonly host = '127.0.0.1';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  private admin: Redis | undefined;
  private readonly snapshots: string[] = [];

  private constructor(
    readonly port: number,
    readonly dir: string,
    private options: RedisNodeOptions,
    private readonly ownsDir: boolean,
  ) {}

  /** Start a node and wait (at most ~10 s) until it answers with its data loaded. */
  static async start(options: RedisNodeOptions = {}): Promise<RedisNode> {
    const port = options.port ?? (await freePort());
    const ownsDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'quorumlock-node-')));
    const node = new RedisNode(port, dir, options, ownsDir);
    try {
      await node.launch();
    } catch (error) {
      await node.dispose();
      throw error;
    }
    return node;
  }

  /** `127.0.0.1:port`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** PID of the running process; undefined while the node is down. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True from the spawn until the process's exit is observed (also while paused). */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Graceful shutdown: SIGTERM (after SIGCONT if paused), escalating to SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.running) {
      if (this.paused) this.resume();
      this.signal('SIGTERM');
      if (!(await settlesWithin(this.exited, STOP_TIMEOUT_MS))) await this.kill();
    }
    await this.closeAdmin();
  }

  /** Crash: SIGKILL (works on a paused node too), then wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) {
      this.signal('SIGKILL');
      if (!(await settlesWithin(this.exited, KILL_TIMEOUT_MS))) {
        throw new Error(
          `redis-server ${this.address} (pid ${this.child?.pid}) survived SIGKILL for ${KILL_TIMEOUT_MS} ms`,
        );
      }
    }
    await this.closeAdmin();
  }

  /** Freeze the process (SIGSTOP): connections still open, nothing is answered, keys do not expire. */
  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  /** Undo {@link pause} (SIGCONT). */
  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /**
   * Start a stopped or killed node again on the same port and directory.
   * With persistence 'none' an old AOF stays on disk (unused); switching back to 'aof-always'
   * later would load it again, so pass `wipe: true` when that matters.
   * @throws Error if the node is still running (choose `stop()` or `kill()` first)
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    if (this.running) throw new Error(`restart: ${this.address} is still running; stop() or kill() it first`);
    if (options.persistence !== undefined) {
      this.options = { ...this.options, persistence: options.persistence };
    }
    if (options.wipe === true) await this.wipeData();
    if (options.delayMs !== undefined && options.delayMs > 0) await sleep(options.delayMs);
    await this.launch();
  }

  /**
   * Copy the node's data files to a new temp directory and return its path (removed by `dispose()`).
   * With 'aof-always' every acknowledged write is on disk, so this works on a running node too.
   */
  async snapshotData(): Promise<string> {
    const snapshot = await mkdtemp(join(tmpdir(), 'quorumlock-snapshot-'));
    this.snapshots.push(snapshot);
    await copyDataFiles(this.dir, snapshot);
    return snapshot;
  }

  /** Replace the node's data files with a snapshot (rolled-back data). The node must be down. */
  async restoreData(snapshot: string): Promise<void> {
    if (this.running) throw new Error(`restoreData: ${this.address} is running; stop() or kill() it first`);
    await this.wipeData();
    await copyDataFiles(snapshot, this.dir);
  }

  /**
   * Run one command through this node's admin client (see {@link adminClient}), created on first
   * use and again after the node went down. Example: `node.command('PEXPIRE', key, 1)`.
   */
  command(...args: (string | number)[]): Promise<unknown> {
    const [name, ...rest] = args;
    if (name === undefined) return Promise.reject(new Error('command: no command name given'));
    if (this.admin?.status === 'end') this.admin = undefined;
    this.admin ??= adminClient(this.address);
    return this.admin.call(String(name), ...rest);
  }

  /** Stop the process if running, close the admin client, delete snapshots and the temp dir we created. */
  async dispose(): Promise<void> {
    await this.stop();
    await Promise.all(this.snapshots.splice(0).map((s) => rm(s, { recursive: true, force: true })));
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = await spawnRedisServer(
      { ...this.options, port: this.port, dir: this.dir },
      { detached: false },
    );
    this.child = child;
    this.paused = false;
    this.exited = exitOf(child).then(() => {
      if (this.child !== child) return;
      this.child = undefined;
      this.paused = false;
    });
    if (child.pid !== undefined) track(child.pid, this.exited);
    await waitUntilAnswering(child, this.port, this.dir, this.exited);
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`${signal}: ${this.address} is not running`);
    this.child!.kill(signal);
  }

  private async closeAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin !== undefined) await closeClient(admin);
  }

  private async wipeData(): Promise<void> {
    await Promise.all(DATA_FILES.map((f) => rm(join(this.dir, f), { recursive: true, force: true })));
  }
}

/** Copy whichever data files exist from one directory to another. */
async function copyDataFiles(from: string, to: string): Promise<void> {
  await Promise.all(
    DATA_FILES.map((f) =>
      cp(join(from, f), join(to, f), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    ),
  );
}

/** N distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let attempt = 0; ports.size < count && attempt < count * 10; attempt++) ports.add(await freePort());
  if (ports.size < count) throw new Error(`could not find ${count} distinct free ports`);
  return [...ports];
}

/** Independent Redis masters (not a cluster, no replication), each its own process and directory. */
export class NodeSet {
  private constructor(readonly nodes: RedisNode[]) {}

  /** Start `count` nodes in parallel on distinct free ports; on any failure, dispose the others. */
  static async start(count = 5, options: Omit<RedisNodeOptions, 'port' | 'dir'> = {}): Promise<NodeSet> {
    const ports = await freePorts(count);
    const results = await Promise.allSettled(ports.map((port) => RedisNode.start({ ...options, port })));
    const nodes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all(nodes.map((n) => n.dispose()));
      throw failure.reason;
    }
    return new NodeSet(nodes);
  }

  /**
   * Addresses from `QUORUMLOCK_NODES` (comma-separated `host:port`), or undefined when unset or empty.
   * @throws Error on a malformed or repeated address
   */
  static fromEnv(): string[] | undefined {
    const raw = process.env.QUORUMLOCK_NODES?.trim();
    if (raw === undefined || raw === '') return undefined;
    const addresses = raw.split(',').map((a) => a.trim());
    for (const address of addresses) {
      try {
        parseAddress(address);
      } catch (error) {
        throw new Error(`QUORUMLOCK_NODES=${JSON.stringify(raw)}: ${(error as Error).message}`);
      }
    }
    const repeated = addresses.find((a, i) => addresses.indexOf(a) !== i);
    if (repeated !== undefined) throw new Error(`QUORUMLOCK_NODES lists ${repeated} twice`);
    return addresses;
  }

  /** `127.0.0.1:port` of every node, in order. */
  get addresses(): string[] {
    return this.nodes.map((n) => n.address);
  }

  /** Dispose every node. */
  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose()));
  }
}
