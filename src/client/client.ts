import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import {
  type AcquireOptions,
  type Command,
  InvalidArgumentError,
  ioredisAdapter,
  type Lock,
  type RedisClient as Node,
  type Redlock,
  type Reply,
  type UsingOptions,
} from '../index.js';
import { Cache, type GetOrSetOptions, type SetOptions } from './cache.js';
import { type ClientLockOptions, ClientLocks, oneNodeRedlock } from './locks.js';
import { decide, decisionOf, type RateLimitOptions, type RateLimitResult } from './rate-limit.js';
import { requireInt, requireKnown } from './validate.js';

/** Options of a RedisClient. Unknown keys are refused. */
export interface RedisClientOptions {
  /** `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS). Host and port options override it. */
  readonly url?: string;
  /** @default 'localhost' */
  readonly host?: string;
  /** @default 6379 */
  readonly port?: number;
  /** A Unix socket path, instead of host and port. */
  readonly path?: string;
  /** @default 0 */
  readonly db?: number;
  readonly username?: string;
  readonly password?: string;
  /** Names the node in lock reports; must differ between the nodes of a Redlock. @default `host:port/db` */
  readonly endpoint?: string;
  /** Prepended to every key the client's own methods write (`lock:`, `rate:`, `cache:` follow). @default '' */
  readonly keyPrefix?: string;
  /** Give up one connection attempt after this many ms. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** Reject a command not answered within this many ms (nothing waits forever). @default 5000 */
  readonly commandTimeoutMs?: number;
  /** Options of the one-node Redlock behind `acquireLock`, `withLock` and `redlock` (retries, drift...). */
  readonly locks?: ClientLockOptions;
  /** Any other ioredis option (tls, family, retryStrategy...), except those this client sets itself. */
  readonly ioredis?: RedisOptions;
}

/** The events a RedisClient emits: ioredis's, forwarded. */
export interface RedisClientEvents {
  /** The socket connected. */
  connect: [];
  /** The connection is ready for commands. */
  ready: [];
  /** A connection error. Emitted only when a listener is attached: never crashes the process. */
  error: [error: Error];
  /** The connection closed (a reconnect may follow). */
  close: [];
  /** A reconnect is scheduled in `delayMs`. */
  reconnecting: [delayMs: number];
  /** The client will not reconnect (after `disconnect()`, or when its retry strategy gives up). */
  end: [];
}

const OPTION_KEYS = [
  'url',
  'host',
  'port',
  'path',
  'db',
  'username',
  'password',
  'endpoint',
  'keyPrefix',
  'connectTimeoutMs',
  'commandTimeoutMs',
  'locks',
  'ioredis',
] as const;

/** ioredis options the client sets itself: safety for locking, or a top-level option of ours. */
const OWN_IOREDIS_KEYS = new Map<string, string>([
  ['lazyConnect', 'the client connects lazily, on first use or connect()'],
  ['enableOfflineQueue', 'no offline queue: a command to a disconnected node fails at once'],
  ['autoResendUnfulfilledCommands', 'a command is never resent after a reconnect'],
  ['maxRetriesPerRequest', 'a command is never retried after a disconnect'],
  ['keyPrefix', 'use the keyPrefix option'],
  ['host', 'use the host option'],
  ['port', 'use the port option'],
  ['path', 'use the path option'],
  ['db', 'use the db option'],
  ['username', 'use the username option'],
  ['password', 'use the password option'],
  ['connectTimeout', 'use connectTimeoutMs'],
  ['commandTimeout', 'use commandTimeoutMs'],
]);

/**
 * The one Redis client a service holds: a connection with a tracked lifecycle, locks on this
 * node, rate limiting and a JSON cache, over ioredis. It is also a Redlock node: it implements
 * the core's node interface (`endpoint`, `exec`), so `new Redlock([new RedisClient(a), ...])`
 * works as it is. See docs/client.md.
 */
export class RedisClient extends EventEmitter<RedisClientEvents> implements Node {
  /** Names this node in lock reports. */
  readonly endpoint: string;
  readonly keyPrefix: string;
  readonly #redis: Redis;
  readonly #node: Node;
  readonly #locks: ClientLocks;
  readonly #cache: Cache;
  #fill: Redlock | undefined;
  #connecting: Promise<void> | undefined;

  constructor(options: string | RedisClientOptions = {}) {
    super();
    const o = requireKnown<RedisClientOptions>(
      'options',
      typeof options === 'string' ? { url: options } : options,
      OPTION_KEYS,
    );
    const settings = connectionSettings(o);
    this.keyPrefix = settings.keyPrefix;
    this.endpoint = settings.endpoint;
    // ioredis 6 types replyMapping without undefined, which exactOptionalPropertyTypes refuses.
    this.#redis = new Redis(settings.ioredis as RedisOptions & { replyMapping?: 'legacy' });
    for (const event of ['connect', 'ready', 'close', 'end'] as const) {
      this.#redis.on(event, () => this.emit(event));
    }
    this.#redis.on('reconnecting', (delay: number) => this.emit('reconnecting', delay));
    this.#redis.on('error', (error: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    this.#node = ioredisAdapter(this.#redis, { endpoint: this.endpoint });
    this.#locks = new ClientLocks(oneNodeRedlock(this, `${this.keyPrefix}lock:`, o.locks));
    this.#cache = new Cache(this.#redis, this.keyPrefix, this.#ready, () => {
      this.#fill ??= oneNodeRedlock(this, `${this.keyPrefix}fill:`, { ...o.locks, retryCount: 0 });
      return this.#fill;
    });
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** ioredis's status: `wait` (never connected), `connecting`, `connect`, `ready`, `reconnecting`, `end`... */
  get status(): string {
    return this.#redis.status;
  }

  /** True while the connection is ready for commands. */
  get isConnected(): boolean {
    return this.#redis.status === 'ready';
  }

  /** Connect (or join the attempt in progress; reopens a closed client); rejects if it fails. */
  connect(): Promise<void> {
    const status = this.#redis.status;
    if (status === 'ready') return Promise.resolve();
    if (this.#connecting) return this.#connecting;
    const attempt =
      status === 'wait' || status === 'end'
        ? this.#redis.connect()
        : new Promise<void>((resolve, reject) => {
            const done = (error?: Error) => {
              this.#redis.off('ready', onReady);
              this.#redis.off('close', onClose);
              this.#redis.off('end', onClose);
              if (error) reject(error);
              else resolve();
            };
            const onReady = () => done();
            const onClose = () =>
              done(new Error(`connection to ${this.endpoint} closed before it was ready`));
            this.#redis.on('ready', onReady);
            this.#redis.on('close', onClose);
            this.#redis.on('end', onClose);
          });
    this.#connecting = attempt.finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * Close the connection: commands already sent are answered first (QUIT), then the socket
   * closes. Idempotent. Later commands reject until `connect()` is called again.
   */
  async disconnect(): Promise<void> {
    const redis = this.#redis;
    if (redis.status === 'end') return;
    if (redis.status === 'reconnecting') {
      // Between attempts there is no socket: cancelling the attempt is all (ioredis emits no
      // 'end'). ioredis would also arm a 2 s timer to destroy the old, already closed stream,
      // which nothing clears; forget that stream first (guarded: a field of ioredis's connector).
      const connector = (redis as unknown as { connector?: { stream?: { destroyed?: boolean } | undefined } })
        .connector;
      if (connector?.stream?.destroyed === true) connector.stream = undefined;
      redis.disconnect();
      return;
    }
    const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()));
    if (redis.status === 'ready') await redis.quit().catch(() => undefined);
    if ((redis.status as string) !== 'end') redis.disconnect();
    await ended;
  }

  /** `await using client = new RedisClient(...)`: disconnects at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  /**
   * Lazy connect: a command of a client never connected connects it first, and one issued while
   * `connect()` is in progress waits for it. Otherwise nothing waits: while ioredis reconnects,
   * commands fail at once (no offline queue).
   */
  #mustWait(): boolean {
    return this.#connecting !== undefined || this.#redis.status === 'wait';
  }

  readonly #ready = (): Promise<void> => (this.#mustWait() ? this.connect() : Promise.resolve());

  // ---- the Redlock node seam --------------------------------------------------------------

  /**
   * The core's node interface: send `commands` in one call (a pipeline), in order. What a
   * Redlock over several RedisClients calls; not needed by the client's own users.
   */
  exec(commands: readonly Command[]): Promise<Reply[]> {
    if (!this.#mustWait()) return this.#node.exec(commands);
    return this.connect().then(() => this.#node.exec(commands));
  }

  // ---- locks on this node -----------------------------------------------------------------

  /** The one-node Redlock behind the lock methods: renew, keep, inspect, fencing, campaign. */
  get redlock(): Redlock {
    return this.#locks.redlock;
  }

  /** Acquire `key` for `ttlMs` (Redlock's acquireLock with N = 1): the Lock, or null. */
  acquireLock(
    key: string | readonly string[],
    ttlMs: number,
    options?: AcquireOptions,
  ): Promise<Lock | null> {
    return this.#locks.acquireLock(key, ttlMs, options);
  }

  /** Owner-checked release: `releaseLock(lock)` or `releaseLock(key, value)`. True when deleted. */
  releaseLock(lockOrKey: Lock | string | readonly string[], value?: string): Promise<boolean> {
    return this.#locks.releaseLock(lockOrKey, value);
  }

  /** Run `fn(signal, lock)` under a lock kept alive until it settles (Redlock's `using`). */
  withLock<T>(
    key: string | readonly string[],
    ttlMs: number,
    fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
    options?: UsingOptions,
  ): Promise<T> {
    return this.#locks.withLock(key, ttlMs, fn, options);
  }

  // ---- rate limiting ----------------------------------------------------------------------

  /** One rate-limit decision for `key`, atomic on the server and timed by its clock. */
  async rateLimit(key: string, options: RateLimitOptions): Promise<RateLimitResult> {
    return decide(this, this.keyPrefix, decisionOf(key, options));
  }

  // ---- cache ------------------------------------------------------------------------------

  /** The value stored under `key`, or undefined when there is none. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.#cache.get<T>(key);
  }

  /** Store `value` as JSON; a value JSON cannot represent faithfully is refused, nothing written. */
  set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    return this.#cache.set(key, value, options);
  }

  /** True when a value was deleted. */
  del(key: string): Promise<boolean> {
    return this.#cache.del(key);
  }

  /** Whether the cache holds `key`. */
  exists(key: string): Promise<boolean> {
    return this.#cache.exists(key);
  }

  /** The cached value, or `compute()`'s, computed once however many callers ask (stampede protection). */
  getOrSet<T>(
    key: string,
    ttlMs: number,
    compute: () => T | Promise<T>,
    options?: GetOrSetOptions,
  ): Promise<T> {
    return this.#cache.getOrSet(key, ttlMs, compute, options);
  }
}

/** Validate the connection options and build ioredis's, with the safe settings. */
function connectionSettings(o: Partial<RedisClientOptions>): {
  ioredis: RedisOptions;
  endpoint: string;
  keyPrefix: string;
} {
  const fromUrl = o.url === undefined ? {} : parseUrl(o.url);
  for (const key of ['host', 'path', 'username', 'password', 'endpoint', 'keyPrefix'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') {
      throw new InvalidArgumentError(`options.${key}`, 'a string', o[key]);
    }
  }
  if (o.port !== undefined) requireInt('options.port', o.port, 1, 65535);
  if (o.db !== undefined) requireInt('options.db', o.db, 0, 2 ** 31 - 1);
  const connectTimeout = requireInt('options.connectTimeoutMs', o.connectTimeoutMs ?? 10_000, 1, 2 ** 31 - 1);
  const commandTimeout = requireInt('options.commandTimeoutMs', o.commandTimeoutMs ?? 5_000, 1, 2 ** 31 - 1);
  const keyPrefix = o.keyPrefix ?? '';
  if (keyPrefix.includes('\u0000')) {
    throw new InvalidArgumentError('options.keyPrefix', 'a string without NUL characters', keyPrefix);
  }
  const passthrough = o.ioredis ?? {};
  if (typeof passthrough !== 'object' || passthrough === null || Array.isArray(passthrough)) {
    throw new InvalidArgumentError(
      'options.ioredis',
      'an object of ioredis options or undefined',
      passthrough,
    );
  }
  for (const key of Object.keys(passthrough)) {
    const why = OWN_IOREDIS_KEYS.get(key);
    if (why)
      throw new InvalidArgumentError(
        `options.ioredis.${key}`,
        'not set (the client sets it)',
        passthrough[key as keyof RedisOptions],
        why,
      );
  }
  const host = o.host ?? fromUrl.host ?? 'localhost';
  const port = o.port ?? fromUrl.port ?? 6379;
  const db = o.db ?? fromUrl.db ?? 0;
  const endpoint = o.endpoint ?? (o.path ? `${o.path}/${db}` : `${host}:${port}/${db}`);
  if (endpoint.length === 0)
    throw new InvalidArgumentError('options.endpoint', 'a non-empty string', endpoint);
  const username = o.username ?? fromUrl.username;
  const password = o.password ?? fromUrl.password;
  return {
    endpoint,
    keyPrefix,
    ioredis: {
      ...(fromUrl.tls ? { tls: {} } : {}),
      ...passthrough,
      ...(o.path ? { path: o.path } : { host, port }),
      db,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      connectTimeout,
      commandTimeout,
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    },
  };
}

function parseUrl(url: unknown): {
  host?: string;
  port?: number;
  db?: number;
  username?: string;
  password?: string;
  tls?: boolean;
} {
  const expected = 'a redis:// or rediss:// URL, such as redis://127.0.0.1:6379/0';
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new InvalidArgumentError('options.url', expected, url);
  }
  if (typeof url !== 'string' || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new InvalidArgumentError('options.url', expected, url);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) {
    throw new InvalidArgumentError('options.url', `${expected} (the path is a database number)`, url);
  }
  return {
    ...(parsed.hostname ? { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') } : {}),
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
    ...(db === undefined ? {} : { db }),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
  };
}
