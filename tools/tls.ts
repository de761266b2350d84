/**
 * TLS test nodes: a throwaway CA and a server certificate for 127.0.0.1, made with `openssl` in a
 * temp dir, and `redis-server` processes that listen on a TLS port only (`--port 0`).
 *
 * Every node binds 127.0.0.1 only and is a child of the test process; `dispose()` stops it (ours
 * only, by PID) and deletes its directory. {@link tlsUnsupported} says why TLS cannot be tested here
 * (no `openssl`, or a `redis-server` built without TLS), so tests can skip with that reason.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { exitOf, freePort, redisServerPath, settlesWithin, spawnRedisServer, track } from './nodes.js';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const TOOL_TIMEOUT_MS = 30_000;

/** Run a program; resolves with stdout and stderr together, never rejects. */
function run(file: string, args: readonly string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: TOOL_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({
        ok: error === null,
        output: `${stdout}${stderr}${error === null ? '' : `\n${error.message}`}`,
      });
    });
  });
}

/**
 * Why TLS nodes cannot be started on this machine, or undefined when they can. A `redis-server`
 * built without TLS does not know `tls-port` and stops at the configuration; one built with it,
 * asked for `--port 0 --tls-port 0`, says it is configured to listen nowhere.
 */
export async function tlsUnsupported(): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'quorumlock-tls-probe-'));
  try {
    const openssl = await run('openssl', ['version'], dir);
    if (!openssl.ok) return `openssl is not available: ${openssl.output.trim()}`;
    let binary: string;
    try {
      binary = redisServerPath();
    } catch (error) {
      return (error as Error).message;
    }
    const probe = await run(
      binary,
      ['--port', '0', '--tls-port', '0', '--save', '', '--appendonly', 'no', '--dir', dir],
      dir,
    );
    if (/not listen anywhere/i.test(probe.output)) return undefined;
    return `this redis-server was built without TLS (\`redis-server --tls-port\` fails): ${probe.output.trim()}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A throwaway CA and a server certificate for IP 127.0.0.1 that it signed, as files in `dir`. */
export interface TlsFiles {
  readonly dir: string;
  readonly caCertFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate (PEM), what a client needs to trust the server. */
  readonly ca: string;
  /** Delete the directory with the keys. */
  dispose(): Promise<void>;
}

/**
 * Make a CA and a server certificate for 127.0.0.1 (P-256 keys, valid for one day) in a fresh temp
 * dir. @throws Error with openssl's output when a step fails (the dir is deleted then)
 */
export async function makeTlsFiles(): Promise<TlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'quorumlock-tls-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await writeFile(
      f('server.ext'),
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
        'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n',
    );
    const commands: string[][] = [
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        f('ca.key'),
        '-out',
        f('ca.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=quorumlock test CA',
      ].concat([
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ]),
      ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'],
      [
        'x509',
        '-req',
        '-in',
        f('server.csr'),
        '-CA',
        f('ca.crt'),
        '-CAkey',
        f('ca.key'),
        '-CAcreateserial',
      ].concat(['-out', f('server.crt'), '-days', '1', '-extfile', f('server.ext')]),
    ];
    for (const args of commands) {
      const result = await run('openssl', args, dir);
      if (!result.ok) throw new Error(`openssl ${args.join(' ')} failed:\n${result.output.trim()}`);
    }
    return {
      dir,
      caCertFile: f('ca.crt'),
      certFile: f('server.crt'),
      keyFile: f('server.key'),
      ca: await readFile(f('ca.crt'), 'utf8'),
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * The PID the Redis server on TLS port `port` reports in `INFO server persistence` (data loaded),
 * or undefined if nothing answers within `timeoutMs`.
 */
function tlsAnsweringPid(port: number, ca: string, timeoutMs = 1_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca });
    let received = '';
    const finish = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
    socket.once('secureConnect', () =>
      socket.write('*3\r\n$4\r\nINFO\r\n$6\r\nserver\r\n$11\r\npersistence\r\n'),
    );
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const header = /^\$(\d+)\r\n/.exec(received);
      if (header === null) {
        if (received.includes('\r\n')) finish(undefined);
        return;
      }
      const body = received.slice(header[0].length);
      if (body.length < Number(header[1])) return;
      const pid = /^process_id:(\d+)\r?$/m.exec(body);
      finish(/^loading:0\r?$/m.test(body) && pid !== null ? Number(pid[1]) : undefined);
    });
  });
}

/** One `redis-server` on 127.0.0.1 that accepts TLS connections only (no client certificates asked). */
export class TlsRedisNode {
  readonly host = '127.0.0.1';
  private child: ChildProcess | undefined;

  private constructor(
    /** The TLS port. */
    readonly port: number,
    readonly dir: string,
    private exited: Promise<void>,
  ) {}

  /** Start a node with `files` and wait (at most ~10 s) until it answers over TLS. */
  static async start(files: TlsFiles): Promise<TlsRedisNode> {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'quorumlock-tls-node-'));
    const child = await spawnRedisServer(
      {
        port: 0,
        dir,
        persistence: 'none',
        extraArgs: [
          '--tls-port',
          String(port),
          '--tls-cert-file',
          files.certFile,
          '--tls-key-file',
          files.keyFile,
          '--tls-ca-cert-file',
          files.caCertFile,
          '--tls-auth-clients',
          'no',
        ],
      },
      { detached: false },
    );
    const node = new TlsRedisNode(port, dir, exitOf(child));
    node.child = child;
    if (child.pid !== undefined) track(child.pid, node.exited);
    try {
      await node.waitUntilAnswering(files.ca);
    } catch (error) {
      await node.dispose();
      throw error;
    }
    return node;
  }

  /** `127.0.0.1:port` (the TLS port). */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** SIGTERM our process (SIGKILL after 10 s), wait for its exit, delete its directory. */
  async dispose(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await settlesWithin(this.exited, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private async waitUntilAnswering(ca: string): Promise<void> {
    let hasExited = false;
    void this.exited.then(() => {
      hasExited = true;
    });
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (!hasExited && performance.now() < deadline) {
      if ((await tlsAnsweringPid(this.port, ca)) === this.child?.pid) return;
      await sleep(25);
    }
    let log = '(no log)';
    try {
      log = (await readFile(join(this.dir, 'redis.log'), 'utf8')).trimEnd().split('\n').slice(-20).join('\n');
    } catch {
      // no log written
    }
    const why = hasExited
      ? 'exited during start-up'
      : `did not answer over TLS within ${START_TIMEOUT_MS} ms`;
    throw new Error(`redis-server with TLS on 127.0.0.1:${this.port} ${why}; its log ends with:\n${log}`);
  }
}
