import { channel, tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import {
  active,
  type LockTraceContext,
  type LockTracingChannel,
  lostChannel,
  traced,
} from '../../src/diagnostics.js';
import type { AttemptReport, NodeReport } from '../../src/errors.js';

/**
 * src/diagnostics.ts on its own: when a channel counts as subscribed, and what `traced`
 * publishes, in which order, for a result, a rejection and a synchronous throw.
 */
const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

describe('the channels', () => {
  it('publishes a lost lock on the plain channel `quorumlock:lost`', () => {
    expect(lostChannel).toBe(channel('quorumlock:lost'));
    expect(lostChannel.name).toBe('quorumlock:lost');
  });
});

describe('active', () => {
  it('reads the aggregate hasSubscribers of a tracing channel', () => {
    const channel = tracingChannel('quorumlock-test:aggregate') as LockTracingChannel;
    expect(active(channel)).toBe(false);
    const handlers = { asyncEnd: () => undefined };
    channel.subscribe(handlers as never);
    try {
      expect(active(channel)).toBe(true);
    } finally {
      channel.unsubscribe(handlers as never);
    }
  });

  it('without one (older Node), any of the five channels with a subscriber counts', () => {
    const without = (subscribed: string | undefined) =>
      Object.fromEntries(EVENTS.map((e) => [e, { hasSubscribers: e === subscribed }])) as never;
    expect(active(without(undefined))).toBe(false);
    for (const event of EVENTS) expect(active(without(event))).toBe(true);
  });
});

describe('traced', () => {
  /** A fresh tracing channel whose events (name and a copy of the context) are recorded. */
  function recorded(name: string) {
    const channel = tracingChannel(`quorumlock-test:${name}`) as LockTracingChannel;
    const seen: Array<[string, LockTraceContext]> = [];
    const handlers = Object.fromEntries(
      EVENTS.map((e) => [e, (context: LockTraceContext) => seen.push([e, { ...context }])]),
    );
    channel.subscribe(handlers as never);
    return { channel, seen, done: () => channel.unsubscribe(handlers as never) };
  }
  const context = (): LockTraceContext => ({ operation: 'acquire', resources: ['r'], ttl: 100 });

  it('calls fn untouched when nobody subscribes: the same promise, nothing settled', async () => {
    const channel = tracingChannel('quorumlock-test:idle') as LockTracingChannel;
    const promise = Promise.resolve(7);
    let settled = false;
    const out = traced(
      channel,
      context(),
      () => promise,
      () => {
        settled = true;
      },
    );
    expect(out).toBe(promise);
    await out;
    expect(settled).toBe(false);
  });

  it('publishes start, end, then asyncStart and asyncEnd with the settled result', async () => {
    const { channel, seen, done } = recorded('ok');
    try {
      const result = await traced(
        channel,
        context(),
        async () => 7,
        (value, c) => {
          c.result = { ok: true, validityMs: value };
        },
      );
      expect(result).toBe(7);
      expect(seen.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      expect(seen[3]![1].result).toEqual({ ok: true, validityMs: 7 });
    } finally {
      done();
    }
  });

  it('on a rejection carrying attempts, publishes them, the last nodes and the reason', async () => {
    const { channel, seen, done } = recorded('rejected');
    const nodes: NodeReport[] = [{ node: 0, endpoint: 'a', outcome: 'held', latencyMs: 1 }];
    const attempt = (n: number, list: NodeReport[]) =>
      ({ attempt: n, outcome: 'contended', votes: 0, quorum: 1, elapsedMs: 1, nodes: list }) as AttemptReport;
    try {
      const error = Object.assign(new Error('failed'), {
        reason: 'contended',
        attempts: [attempt(1, []), attempt(2, []), attempt(3, nodes)],
      });
      await expect(
        traced(
          channel,
          context(),
          () => Promise.reject(error),
          () => undefined,
        ),
      ).rejects.toBe(error);
      expect(seen.map(([e]) => e)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
      const published = seen[2]![1];
      expect(published.error).toBe(error);
      expect(published.attempts).toBe(error.attempts);
      expect(published.nodes).toBe(nodes);
      expect(published.result).toEqual({ ok: false, reason: 'contended' });
    } finally {
      done();
    }
  });

  it('a rejection without a reason says error; one without attempts leaves the context as it was', async () => {
    const { channel, seen, done } = recorded('plain');
    try {
      const bare = Object.assign(new Error('x'), { attempts: [] });
      await expect(
        traced(
          channel,
          context(),
          () => Promise.reject(bare),
          () => undefined,
        ),
      ).rejects.toBe(bare);
      expect(seen[2]![1]).toMatchObject({ nodes: [], result: { ok: false, reason: 'error' } });
      seen.length = 0;
      await expect(
        traced(
          channel,
          context(),
          () => Promise.reject('no'),
          () => undefined,
        ),
      ).rejects.toBe('no');
      expect(seen[2]![1]).toEqual({ ...context(), error: 'no' });
      // Whatever it rejects with, null and undefined included, is passed on as it is.
      for (const nothing of [null, undefined]) {
        seen.length = 0;
        const rejected = traced(
          channel,
          context(),
          () => Promise.reject(nothing),
          () => undefined,
        );
        await expect(rejected).rejects.toBe(nothing);
        expect(seen.map(([e]) => e)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
      }
    } finally {
      done();
    }
  });

  it('a synchronous throw publishes error then end, and is rethrown', () => {
    const { channel, seen, done } = recorded('thrown');
    try {
      const error = new Error('sync');
      expect(() =>
        traced(
          channel,
          context(),
          () => {
            throw error;
          },
          () => undefined,
        ),
      ).toThrow(error);
      expect(seen.map(([e]) => e)).toEqual(['start', 'error', 'end']);
      expect(seen[1]![1].error).toBe(error);
    } finally {
      done();
    }
  });
});
