/**
 * The one small interface every contender implements, and what the harness hands a contender to
 * build itself: the node connections (created and closed by the harness, identical for everyone)
 * and the retry plan of the workload.
 */
import type { GlideClient } from '@valkey/valkey-glide';
import type { Redis } from 'ioredis';
import type { Redis as Redis5 } from 'ioredis5';
import type { NodeRedisClient } from './connections.js';

/**
 * A lock library (or the raw floor) as the workloads see it. `acquire` resolves with an opaque
 * handle, or null when the library reports that it could not take the lock (after its own
 * retries); anything else it throws is a harness error and is counted as one.
 */
export interface Contender<H = unknown> {
  acquire(resource: string, ttlMs: number): Promise<H | null>;
  release(handle: H): Promise<void>;
  /** Stop whatever the library runs on its own; the harness closes the connections afterwards. */
  close(): Promise<void>;
}

/**
 * How a workload wants failed attempts retried.
 * - `none`: one attempt, no retry (uncontended workloads: a failure there is a bug, not contention).
 * - `retry`: up to `retries` retries after the first attempt, `delayMs ± jitterMs` apart, where the
 *   library can express it (see each adapter for what it cannot).
 */
export type RetryPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'retry'; readonly retries: number; readonly delayMs: number; readonly jitterMs: number };

export interface ConnectOptions {
  /** ioredis `enableAutoPipelining`. Only the auto-pipelined floor asks for it. @default false */
  readonly autoPipelining?: boolean;
}

export interface ContenderSetup {
  /** The node addresses (`host:port`), in order; N is their count. */
  readonly addresses: readonly string[];
  readonly retry: RetryPlan;
  /**
   * One fresh ioredis client per node, connected and ready, configured the same way for every
   * contender (see `connections.ts`). The harness owns them: it closes them after `close()`.
   */
  connect(options?: ConnectOptions): Promise<Redis[]>;
  /** As `connect`, with node-redis clients (the node-redis section). */
  connectNodeRedis(): Promise<NodeRedisClient[]>;
  /** As `connect`, with ioredis 5 clients (the ioredis 5 section). */
  connectIoredis5(): Promise<Redis5[]>;
  /** As `connect`, with Valkey GLIDE clients (the GLIDE section). */
  connectGlide(): Promise<GlideClient[]>;
}

/**
 * `variant`: quorumlock or the floor over another client (node-redis, ioredis 5, GLIDE): reported in a section of
 * its own, each library variant against the floor variant on the same client (`floorId`).
 */
export type ContenderKind = 'library' | 'peer' | 'floor' | 'variant';

/** A contender as listed in `contenders/index.ts`. */
export interface ContenderSpec {
  /** Short stable id used in results and on the command line. */
  readonly id: string;
  /** Name in tables and charts. */
  readonly label: string;
  readonly kind: ContenderKind;
  /** npm package whose installed version is reported; undefined for the floor and for quorumlock. */
  readonly package?: string;
  /** How it is configured, for the report. */
  readonly notes: string;
  /** A library variant: the floor variant its ratios are taken against. */
  readonly floorId?: string;
  create(setup: ContenderSetup): Promise<Contender>;
}

/** Retry delay `delayMs ± jitterMs`, uniform, as the floor and the harness use it. */
export function jitteredDelay(delayMs: number, jitterMs: number): number {
  return Math.max(0, delayMs + (Math.random() * 2 - 1) * jitterMs);
}
