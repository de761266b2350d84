import { tracingChannel } from 'node:diagnostics_channel';
import {
  type Attributes,
  context,
  type MeterProvider,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Redlock } from 'quorumlock';
import { instrumentQuorumlock, type QuorumlockInstrumentation } from 'quorumlock/otel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/fault-hooks.js';
import { useSharedNodes } from '../support/real-nodes.js';

/**
 * quorumlock/otel end to end: real nodes, ioredis 6 (which publishes its commands on its own
 * `ioredis:command` / `ioredis:batch` tracing channels), the OpenTelemetry SDK's in-memory span
 * exporter and the AsyncLocalStorage context manager.
 */

const nodes = useSharedNodes();
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const manager = new AsyncLocalStorageContextManager();
const recorded: Array<{ name: string; value: number; attributes: Attributes | undefined }> = [];
/** A meter provider that records every measurement (the API's shape, no SDK). */
const meterProvider = {
  getMeter: () => ({
    createHistogram: (name: string) => ({
      record: (value: number, attributes?: Attributes) => recorded.push({ name, value, attributes }),
    }),
    createCounter: (name: string) => ({
      add: (value: number, attributes?: Attributes) => recorded.push({ name, value, attributes }),
    }),
  }),
} as unknown as MeterProvider;

/** A span per ioredis command or batch, made the way an instrumentation would: under the active context. */
const redisSpans = new WeakMap<object, Span>();
const redisArgs: string[][] = [];
const redisHandlers = {
  start(ctx: object) {
    const { command, args } = ctx as { command?: string; args?: string[] };
    if (args) redisArgs.push(args);
    redisSpans.set(
      ctx,
      provider.getTracer('redis').startSpan(`redis ${command ?? 'batch'}`, {}, context.active()),
    );
  },
  end() {},
  asyncStart() {},
  asyncEnd(ctx: object) {
    redisSpans.get(ctx)?.end();
  },
  error() {},
};
const redisChannels = [tracingChannel('ioredis:command'), tracingChannel('ioredis:batch')];

let instrumentation: QuorumlockInstrumentation | undefined;

beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
  for (const channel of redisChannels) channel.subscribe(redisHandlers);
});

afterEach(() => {
  instrumentation?.disable();
  instrumentation = undefined;
  exporter.reset();
  recorded.length = 0;
  redisArgs.length = 0;
});

afterAll(async () => {
  for (const channel of redisChannels) channel.unsubscribe(redisHandlers);
  context.disable();
  await provider.shutdown();
});

const parentOf = (span: ReadableSpan): string | undefined =>
  (span as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId ??
  (span as { parentSpanId?: string }).parentSpanId;

describe('quorumlock/otel', () => {
  it('one span per operation, with counts and no lock value; the Redis commands nest under it', async () => {
    instrumentation = instrumentQuorumlock({ tracerProvider: provider, meterProvider });
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('otel');
    const lock = await redlock.acquire(resource, 5_000);
    await lock.renew();
    await lock.release();
    await redlock.idle();
    const spans = exporter.getFinishedSpans();
    const acquire = spans.find((s) => s.name === 'quorumlock.acquire')!;
    expect(acquire.attributes).toMatchObject({
      'quorumlock.operation': 'acquire',
      'quorumlock.resource_count': 1,
      'quorumlock.ttl_ms': 5_000,
      'quorumlock.ok': true,
      'quorumlock.quorum': 3,
      'quorumlock.attempts': 1,
    });
    expect(acquire.attributes['quorumlock.votes']).toBeGreaterThanOrEqual(3);
    expect(acquire.attributes).not.toHaveProperty('quorumlock.resources');
    expect(spans.map((s) => s.name)).toEqual(
      expect.arrayContaining(['quorumlock.renew', 'quorumlock.release']),
    );
    // Never a lock value, nor the resource name, in a quorumlock span.
    const ours = JSON.stringify(
      spans.filter((s) => s.name.startsWith('quorumlock.')).map((s) => s.attributes),
    );
    expect(ours).not.toContain(lock.value);
    expect(ours).not.toContain(resource);
    // The client's own command spans are children of the lock's spans.
    const nested = spans.filter(
      (s) => s.name.startsWith('redis ') && parentOf(s) === acquire.spanContext().spanId,
    );
    expect(nested.length).toBeGreaterThanOrEqual(1);
    // ...and ioredis publishes EVALSHA's arguments, lock value included (docs/observability.md).
    expect(redisArgs.some((args) => args.includes(lock.value))).toBe(true);
    // Metrics: the operation's duration, and each node's.
    expect(recorded).toContainEqual(
      expect.objectContaining({
        name: 'quorumlock.operation.duration',
        attributes: { 'quorumlock.operation': 'acquire', 'quorumlock.outcome': 'ok' },
      }),
    );
    const perNode = recorded.filter((r) => r.name === 'quorumlock.node.duration');
    expect(new Set(perNode.map((r) => r.attributes?.['server.address'])).size).toBeGreaterThanOrEqual(3);
  });

  it('a failed acquisition: error status, error.type and the failure reason', async () => {
    instrumentation = instrumentQuorumlock({ tracerProvider: provider, meterProvider });
    const redlock = new Redlock(nodes.clients, { retryCount: 0 });
    const resource = nodes.key('otel-contended');
    const held = await redlock.acquire(resource, 5_000);
    await expect(redlock.acquire(resource, 5_000)).rejects.toThrow(/contended/);
    await held.release();
    const failed = exporter
      .getFinishedSpans()
      .find((s) => s.name === 'quorumlock.acquire' && s.attributes['quorumlock.ok'] === false)!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes).toMatchObject({
      'error.type': 'contended',
      'quorumlock.failure_reason': 'contended',
      'quorumlock.attempts': 1,
    });
  });

  it('resource names only through the opt-in hook', async () => {
    instrumentation = instrumentQuorumlock({
      tracerProvider: provider,
      meterProvider,
      resourceAttribute: (resources) => resources.map((r) => r.split(':').at(-1)).join(','),
    });
    const redlock = new Redlock(nodes.clients);
    const lock = await redlock.acquire(nodes.key('named'), 5_000);
    await lock.release();
    const acquire = exporter.getFinishedSpans().find((s) => s.name === 'quorumlock.acquire')!;
    expect(acquire.attributes['quorumlock.resources']).toBe('named');
  });

  it('counts a lost lock', async () => {
    instrumentation = instrumentQuorumlock({ tracerProvider: provider, meterProvider });
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('otel-lost');
    const lock = await redlock.acquire(resource, 600);
    const keeper = redlock.keep(lock);
    // Someone deletes the keys: the next renew finds them absent everywhere.
    await Promise.all(nodes.admins.map((a) => a.del(resource)));
    expect(await eventually(() => keeper.signal.aborted, 10_000)).toBe(true);
    await keeper.stop();
    expect(recorded).toContainEqual({
      name: 'quorumlock.lock.lost',
      value: 1,
      attributes: { 'quorumlock.lost_reason': 'not-held' },
    });
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('refuses unknown options', () => {
    expect(() => instrumentQuorumlock({ tracer: provider } as never)).toThrow(
      /options\.tracer.*did you mean tracerProvider/,
    );
  });
});
