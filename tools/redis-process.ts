/**
 * The redis-server process helpers under the node manager (tools/nodes.ts): the command line,
 * spawning, waiting until our own process answers, free ports, admin clients, and the exit hook
 * that SIGKILLs any node a test forgot to stop (ours only, by PID).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';

/** How a node keeps its data across a restart. */
export type Persistence = 'none' | 'aof-always';

/** Options for one `redis-server` process. */
export interface RedisNodeOptions {
  /** TCP port on 127.0.0.1. @default a free port */
  port?: number;
  /** Working directory (data files and `redis.log`); created if missing, never deleted. @default a fresh temp dir, deleted by `dispose()` */
  dir?: string;
  /** `aof-always`: `--appendonly yes --appendfsync always`; `none`: no AOF. RDB saving is always off. @default 'aof-always' */
  persistence?: Persistence;
  /** @default 'noeviction' */
  maxmemoryPolicy?: string;
  /** For example `'1mb'`. @default unlimited */
  maxmemory?: string;
  /** Appended last, so they override everything above. */
  extraArgs?: readonly string[];
}

/** Options that fully determine a `redis-server` command line. */
export type RedisServerOptions = RedisNodeOptions & { port: number; dir: string };

/** Files a node persists its data in, inside its `dir`. */
export const DATA_FILES = ['appendonlydir', 'appendonly.aof', 'dump.rdb'] as const;
export const START_TIMEOUT_MS = 10_000;
export const STOP_TIMEOUT_MS = 10_000;
export const KILL_TIMEOUT_MS = 5_000;

/**
 * Path of the `redis-server` binary: the first one on PATH, else /usr/bin or /usr/local/bin.
 * @throws Error explaining how to install it, or how to use existing nodes instead
 */
export function redisServerPath(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  throw new Error(
    'redis-server not found on PATH, /usr/bin or /usr/local/bin. Install it ' +
      '(Debian/Ubuntu as root: `apt-get install -y redis-server`; macOS: `brew install redis`), ' +
      'or point the tests at running nodes with QUORUMLOCK_NODES=127.0.0.1:7001,127.0.0.1:7002,...',
  );
}

/** Command-line arguments for `redis-server` (shared by the test nodes and `scripts/nodes.ts`). */
export function redisServerArgs(options: RedisServerOptions): string[] {
  const persistence =
    (options.persistence ?? 'aof-always') === 'aof-always'
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--dir',
    options.dir,
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    '--enable-debug-command',
    'local',
    '--save',
    '',
    ...persistence,
    '--maxmemory-policy',
    options.maxmemoryPolicy ?? 'noeviction',
    ...(options.maxmemory === undefined ? [] : ['--maxmemory', options.maxmemory]),
    '--logfile',
    logFilePath(options.dir),
    ...(options.extraArgs ?? []),
  ];
}

/** Where a node started in `dir` writes its log. */
function logFilePath(dir: string): string {
  return join(dir, 'redis.log');
}

/**
 * Spawn `redis-server` with stdout and stderr appended to its log file (so fatal start-up errors,
 * which Redis prints before it opens the log, end up there too). `detached` processes outlive us
 * once the caller unrefs them.
 */
export async function spawnRedisServer(
  options: RedisServerOptions,
  spawnOptions: { detached: boolean },
): Promise<ChildProcess> {
  const binary = redisServerPath();
  await mkdir(options.dir, { recursive: true });
  const log = openSync(logFilePath(options.dir), 'a');
  try {
    return spawn(binary, redisServerArgs(options), {
      detached: spawnOptions.detached,
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
}

/** A promise that settles once `child` has exited (or failed to spawn). Never rejects. */
export function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

/** Resolves true if `exited` settles within `ms`, false otherwise; leaves no timer behind. */
export async function settlesWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  const timedOut = sleep(ms, false, { signal: timeout.signal }).catch(() => false);
  const result = await Promise.race([exited.then(() => true), timedOut]);
  timeout.abort();
  return result;
}

/** A free TCP port on 127.0.0.1 (bound to port 0, read, closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('freePort: no port assigned'))));
    });
  });
}

/**
 * The PID of the Redis server on 127.0.0.1:`port`, read from `INFO server persistence`, or undefined
 * if nothing answers within `timeoutMs` or the server is still loading its data. Comparing it with
 * the PID we spawned tells our node apart from another process already holding the port.
 */
export function answeringPid(port: number, timeoutMs = 500): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const finish = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
    socket.once('connect', () => socket.write('*3\r\n$4\r\nINFO\r\n$6\r\nserver\r\n$11\r\npersistence\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const info = completeBulkString(received);
      if (info === null) finish(undefined);
      else if (info !== undefined) finish(/^loading:0\r?$/m.test(info) ? pidIn(info) : undefined);
    });
  });
}

/** The text of a complete RESP bulk string reply; undefined while incomplete; null for any other reply. */
function completeBulkString(reply: Buffer): string | undefined | null {
  const headerEnd = reply.indexOf('\r\n');
  if (headerEnd < 0) return undefined;
  if (reply[0] !== 0x24 /* $ */) return null;
  const length = Number(reply.subarray(1, headerEnd).toString('latin1'));
  const bodyStart = headerEnd + 2;
  if (reply.length < bodyStart + length) return undefined;
  return reply.subarray(bodyStart, bodyStart + length).toString('latin1');
}

function pidIn(info: string): number | undefined {
  const match = /^process_id:(\d+)\r?$/m.exec(info);
  return match === null ? undefined : Number(match[1]);
}

/** The last `lines` lines of a node's log, for error messages. */
async function logTail(dir: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(logFilePath(dir), 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Wait until the freshly spawned `child` itself (not some other process on `port`) answers with its
 * data loaded, polling every 25 ms for at most `timeoutMs`.
 * @throws Error with the log tail if the process exits first or the time runs out
 */
export async function waitUntilAnswering(
  child: ChildProcess,
  port: number,
  dir: string,
  exited: Promise<void>,
  timeoutMs = START_TIMEOUT_MS,
): Promise<void> {
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = performance.now() + timeoutMs;
  while (!hasExited && performance.now() < deadline) {
    if ((await answeringPid(port)) === child.pid) return;
    await sleep(25);
  }
  const why = hasExited ? 'exited during start-up' : `did not answer within ${timeoutMs} ms`;
  throw new Error(
    `redis-server on 127.0.0.1:${port} ${why}; ${logFilePath(dir)} ends with:\n${await logTail(dir)}`,
  );
}

/** Split `host:port` (IPv6 as `[::1]:port`). @throws Error naming the malformed address */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new Error(
      `malformed node address ${JSON.stringify(address)}: expected host:port, e.g. 127.0.0.1:7001`,
    );
  }
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * An ioredis client for test set-up and fault injection that can neither hang nor reconnect forever:
 * - `retryStrategy: () => null`: once the connection drops the client ends for good (no background
 *   reconnect loop); later commands fail at once with "Connection is closed".
 * - `enableOfflineQueue` stays on, but without reconnects it only holds commands during the single
 *   initial connect (bounded by `connectTimeout`), so the client is usable right after construction.
 * - `maxRetriesPerRequest: 0`: a command is never resent after a disconnect (faults are not masked).
 * - `commandTimeout: 10_000`: even a command to a SIGSTOPped node settles (rejects) eventually.
 * - `enableReadyCheck: false`: no INFO round trip before the first command. Closing a client whose
 *   ready check is still pending (a paused or black-holed node) makes ioredis disconnect a second
 *   time and leaves a 2 s timer behind; without the check there is nothing to fail.
 * - `lazyConnect`: no socket until the first command. Connection errors reject the pending commands,
 *   so the `error` event is silenced instead of being logged as unhandled.
 * The caller owns the client and closes it with {@link closeClient}. `overrides` replace any of these options.
 */
export function adminClient(address: string, overrides: RedisOptions = {}): Redis {
  const { host, port } = parseAddress(address);
  // ioredis 6's constructor types `replyMapping` without `undefined` (exactOptionalPropertyTypes).
  const client = new Redis({
    host,
    port,
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 10_000,
    commandTimeout: 10_000,
    ...overrides,
  } as RedisOptions & { replyMapping?: 'legacy' });
  client.on('error', () => {});
  return client;
}

/**
 * Disconnect an ioredis client and wait until it has closed (bounded by its `disconnectTimeout`,
 * 2 s by default). A client that has already ended is left alone: disconnecting it again would
 * start a timer that nothing clears for those 2 s. A client waiting to reconnect just has its
 * reconnect cancelled (ioredis emits no 'end' for it).
 */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const reconnecting = client.status === 'reconnecting';
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect();
  if (!reconnecting) await ended;
}

/** PIDs of nodes this process started and that have not exited yet. */
const livePids = new Set<number>();
let safetyNetInstalled = false;

/**
 * SIGKILL our still-running nodes when this process exits, or when it gets SIGTERM (how Vitest
 * stops its workers, which skips 'exit'). A safety net only: tests dispose their nodes.
 */
export function track(pid: number, exited: Promise<void>): void {
  livePids.add(pid);
  void exited.then(() => livePids.delete(pid));
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', killLiveNodes);
  process.once('SIGTERM', onSigterm);
}

function killLiveNodes(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kill our nodes, then let SIGTERM do what it would have done without this listener. */
function onSigterm(): void {
  killLiveNodes();
  if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
}
