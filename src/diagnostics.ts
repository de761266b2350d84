import {
  channel,
  type Channel as PlainChannel,
  type TracingChannel,
  tracingChannel,
} from 'node:diagnostics_channel';
import type { AttemptReport, LostReason, NodeReport } from './errors.js';

/**
 * What quorumlock publishes on its tracing channels. Lock values are never published: only
 * resource names, TTLs, per-node outcomes and latencies, and a summary of the result.
 */
export interface LockTraceContext {
  readonly operation: 'acquire' | 'renew' | 'release';
  readonly resources: readonly string[];
  /** acquire and renew: the TTL asked for, in ms. */
  readonly ttl?: number;
  /** Set when the operation settles: what it achieved (never the lock value). */
  result?: {
    readonly ok: boolean;
    readonly validityMs?: number;
    readonly fencingToken?: number | null;
    readonly reason?: string;
    readonly releasedCount?: number;
  };
  /** Set when the operation settles: every node's outcome and latency of the (last) round. */
  nodes?: readonly NodeReport[];
  /** acquire: every attempt's report. */
  attempts?: readonly AttemptReport[];
  /** Set when the operation rejects. */
  error?: unknown;
}

/** One of quorumlock's tracing channels. */
export type LockTracingChannel = TracingChannel<unknown, LockTraceContext & object>;
type Channel = LockTracingChannel;

/**
 * `quorumlock:acquire`, `quorumlock:renew`, `quorumlock:release`: Node tracing channels (start,
 * end, asyncStart, asyncEnd, error), as `tracingChannel.tracePromise` publishes them.
 */
export const channels = Object.freeze({
  acquire: tracingChannel('quorumlock:acquire') as Channel,
  renew: tracingChannel('quorumlock:renew') as Channel,
  release: tracingChannel('quorumlock:release') as Channel,
});

/** What `quorumlock:lost` publishes when a kept lock is lost (never the lock value). */
export interface LockLostMessage {
  readonly resources: readonly string[];
  readonly reason: Exclude<LostReason, 'released'>;
}

/**
 * `quorumlock:lost`: a plain channel, published when a LeaseKeeper (`using`, `keep`, a leader)
 * loses its lock: a renew found it held elsewhere or absent, its deadline came, or the renewal
 * limit was reached. A release is not a loss and is not published.
 */
export const lostChannel: PlainChannel = channel('quorumlock:lost');

/** Whether anyone subscribes to `channel`: callers skip building a trace context when not. */
export function active(channel: Channel): boolean {
  const aggregate = (channel as { hasSubscribers?: unknown }).hasSubscribers;
  if (typeof aggregate === 'boolean') return aggregate;
  return (
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers
  );
}

/**
 * Run `fn` traced on `channel` when anyone subscribes, and untouched otherwise (one boolean
 * read). As `tracingChannel.tracePromise` does, `fn` runs inside `start.runStores(context)`, so
 * a store a subscriber bound to the start channel (an AsyncLocalStorage holding the current
 * span, say) is entered for everything `fn` does, down to the adapters' calls. `settle` fills
 * the context from the result, so that the result itself (which may carry a lock value) is never
 * published.
 */
export function traced<T>(
  channel: Channel,
  context: LockTraceContext,
  fn: () => Promise<T>,
  settle: (result: T, context: LockTraceContext) => void,
): Promise<T> {
  if (!active(channel)) return fn();
  return channel.start.runStores(context, () => {
    let promise: Promise<T>;
    try {
      promise = fn();
    } catch (error) {
      context.error = error;
      channel.error.publish(context);
      throw error;
    } finally {
      channel.end.publish(context);
    }
    return promise.then(
      (result) => {
        settle(result, context);
        channel.asyncStart.publish(context);
        channel.asyncEnd.publish(context);
        return result;
      },
      (error: unknown) => {
        context.error = error;
        const attempts = (error as { attempts?: readonly AttemptReport[] })?.attempts;
        if (attempts) {
          context.attempts = attempts;
          context.nodes = attempts.at(-1)?.nodes ?? [];
          context.result = { ok: false, reason: (error as { reason?: string }).reason ?? 'error' };
        }
        channel.error.publish(context);
        channel.asyncStart.publish(context);
        channel.asyncEnd.publish(context);
        throw error;
      },
    );
  });
}
