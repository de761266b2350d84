/**
 * Long-lived local Redis nodes for development, the demo and the benchmark:
 *
 *   npm run nodes -- start  [--count 5] [--base-port 7001] [--dir .nodes]
 *   npm run nodes -- status [--dir .nodes]
 *   npm run nodes -- stop   [--dir .nodes]
 *
 * `start` runs `count` independent redis-server processes on 127.0.0.1 ports base..base+count-1,
 * each in `<dir>/<port>` with AOF `appendfsync always` and `noeviction`, detached so they outlive
 * this command, and records their PIDs in `<dir>/nodes.json`. `stop` signals exactly those PIDs,
 * after checking that each is still a redis-server on its port. Data stays in `<dir>` (delete it
 * for a clean slate).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { answeringPid, exitOf, spawnRedisServer, waitUntilAnswering } from '../tools/nodes.js';

/** One node started by `start`, as recorded in nodes.json. */
interface NodeRecord {
  port: number;
  pid: number;
  dir: string;
}

const USAGE = 'usage: npm run nodes -- start|stop|status [--count 5] [--base-port 7001] [--dir .nodes]';

/** Print what is wrong and the usage text, then exit 2. */
function usageError(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

/** Parse and validate the command line; exits with the usage text on bad input. */
function parseCommandLine(): { command: string; count: number; basePort: number; dir: string } {
  let parsed: { positionals: string[]; values: { count: string; 'base-port': string; dir: string } };
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        count: { type: 'string', default: '5' },
        'base-port': { type: 'string', default: '7001' },
        dir: { type: 'string', default: '.nodes' },
      },
    });
  } catch (error) {
    usageError((error as Error).message);
  }
  const { positionals, values } = parsed;
  const command = positionals[0] ?? '';
  const count = Number(values.count);
  const basePort = Number(values['base-port']);
  const problems = [
    ['start', 'stop', 'status'].includes(command) && positionals.length === 1 ? '' : 'one command expected',
    Number.isInteger(count) && count >= 1 && count <= 100 ? '' : '--count must be an integer in [1, 100]',
    Number.isInteger(basePort) && basePort >= 1024 && basePort + count - 1 <= 65535
      ? ''
      : '--base-port must be an integer >= 1024 with base-port + count - 1 <= 65535',
  ].filter((p) => p !== '');
  if (problems.length > 0) usageError(problems.join('; '));
  return { command, count, basePort, dir: resolve(values.dir) };
}

function stateFile(dir: string): string {
  return join(dir, 'nodes.json');
}

async function readRecords(dir: string): Promise<NodeRecord[]> {
  if (!existsSync(stateFile(dir))) return [];
  return (JSON.parse(await readFile(stateFile(dir), 'utf8')) as { nodes: NodeRecord[] }).nodes;
}

function exportLine(records: readonly NodeRecord[]): string {
  return `export QUORUMLOCK_NODES=${records.map((r) => `127.0.0.1:${r.port}`).join(',')}`;
}

/** The command line of process `pid` (from /proc, or `ps` where there is no /proc); '' if it is gone. */
async function commandLineOf(pid: number): Promise<string> {
  try {
    if (existsSync('/proc/self/cmdline')) {
      return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
    }
    const { stdout } = await promisify(execFile)('ps', ['-o', 'command=', '-p', String(pid)]);
    return stdout.trim();
  } catch {
    return '';
  }
}

/**
 * True if `record.pid` is still a redis-server serving `record.port`: its title reads
 * `redis-server 127.0.0.1:<port>` (or, before Redis sets it, the arguments contain `--port <port>`).
 * A reused PID or a zombie does not match.
 */
async function isRecordedNode(record: NodeRecord): Promise<boolean> {
  const commandLine = await commandLineOf(record.pid);
  const onPort = new RegExp(`(:|--port\\s+)${record.port}(\\s|$)`);
  return commandLine.includes('redis-server') && onPort.test(commandLine);
}

/** Poll (every 50 ms, at most `timeoutMs`) until `record` is no longer a running redis-server. */
async function goneWithin(record: NodeRecord, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (!(await isRecordedNode(record))) return true;
    await sleep(50);
  }
  return !(await isRecordedNode(record));
}

/** Send `name` to `pid`; a process that exited meanwhile is fine. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM a verified node, escalating to SIGKILL after 10 s. Returns what happened, for printing. */
async function stopNode(record: NodeRecord): Promise<string> {
  if (!(await isRecordedNode(record))) return 'not running (or PID reused by another process): left alone';
  signal(record.pid, 'SIGTERM');
  if (await goneWithin(record, 10_000)) return 'stopped';
  signal(record.pid, 'SIGKILL');
  return (await goneWithin(record, 5_000)) ? 'killed after SIGTERM timed out' : 'STILL RUNNING after SIGKILL';
}

/** Start one detached node and wait until it answers; the caller records it. */
async function startNode(port: number, baseDir: string): Promise<NodeRecord> {
  const dir = join(baseDir, String(port));
  const child = await spawnRedisServer({ port, dir, persistence: 'aof-always' }, { detached: true });
  const exited = exitOf(child);
  try {
    await waitUntilAnswering(child, port, dir, exited);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.unref();
  return { port, pid: child.pid!, dir };
}

async function start(count: number, basePort: number, dir: string): Promise<number> {
  const running = (await Promise.all((await readRecords(dir)).map(isRecordedNode))).some(Boolean);
  if (running) {
    console.error(
      `nodes recorded in ${stateFile(dir)} are still running; run \`npm run nodes -- stop\` first`,
    );
    return 1;
  }
  const ports = Array.from({ length: count }, (_, i) => basePort + i);
  const results = await Promise.allSettled(ports.map((port) => startNode(port, dir)));
  const records = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) {
    await Promise.all(records.map(stopNode));
    console.error(`could not start all nodes (the others were stopped again):\n${failures.join('\n')}`);
    return 1;
  }
  await writeFile(stateFile(dir), `${JSON.stringify({ nodes: records }, null, 2)}\n`);
  for (const r of records) console.log(`started 127.0.0.1:${r.port} pid ${r.pid} dir ${r.dir}`);
  console.log(exportLine(records));
  return 0;
}

async function stop(dir: string): Promise<number> {
  const records = await readRecords(dir);
  if (records.length === 0) {
    console.log(`no nodes recorded in ${stateFile(dir)}`);
    return 0;
  }
  const outcomes = await Promise.all(records.map(stopNode));
  records.forEach((r, i) => {
    console.log(`127.0.0.1:${r.port} pid ${r.pid}: ${outcomes[i]}`);
  });
  if (outcomes.some((o) => o.startsWith('STILL'))) return 1;
  await rm(stateFile(dir));
  return 0;
}

async function status(dir: string): Promise<number> {
  const records = await readRecords(dir);
  if (records.length === 0) {
    console.log(`no nodes recorded in ${stateFile(dir)}`);
    return 1;
  }
  let allAnswering = true;
  for (const r of records) {
    const alive = await isRecordedNode(r);
    const answering = alive && (await answeringPid(r.port)) === r.pid;
    allAnswering &&= answering;
    console.log(
      `127.0.0.1:${r.port} pid ${r.pid} ${alive ? 'alive' : 'dead'} ${answering ? 'answering' : 'not answering'}`,
    );
  }
  if (allAnswering) console.log(exportLine(records));
  return allAnswering ? 0 : 1;
}

const { command, count, basePort, dir } = parseCommandLine();
if (command === 'start') process.exitCode = await start(count, basePort, dir);
else if (command === 'stop') process.exitCode = await stop(dir);
else process.exitCode = await status(dir);
