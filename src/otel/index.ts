/**
 * `quorumlock/otel`: quorumlock's tracing channels (src/diagnostics.ts, docs/observability.md)
 * as OpenTelemetry spans and metrics. `@opentelemetry/api` is an optional peer dependency: only
 * this entry imports it, so lock-only users pay nothing.
 *
 * Spans never carry a lock value, nor resource names unless `resourceAttribute` opts in (names
 * built from user input make unbounded cardinality).
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import {
  type Attributes,
  type Context,
  context,
  type Histogram,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { LockLostMessage, LockTraceContext } from '../diagnostics.js';
import { type AttemptReport, errorName, type NodeReport } from '../errors.js';
import { requireOptions } from '../options.js';

/** Options of `instrumentQuorumlock`; all optional. */
export interface QuorumlockInstrumentationOptions {
  /** @default the global tracer provider */
  readonly tracerProvider?: TracerProvider;
  /** @default the global meter provider */
  readonly meterProvider?: MeterProvider;
  /**
   * Opt-in: the value of the `quorumlock.resources` span attribute for an operation's resources,
   * or undefined for none. Off by default: resource names can be unbounded (URLs, ids).
   * @default none
   */
  readonly resourceAttribute?: (resources: readonly string[]) => string | undefined;
  /**
   * The AsyncLocalStorage behind the OpenTelemetry context manager, so that what an operation
   * does (the Redis client's own command spans) nests under its span. @default the one of the
   * registered `AsyncLocalStorageContextManager`, when there is one; else spans do not nest
   */
  readonly contextStorage?: AsyncLocalStorage<Context>;
}

const OPTION_KEYS = ['tracerProvider', 'meterProvider', 'resourceAttribute', 'contextStorage'] as const;
const OPERATIONS = ['acquire', 'renew', 'release'] as const;
const YES = new Set(['acquired', 'renewed', 'released']);
const SCOPE = 'quorumlock';

/** A running instrumentation: `disable()` unsubscribes everything. */
export interface QuorumlockInstrumentation {
  /** Unsubscribe from every channel and unbind the context storage. */
  disable(): void;
}

/**
 * Subscribe to `quorumlock:acquire`, `:renew`, `:release` and `:lost`: one span per operation
 * (`quorumlock.acquire`, ...), with the resource count, TTL, votes, quorum, attempts, the failure
 * reason and `error.type`; metrics `quorumlock.operation.duration` (ms, by operation and outcome),
 * `quorumlock.node.duration` (ms, by node, operation and outcome) and `quorumlock.lock.lost`.
 */
export function instrumentQuorumlock(
  options: QuorumlockInstrumentationOptions = {},
): QuorumlockInstrumentation {
  const o = requireOptions('options', options, OPTION_KEYS);
  const tracer = (o.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (o.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const operationDuration: Histogram = meter.createHistogram('quorumlock.operation.duration', {
    unit: 'ms',
    description: 'Duration of an acquire (all its attempts), renew or release',
  });
  const nodeDuration: Histogram = meter.createHistogram('quorumlock.node.duration', {
    unit: 'ms',
    description: "One node's answer time in a round",
  });
  const lost = meter.createCounter('quorumlock.lock.lost', { description: 'Kept locks lost before release' });
  const storage = o.contextStorage ?? discoverStorage();
  const spans = new WeakMap<object, { span: Span; started: number }>();

  const begin = (ctx: LockTraceContext, parent: Context): Span => {
    const attributes: Attributes = {
      'quorumlock.operation': ctx.operation,
      'quorumlock.resource_count': ctx.resources.length,
    };
    if (ctx.ttl !== undefined) attributes['quorumlock.ttl_ms'] = ctx.ttl;
    const named = o.resourceAttribute?.(ctx.resources);
    if (named !== undefined) attributes['quorumlock.resources'] = named;
    const span = tracer.startSpan(
      `quorumlock.${ctx.operation}`,
      { kind: SpanKind.INTERNAL, attributes },
      parent,
    );
    spans.set(ctx, { span, started: performance.now() });
    return span;
  };

  const finish = (ctx: LockTraceContext) => {
    const entry = spans.get(ctx);
    if (!entry) return;
    spans.delete(ctx);
    const { span, started } = entry;
    const nodes = ctx.nodes ?? [];
    const last: AttemptReport | undefined = ctx.attempts?.at(-1);
    const ok = ctx.result?.ok ?? false;
    const attributes: Attributes = {
      'quorumlock.ok': ok,
      'quorumlock.votes': last?.votes ?? nodes.filter((n) => YES.has(n.outcome)).length,
    };
    if (last) attributes['quorumlock.quorum'] = last.quorum;
    if (ctx.attempts) attributes['quorumlock.attempts'] = ctx.attempts.length;
    if (ctx.result?.reason) attributes['quorumlock.failure_reason'] = ctx.result.reason;
    if (ctx.result?.releasedCount !== undefined)
      attributes['quorumlock.released_count'] = ctx.result.releasedCount;
    span.setAttributes(attributes);
    const outcome = ctx.error !== undefined ? errorType(ctx) : ok ? 'ok' : (ctx.result?.reason ?? 'not-ok');
    if (ctx.error !== undefined) {
      // The type only: messages name resources, which the caller did not opt in to.
      span.setAttribute('error.type', outcome);
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    }
    span.end();
    operationDuration.record(performance.now() - started, {
      'quorumlock.operation': ctx.operation,
      'quorumlock.outcome': outcome,
    });
    for (const n of nodes) recordNode(nodeDuration, ctx.operation, n);
  };

  const subscriptions = OPERATIONS.map((operation) => {
    const channel = tracingChannel<unknown, LockTraceContext & object>(`quorumlock:${operation}`);
    const handlers = {
      start: (ctx: LockTraceContext) => {
        if (!spans.has(ctx)) begin(ctx, context.active());
      },
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (ctx: LockTraceContext) => finish(ctx),
      error: () => {},
    };
    if (storage) {
      // The span is made when the operation's stores are entered, and is the active span for
      // everything the operation does.
      channel.start.bindStore(storage, (ctx) =>
        trace.setSpan(context.active(), begin(ctx as LockTraceContext, context.active())),
      );
    }
    channel.subscribe(handlers);
    return () => {
      channel.unsubscribe(handlers);
      if (storage) channel.start.unbindStore(storage);
    };
  });

  // `quorumlock:lost` (src/diagnostics.ts), a plain channel: channels are shared by name.
  const onLost = (message: unknown) => {
    lost.add(1, { 'quorumlock.lost_reason': (message as LockLostMessage).reason });
  };
  subscribe('quorumlock:lost', onLost);

  return {
    disable() {
      for (const off of subscriptions) off();
      unsubscribe('quorumlock:lost', onLost);
    },
  };
}

function recordNode(histogram: Histogram, operation: string, n: NodeReport): void {
  if (n.latencyMs === null) return;
  histogram.record(n.latencyMs, {
    'quorumlock.operation': operation,
    'quorumlock.node.outcome': n.outcome,
    'server.address': n.endpoint,
  });
}

/** `error.type`: the failure reason of a LockAcquireError, else the error's code or class. */
function errorType(ctx: LockTraceContext): string {
  if (ctx.result?.reason && ctx.result.reason !== 'error') return ctx.result.reason;
  const error = ctx.error;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code) return code;
  return error instanceof Error ? errorName(error) : '_OTHER';
}

/**
 * The AsyncLocalStorage of the registered context manager (`AsyncLocalStorageContextManager`
 * keeps it in `_asyncLocalStorage`): undocumented, so looked for defensively.
 */
function discoverStorage(): AsyncLocalStorage<Context> | undefined {
  const manager = (context as unknown as { _getContextManager?: () => unknown })._getContextManager?.();
  const storage = (manager as { _asyncLocalStorage?: unknown } | undefined)?._asyncLocalStorage;
  return storage && typeof (storage as AsyncLocalStorage<Context>).getStore === 'function'
    ? (storage as AsyncLocalStorage<Context>)
    : undefined;
}
