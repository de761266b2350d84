import { newValue } from './acquire.js';
import { InvalidArgumentError } from './errors.js';
import type { KeepOptions, LeaseKeeper } from './keeper.js';
import { KEEP_KEYS } from './keeper.js';
import { rwKeysOf } from './keys.js';
import type { Lock } from './lock.js';
import {
  ACQUIRE_KEYS,
  type AcquireOptions,
  requireFunction,
  requireInteger,
  requireOptions,
  requireResource,
  requireTtl,
} from './options.js';
import type { Primitive } from './primitive.js';
import { orNull, usingOptions } from './primitive.js';
import { ABSENT, grantVerdict, LOCK, type Protocol, RELEASED, RENEWED } from './protocol.js';
import {
  parseGrantReply,
  parseSemExtendReply,
  parseSemReleaseReply,
  rwReadScript,
  rwWriteReleaseScript,
  rwWriteScript,
} from './scripts/index.js';
import { semExtendCommand, semReleaseCommand } from './semaphore.js';
import { warnOnce } from './warnings.js';

/** Options of `redlock.readWrite`. */
export interface ReadWriteOptions {
  /**
   * How long a refused writer's intent blocks new readers on a node, in ms, from its latest
   * refused attempt: each retry renews it, and it lapses this long after the writer stops
   * trying. 0: no intent, readers may starve a writer. @default the write's own TTL
   */
  readonly writerIntentMs?: number;
}

/** Options of `read` and `write` used with `using`. */
export interface ReadWriteUsingOptions extends AcquireOptions, KeepOptions {}

export const READ_WRITE_KEYS = ['writerIntentMs'] as const;
const USING_KEYS = [...ACQUIRE_KEYS, ...KEEP_KEYS] as const;

/**
 * A read-write lock over the Redlock's nodes (docs/semaphore.md, "Read-write lock"): readers
 * share, a writer excludes readers and writers. Both need a majority of nodes. A refused writer
 * sets an intent marker that keeps new readers out for `writerIntentMs`, so a stream of readers
 * cannot starve it; readers already in keep their leases until they release or lapse.
 */
export class ReadWriteLock {
  readonly resource: string;
  readonly writerIntentMs: number | undefined;
  readonly #primitive: Primitive;
  readonly #read: Protocol;

  /** @internal Made by `redlock.readWrite(resource, options)`. */
  constructor(primitive: Primitive, resource: string, writerIntentMs: number | undefined) {
    this.#primitive = primitive;
    this.resource = resource;
    this.writerIntentMs = writerIntentMs;
    this.#read = readProtocol();
  }

  /** A shared lease for `ttl` ms: rejects with a LockAcquireError as `redlock.acquire` does. */
  read(ttl: number, options?: AcquireOptions): Promise<Lock> {
    return this.#take(this.#read, ttl, options);
  }

  /** The exclusive lease for `ttl` ms: rejects with a LockAcquireError as `redlock.acquire` does. */
  write(ttl: number, options?: AcquireOptions): Promise<Lock> {
    return this.#take(this.#writeProtocol(), ttl, options);
  }

  /** As `read`, resolving with null when no attempt won. */
  tryRead(ttl: number, options?: AcquireOptions): Promise<Lock | null> {
    return orNull(this.read(ttl, options));
  }

  /** As `write`, resolving with null when no attempt won. */
  tryWrite(ttl: number, options?: AcquireOptions): Promise<Lock | null> {
    return orNull(this.write(ttl, options));
  }

  /** Keep a lease of this lock alive until `stop()` (as `redlock.keep`). */
  keep(lease: Lock, options?: KeepOptions): LeaseKeeper {
    return this.#primitive.keep(lease, options);
  }

  /** Run `fn(signal, lease)` under a read or write lease that renews itself (as `redlock.using`). */
  async using<T>(
    mode: 'read' | 'write',
    ttl: number,
    fn: (signal: AbortSignal, lease: Lock) => T | Promise<T>,
    options: ReadWriteUsingOptions = {},
  ): Promise<T> {
    if (mode !== 'read' && mode !== 'write') {
      throw new InvalidArgumentError('mode', "'read' or 'write'", mode);
    }
    requireFunction('fn', fn, 'a function (signal, lease) => result');
    const split = usingOptions(options, USING_KEYS, this.#primitive.core.options.driftFactor);
    const protocol = mode === 'read' ? this.#read : this.#writeProtocol();
    return this.#primitive.using(
      () => this.#take(protocol, ttl, split.acquire),
      fn,
      split.keep,
      options.signal,
    );
  }

  /** One write call's protocol: its attempts share one intent id, withdrawn by the won lease's release. */
  #writeProtocol(): Protocol {
    return writeProtocol(this.writerIntentMs, newValue(this.#primitive.core));
  }

  #take(protocol: Protocol, ttl: number, options: AcquireOptions | undefined): Promise<Lock> {
    requireTtl('ttl', ttl, this.#primitive.core.options.driftFactor);
    const checked = requireOptions('options', options, ACQUIRE_KEYS);
    return this.#primitive.acquire(this.resource, ttl, checked, protocol);
  }
}

/** `redlock.readWrite(resource, options)`, its arguments checked. */
export function readWrite(
  primitive: Primitive,
  resource: string,
  options: ReadWriteOptions | undefined,
): ReadWriteLock {
  const name = requireResource('resource', resource);
  const { writerIntentMs } = requireOptions('options', options, READ_WRITE_KEYS);
  if (writerIntentMs !== undefined)
    requireInteger('options.writerIntentMs', writerIntentMs, 0, 2_147_483_647);
  const { retryDelay, retryJitter } = primitive.core.options;
  const gap = retryDelay + retryJitter;
  if (writerIntentMs !== undefined && writerIntentMs > 0 && writerIntentMs < gap) {
    warnOnce(
      `WRITER_INTENT|${writerIntentMs}|${gap}`,
      'QUORUMLOCK_WRITER_INTENT',
      `readWrite: writerIntentMs ${writerIntentMs} is shorter than the longest retry delay (${retryDelay} ms + ${retryJitter} ms of jitter): a waiting writer's intent lapses between its attempts, and new readers can keep it out`,
    );
  }
  return new ReadWriteLock(primitive, name, writerIntentMs);
}

/** The three keys of the scripts, and the counter after them with fencing. */
function rwKeys(writerKey: string, fenceKey: string | undefined): string[] {
  const { readers, intent } = rwKeysOf(writerKey);
  return fenceKey ? [writerKey, readers, intent, fenceKey] : [writerKey, readers, intent];
}

/** Readers: rw-read to acquire; their leases live in the readers' set, renewed and released as a semaphore's. */
function readProtocol(): Protocol {
  return Object.freeze({
    quorum: undefined,
    acquire: (keys: readonly string[], value: string, ttl: number, fenceKey: string | undefined) => ({
      type: 'eval' as const,
      script: rwReadScript,
      keys: rwKeys(keys[0]!, fenceKey),
      args: [value, String(ttl)],
    }),
    classifyAcquire: (reply: unknown) =>
      grantVerdict(parseGrantReply(reply, rwReadScript).granted, false, null),
    classifyFencedAcquire: (reply: unknown) => {
      const r = parseGrantReply(reply, rwReadScript);
      return grantVerdict(r.granted, true, r.counter);
    },
    release: (keys: readonly string[], value: string) =>
      semReleaseCommand([rwKeysOf(keys[0]!).readers], value),
    classifyRelease: (reply: unknown) => (parseSemReleaseReply(reply) ? RELEASED : ABSENT),
    extend: (keys: readonly string[], value: string, ttl: number) =>
      semExtendCommand([rwKeysOf(keys[0]!).readers], value, ttl),
    classifyExtend: (reply: unknown) => (parseSemExtendReply(reply) ? RENEWED : ABSENT),
  });
}

/**
 * The writer: rw-write to acquire (marking its intent); its key is a plain lock key, renewed as
 * the lock's (no repair); the release also withdraws its intent, a lost attempt's does not.
 */
function writeProtocol(intentMs: number | undefined, intentId: string): Protocol {
  return Object.freeze({
    quorum: undefined,
    acquire: (keys: readonly string[], value: string, ttl: number, fenceKey: string | undefined) => ({
      type: 'eval' as const,
      script: rwWriteScript,
      keys: rwKeys(keys[0]!, fenceKey),
      args: [value, String(ttl), String(intentMs ?? ttl), intentId],
    }),
    classifyAcquire: (reply: unknown) =>
      grantVerdict(parseGrantReply(reply, rwWriteScript).granted, false, null),
    classifyFencedAcquire: (reply: unknown) => {
      const r = parseGrantReply(reply, rwWriteScript);
      return grantVerdict(r.granted, true, r.counter);
    },
    release: (keys: readonly string[], value: string) => ({
      type: 'eval' as const,
      script: rwWriteReleaseScript,
      keys: [keys[0]!, rwKeysOf(keys[0]!).intent],
      args: [value, intentId],
    }),
    abandon: LOCK.release,
    // rw-write-release answers {deleted, foreign} for the writer key, as the lock's release.
    classifyRelease: LOCK.classifyRelease,
    extend: LOCK.extend,
    classifyExtend: LOCK.classifyExtend,
  });
}
