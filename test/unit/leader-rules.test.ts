import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import {
  type AttemptReport,
  ElectionStoppedError,
  type InvalidArgumentError,
  LockLostError,
} from '../../src/errors.js';
import type { KeepOptions, LeaseKeeper } from '../../src/keeper.js';
import { LeaderElection, type LeaderHost, type LeaderOptions } from '../../src/leader.js';
import { Lease } from '../../src/lease.js';
import { Lock, type LockOwner } from '../../src/lock.js';
import type { ReleaseResult } from '../../src/release.js';
import type { RetryContext, RetryStrategy } from '../../src/retry.js';
import { flushMicrotasks, VirtualTime } from '../support/virtual-time.js';

/**
 * A LeaderElection over a host the test drives by hand: each campaign round's acquisition is
 * answered by the test, each term's keeper is a stub the test makes lose. What the election does
 * with the strategy, the terms, the callbacks and the lock.
 */
const TTL = 3_000;

interface Acquire {
  readonly ttl: number;
  readonly signal: AbortSignal;
  readonly strategy: RetryStrategy;
  readonly resolve: (lock: Lock) => void;
  readonly reject: (error: unknown) => void;
}

class StubKeeper {
  readonly #controller = new AbortController();
  readonly lost: Promise<never>;
  #reject!: (error: LockLostError) => void;
  stopped = 0;
  constructor(
    readonly lock: Lock,
    readonly options: KeepOptions,
  ) {
    this.lost = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.lost.catch(() => {});
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  lose(reason: 'expired' | 'not-held' = 'not-held'): LockLostError {
    const error = new LockLostError(this.lock.resources, reason);
    this.#controller.abort(error);
    this.#reject(error);
    return error;
  }
  async stop(): Promise<void> {
    this.stopped++;
  }
}

function setup(options: Partial<LeaderOptions> = {}) {
  const time = new VirtualTime();
  const acquires: Acquire[] = [];
  const keepers: StubKeeper[] = [];
  const released: Lock[] = [];
  const host: LeaderHost = {
    options: { retryDelay: 100, retryJitter: 20, driftFactor: 0.01 },
    acquire: (_resource, ttl, signal, strategy) =>
      new Promise((resolve, reject) => acquires.push({ ttl, signal, strategy, resolve, reject })),
    keep: (lock, keepOptions) => {
      const keeper = new StubKeeper(lock, keepOptions);
      keepers.push(keeper);
      return keeper as unknown as LeaseKeeper;
    },
  };
  const owner: LockOwner = {
    release: async (lock) => {
      released.push(lock);
      return {} as ReleaseResult;
    },
    renew: () => Promise.reject(new Error('not used')),
  };
  /** A lock with `validityMs` left. */
  const lockWith = (validityMs: number) =>
    new Lock({
      resource: 'leader',
      resources: ['leader'],
      value: `v${acquires.length}`,
      ttl: TTL,
      attempts: 1,
      report: {} as AttemptReport,
      fencingToken: null,
      lease: new Lease(time, time, time.now() + validityMs, time.now() + 2 * TTL),
      owner,
    });
  const election = new LeaderElection(host, 'leader', { ttl: TTL, ...options });
  return { time, acquires, keepers, released, lockWith, election };
}

const context = (draw: number): RetryContext => ({
  lastAttempt: {} as AttemptReport,
  elapsedMs: 0,
  random: () => draw,
});

describe('LeaderElection campaign rounds', () => {
  it('campaigns with the ttl and, by default, the Redlock’s retryDelay ± retryJitter', async () => {
    const s = setup();
    await flushMicrotasks();
    expect(s.acquires).toHaveLength(1);
    expect(s.acquires[0]!.ttl).toBe(TTL);
    const { strategy } = s.acquires[0]!;
    expect([0, 0.5, 0.75].map((draw) => strategy(1, context(draw)))).toEqual([80, 100, 110]);
    await stop(s);
  });

  it('never gives up: where the chosen strategy stops (null or negative), it waits the default delay', async () => {
    const answers: Array<number | null> = [250, 0, null, -1];
    const s = setup({ retryStrategy: () => answers.shift()! });
    await flushMicrotasks();
    const { strategy } = s.acquires[0]!;
    expect([1, 2, 3, 4].map((attempt) => strategy(attempt, context(0.5)))).toEqual([250, 0, 100, 100]);
    await stop(s);
  });

  it('passes a strategy’s answer that is not a number on, for the acquisition to refuse', async () => {
    const s = setup({ retryStrategy: (() => '-1') as unknown as RetryStrategy });
    await flushMicrotasks();
    expect(s.acquires[0]!.strategy(1, context(0.5))).toBe('-1');
    await stop(s);
  });

  it('a term: keeps the lock with the ttl, resolves elected() and calls onElected with the term', async () => {
    const elected: Array<[AbortSignal, Lock]> = [];
    const s = setup({ onElected: (signal, lock) => elected.push([signal, lock]) });
    const waiting = s.election.elected();
    await flushMicrotasks();
    const lock = s.lockWith(2_968);
    s.acquires[0]!.resolve(lock);
    const term = await waiting;
    expect(term.lock).toBe(lock);
    expect(s.keepers[0]!.options).toEqual({ ttl: TTL });
    expect(elected).toEqual([[term.signal, lock]]);
    expect(s.election.isLeader).toBe(true);
    expect(s.election.lock).toBe(lock);
    expect(s.election.terms).toBe(1);
    // While leader, elected() answers at once with the same term.
    const again = await s.election.elected();
    expect(again.signal).toBe(term.signal);
    expect(again.lock).toBe(lock);
    await stop(s);
    expect(term.signal.aborted).toBe(true);
    expect(term.signal.reason).toBeInstanceOf(ElectionStoppedError);
    expect(s.released).toEqual([lock]);
    expect(s.keepers[0]!.stopped).toBe(1);
  });

  it('a lock that comes back with no more than the margin left is no term', async () => {
    const elected: Lock[] = [];
    const s = setup({ onElected: (_signal, lock) => elected.push(lock) });
    await flushMicrotasks();
    // Margin of a 2968 ms validity: 148 ms. Exactly the margin left is not enough.
    const lock = s.lockWith(2_968);
    s.time.jump(2_968 - 148);
    expect(lock.remainingMs()).toBe(148);
    s.acquires[0]!.resolve(lock);
    await flushMicrotasks();
    expect(s.election.isLeader).toBe(false);
    expect(s.election.lock).toBeUndefined();
    expect(elected).toEqual([]);
    expect(s.election.terms).toBe(1);
    s.keepers[0]!.lose('expired');
    await flushMicrotasks();
    expect(s.acquires).toHaveLength(2);
    await stop(s);
  });

  it('on a loss: onDemoted with the error, the lock not released, the keeper stopped, a new campaign', async () => {
    const demoted: LockLostError[] = [];
    const s = setup({ onDemoted: (error) => demoted.push(error) });
    await flushMicrotasks();
    const lock = s.lockWith(2_968);
    s.acquires[0]!.resolve(lock);
    const { signal } = await s.election.elected();
    const error = s.keepers[0]!.lose();
    await flushMicrotasks();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(error);
    expect(demoted).toEqual([error]);
    expect(s.election.isLeader).toBe(false);
    expect(s.released).toEqual([]);
    expect(s.keepers[0]!.stopped).toBe(1);
    expect(s.acquires).toHaveLength(2);
    // The ended term left no listener on the campaign's stop signal.
    expect(getEventListeners(s.acquires[1]!.signal, 'abort')).toHaveLength(0);
    // A second term.
    s.acquires[1]!.resolve(s.lockWith(2_968));
    await flushMicrotasks();
    expect(s.election.terms).toBe(2);
    expect(s.election.isLeader).toBe(true);
    await stop(s);
    expect(demoted).toHaveLength(1);
  });
});

describe('LeaderElection endings', () => {
  it('stop() while campaigning ends it quietly: elected() rejects with the stop, onError is not called', async () => {
    const onError = vi.fn();
    const s = setup({ onError });
    const waiting = s.election.elected().catch((e: unknown) => e);
    await flushMicrotasks();
    const stopping = s.election.stop();
    expect(s.acquires[0]!.signal.aborted).toBe(true);
    s.acquires[0]!.reject(s.acquires[0]!.signal.reason);
    await stopping;
    const error = await waiting;
    expect(error).toBeInstanceOf(ElectionStoppedError);
    expect(onError).not.toHaveBeenCalled();
    await expect(s.election.elected()).rejects.toBe(error);
    expect(s.acquires).toHaveLength(1);
  });

  it('an acquisition that fails for another reason after stop() still ends as stopped', async () => {
    const onError = vi.fn();
    const s = setup({ onError });
    await flushMicrotasks();
    const stopping = s.election.stop();
    s.acquires[0]!.reject(new Error('connection closed'));
    await stopping;
    await expect(s.election.elected()).rejects.toBeInstanceOf(ElectionStoppedError);
    expect(onError).not.toHaveBeenCalled();
  });

  it('an acquisition error ends the campaign: onError once, elected() rejects with it', async () => {
    const onError = vi.fn();
    const s = setup({ onError });
    const waiting = s.election.elected().catch((e: unknown) => e);
    await flushMicrotasks();
    const boom = new Error('boom');
    s.acquires[0]!.reject(boom);
    expect(await waiting).toBe(boom);
    expect(onError.mock.calls).toEqual([[boom]]);
    await expect(s.election.elected()).rejects.toBe(boom);
    await s.election.stop();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(s.acquires).toHaveLength(1);
  });

  it('a callback that throws is a warning, and the campaign goes on', async () => {
    const warnings: Array<[string, unknown]> = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push([warning.message, warning.code]);
    process.on('warning', onWarning);
    try {
      const s = setup({
        onElected: () => {
          throw new Error('elected cb');
        },
        onDemoted: () => {
          throw new Error('demoted cb');
        },
      });
      await flushMicrotasks();
      s.acquires[0]!.resolve(s.lockWith(2_968));
      await s.election.elected();
      s.keepers[0]!.lose();
      await flushMicrotasks();
      expect(s.acquires).toHaveLength(2);
      await stop(s);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([
        ['quorumlock leader election callback threw: Error: elected cb', 'QUORUMLOCK_CALLBACK'],
        ['quorumlock leader election callback threw: Error: demoted cb', 'QUORUMLOCK_CALLBACK'],
      ]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

/** Stop the election, answering the acquisition in flight as the Redlock would (with the abort reason). */
async function stop(s: ReturnType<typeof setup>): Promise<void> {
  const stopping = s.election.stop();
  for (const a of s.acquires) if (a.signal.aborted) a.reject(a.signal.reason);
  await stopping;
  expect(s.election.isLeader).toBe(false);
}

describe('LeaderElection input', () => {
  it('says what it expected of each argument', () => {
    const make = (options: unknown) => () =>
      new LeaderElection(
        {
          options: { retryDelay: 100, retryJitter: 20, driftFactor: 0.01 },
          acquire: () => new Promise(() => {}),
          keep: () => {
            throw new Error('not used');
          },
        },
        'leader',
        options as LeaderOptions,
      );
    const caught = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error as InvalidArgumentError;
      }
      throw new Error('did not throw');
    };
    expect(caught(make(undefined))).toMatchObject({
      argument: 'options',
      expected: 'an object { ttl, ... }',
    });
    expect(caught(make({ ttl: -1 }))).toMatchObject({ argument: 'options.ttl' });
    expect(caught(make({ ttl: TTL, onDemoted: 1 }))).toMatchObject({
      argument: 'options.onDemoted',
      expected: 'a function',
    });
  });
});
