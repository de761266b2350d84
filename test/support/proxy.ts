/**
 * A TCP fault proxy between one client and one Redis node (use one per client per node, so
 * partitions can differ per client). It listens on 127.0.0.1 and can delay, swallow or cut traffic.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * - `pass`: forward both ways (after the configured latency).
 * - `blackhole`: accept and read, forward no bytes either way (queued bytes are discarded too).
 *   A close still travels: when one side's socket closes, the proxy closes the other.
 * - `refuse`: reset new connections at once and cut the existing ones.
 * - `drop-replies`: forward requests to the server, discard its replies (applied, but unacknowledged).
 */
export type ProxyMode = 'pass' | 'blackhole' | 'refuse' | 'drop-replies';

/** Extra delay per direction: `up` is client to server, `down` is server to client. */
export interface ProxyLatency {
  /** @default 0 */
  upMs?: number;
  /** @default 0 */
  downMs?: number;
}

/** Counters since the proxy started. */
export interface ProxyStats {
  /** TCP connections accepted (refused ones included). */
  connections: number;
  /** Bytes read from clients, forwarded or not. */
  bytesUp: number;
  /** Bytes read from the server, forwarded or not. */
  bytesDown: number;
}

/**
 * One direction of one connection: writes chunks in arrival order, each no earlier than its due
 * time, with at most one timer pending.
 */
class Lane {
  private readonly queue: { chunk: Buffer; dueAt: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDueAt = 0;
  private ending = false;

  constructor(private readonly to: Socket) {}

  /** Forward `chunk` after `delayMs`, but never before a chunk that arrived earlier. */
  push(chunk: Buffer, delayMs: number): void {
    const now = performance.now();
    const dueAt = Math.max(now + delayMs, this.lastDueAt);
    this.lastDueAt = dueAt;
    if (this.queue.length === 0 && dueAt <= now) {
      this.write(chunk);
      return;
    }
    this.queue.push({ chunk, dueAt });
    this.schedule();
  }

  /** The source is gone: end the destination once the queued chunks are written. */
  end(): void {
    this.ending = true;
    this.schedule();
  }

  /** Drop the queued chunks and the timer. */
  discard(): void {
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const head = this.queue[0];
    if (head === undefined) {
      if (this.ending) this.to.end();
      return;
    }
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.ceil(head.dueAt - performance.now())));
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    for (let head = this.queue[0]; head !== undefined && head.dueAt <= now; head = this.queue[0]) {
      this.queue.shift();
      this.write(head.chunk);
    }
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (!this.to.destroyed) this.to.write(chunk);
  }
}

/** A client socket, its server socket, and a lane each way. */
interface Connection {
  readonly client: Socket;
  readonly server: Socket;
  readonly up: Lane;
  readonly down: Lane;
}

/** A fault-injecting TCP proxy on 127.0.0.1 in front of one Redis node. */
export class FaultProxy {
  readonly stats: ProxyStats = { connections: 0, bytesUp: 0, bytesDown: 0 };
  private mode: ProxyMode = 'pass';
  private latency: Required<ProxyLatency> = { upMs: 0, downMs: 0 };
  private readonly connections = new Set<Connection>();
  private readonly server: Server;

  private constructor(readonly target: { readonly host: string; readonly port: number }) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Start a proxy to `target` on a free 127.0.0.1 port. */
  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const proxy = new FaultProxy({ host: target.host, port: target.port });
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The port clients connect to. */
  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('FaultProxy is not listening');
    return address.port;
  }

  /** `127.0.0.1:port` for clients. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Delay bytes that arrive from now on, per direction; an omitted direction gets 0.
   * Bytes already queued keep their due time, and order is always preserved.
   */
  setLatency(latency: ProxyLatency): void {
    const upMs = latency.upMs ?? 0;
    const downMs = latency.downMs ?? 0;
    if (!(upMs >= 0 && downMs >= 0 && Number.isFinite(upMs + downMs))) {
      throw new RangeError(`setLatency: upMs and downMs must be finite and >= 0, got ${upMs} and ${downMs}`);
    }
    this.latency = { upMs, downMs };
  }

  /** Switch the fault mode; see {@link ProxyMode}. Affects bytes that arrive afterwards. */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode === 'refuse') this.cutConnections();
    for (const connection of this.connections) {
      if (mode === 'blackhole') connection.up.discard();
      if (mode === 'blackhole' || mode === 'drop-replies') connection.down.discard();
    }
  }

  /** Destroy every live connection, both sides, dropping queued bytes. */
  cutConnections(): void {
    for (const connection of this.connections) {
      connection.up.discard();
      connection.down.discard();
      connection.client.destroy();
      connection.server.destroy();
    }
    this.connections.clear();
  }

  /** Stop listening, destroy all connections and clear all timers. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cutConnections();
    await closed;
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    if (this.mode === 'refuse') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const server = connect({ host: this.target.host, port: this.target.port });
    const connection: Connection = { client, server, up: new Lane(server), down: new Lane(client) };
    this.connections.add(connection);
    this.wire(connection, client, connection.up, connection.down, 'bytesUp');
    this.wire(connection, server, connection.down, connection.up, 'bytesDown');
  }

  /**
   * Route what `from` sends into lane `out`. When `from` closes, bytes it already sent are still
   * delivered (as TCP would) and lane `into` (towards `from`) is dropped.
   */
  private wire(
    connection: Connection,
    from: Socket,
    out: Lane,
    into: Lane,
    counter: 'bytesUp' | 'bytesDown',
  ): void {
    from.setNoDelay(true);
    from.on('data', (chunk: Buffer) => {
      this.stats[counter] += chunk.length;
      const dropped = this.mode === 'blackhole' || (this.mode === 'drop-replies' && counter === 'bytesDown');
      if (!dropped) out.push(chunk, counter === 'bytesUp' ? this.latency.upMs : this.latency.downMs);
    });
    from.on('error', () => {});
    from.on('close', () => {
      into.discard();
      out.end();
      if (connection.client.destroyed && connection.server.destroyed) this.connections.delete(connection);
    });
  }
}
