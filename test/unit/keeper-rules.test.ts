import { describe, expect, it } from 'vitest';
import { lostChannel } from '../../src/diagnostics.js';
import type { AttemptReport, LockLostError, NodeOutcome, NodeReport } from '../../src/errors.js';
import { type KeeperHost, type KeepOptions, keeperMarginMs, LeaseKeeper } from '../../src/keeper.js';
import { Lease } from '../../src/lease.js';
import { Lock, type LockOwner } from '../../src/lock.js';
import type { RenewResult } from '../../src/renew.js';
import { flushMicrotasks, VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * The keeper's rules (R11) on a host whose renews the test answers by hand, on virtual time:
 * exactly when it renews, retries and gives up, and what it leaves behind. Start 1000,
 * validity 2968 (ttl 3000, drift 32): deadline 3968, margin 148, first renew at 1000 + 2968/3.
 */
const TTL = 3_000;
const VALIDITY = 2_968;
const START = 1_000;
const MARGIN = 148;

interface RenewCall {
  readonly at: number;
  readonly ttl: number;
  readonly resolve: (result: RenewResult) => void;
  readonly reject: (error: unknown) => void;
}

function setup(options: KeepOptions = {}, lease?: (lease: Lease) => void) {
  const time = new VirtualTime(START);
  const runtime = virtualRuntime(time);
  const leaseOfLock = new Lease(time, runtime.wallClock, START + VALIDITY, START + 2 * TTL);
  lease?.(leaseOfLock);
  const lock = new Lock({
    resource: 'job',
    resources: ['job'],
    value: 'v',
    ttl: TTL,
    attempts: 1,
    report: {} as AttemptReport,
    fencingToken: null,
    lease: leaseOfLock,
    owner: {} as LockOwner,
  });
  const calls: RenewCall[] = [];
  const host: KeeperHost = {
    quorum: 3,
    renew: (_lock, ttl) =>
      new Promise((resolve, reject) => calls.push({ at: time.now(), ttl, resolve, reject })),
  };
  const keeper = new LeaseKeeper(host, runtime, lock, options);
  let lostAt: number | undefined;
  keeper.signal.addEventListener('abort', () => {
    lostAt = time.now();
  });
  /** Fire timers until `done()` holds (bounded). */
  const until = async (done: () => boolean) => {
    for (let step = 0; step < 1_000; step++) {
      await flushMicrotasks();
      if (done()) return;
      if (!time.fireNext()) throw new Error('no timer left');
    }
    throw new Error('not reached');
  };
  /** What a successful renew does to the lease, then its answer. */
  const grant = async (call: RenewCall) => {
    const seq = leaseOfLock.renewSent(time.now() + call.ttl - 32, time.now() + 2 * call.ttl);
    leaseOfLock.renewSettled(seq, time.now() + call.ttl - 32);
    call.resolve(result(true, []));
    await flushMicrotasks();
  };
  const reason = () => (keeper.signal.reason as LockLostError).reason;
  /** Stop the keeper, answering the renew in flight (stop() waits for it). */
  const stop = async () => {
    const stopping = keeper.stop();
    calls.at(-1)?.resolve(result(false, ANSWERS_2_OF_5, 'no-quorum'));
    await stopping;
    expect(time.pendingTimers).toBe(0);
  };
  return { time, lease: leaseOfLock, lock, calls, keeper, until, grant, reason, stop, lostAt: () => lostAt };
}

function nodes(outcomes: readonly NodeOutcome[]): NodeReport[] {
  return outcomes.map((outcome, node) => ({ node, endpoint: `n${node}`, outcome, latencyMs: null }));
}

function result(
  renewed: boolean,
  outcomes: readonly NodeOutcome[],
  reason?: RenewResult['reason'],
): RenewResult {
  return {
    renewed,
    ...(reason ? { reason } : {}),
    validityMs: 0,
    votes: 0,
    quorum: 3,
    nodes: nodes(outcomes),
  };
}

const ANSWERS_2_OF_5: NodeOutcome[] = ['renewed', 'renewed', 'timeout', 'timeout', 'timeout'];

describe('LeaseKeeper timing (R11)', () => {
  it('keeperMarginMs is 5% of the validity, at least 1 ms', () => {
    const s = setup();
    expect(keeperMarginMs(s.lock)).toBe(MARGIN);
    s.lease.renewSent(s.time.now() + 10, 0);
    expect(s.lock.validityMs).toBe(10);
    expect(keeperMarginMs(s.lock)).toBe(1);
    s.time.jump(20);
    s.lease.renewSent(s.time.now() - 5, 0);
    expect(keeperMarginMs(s.lock)).toBe(1);
  });

  it('renews a third into the validity with the lock’s TTL, then a third into each new one', async () => {
    const s = setup();
    await s.until(() => s.calls.length === 1);
    expect(s.calls[0]!.at).toBeCloseTo(START + VALIDITY / 3, 6);
    expect(s.calls[0]!.ttl).toBe(TTL);
    await s.grant(s.calls[0]!);
    await s.until(() => s.calls.length === 2);
    expect(s.calls[1]!.at).toBeCloseTo(START + (2 * VALIDITY) / 3, 6);
    expect(s.keeper.renewals).toBe(1);
    // The watchdog moved with the deadline: nothing was lost at the first deadline's margin.
    expect(s.lostAt()).toBeUndefined();
    await s.stop();
  });

  it('renews with the TTL it was given', async () => {
    const s = setup({ ttl: 5_000 });
    await s.until(() => s.calls.length === 1);
    expect(s.calls[0]!.ttl).toBe(5_000);
    await s.stop();
  });

  it('gives up a margin before the deadline when no renew answers, and renews no more', async () => {
    const s = setup();
    await s.until(() => s.lostAt() !== undefined);
    expect(s.lostAt()).toBe(START + VALIDITY - MARGIN);
    expect(s.reason()).toBe('expired');
    expect(s.calls).toHaveLength(1);
    expect(s.time.pendingTimers).toBe(0);
    await expect(s.keeper.lost).rejects.toBe(s.keeper.signal.reason);
  });

  it('re-arms the watchdog when a renew brings the deadline closer', async () => {
    const s = setup();
    s.time.jump(100);
    s.lease.renewSent(s.time.now() + 1_000, 0);
    await s.until(() => s.lostAt() !== undefined);
    expect(s.lostAt()).toBe(START + 100 + 1_000 - 50);
    expect(s.reason()).toBe('expired');
  });
});

describe('LeaseKeeper after a failed renew (R11)', () => {
  it('retries a renew without enough answers after a tenth of what is left', async () => {
    const s = setup();
    await s.until(() => s.calls.length === 1);
    s.time.jump(200);
    const left = START + VALIDITY - s.time.now();
    s.calls[0]!.resolve(result(false, ANSWERS_2_OF_5, 'no-quorum'));
    await s.until(() => s.calls.length === 2);
    expect(s.calls[1]!.at).toBeCloseTo(START + VALIDITY - left + left / 10, 6);
    // A renew that rejects is retried the same way.
    s.calls[1]!.reject(new Error('boom'));
    const rejectedAt = s.time.now();
    await s.until(() => s.calls.length === 3);
    expect(s.calls[2]!.at).toBeCloseTo(rejectedAt + (START + VALIDITY - rejectedAt) / 10, 6);
    expect(s.keeper.renewals).toBe(0);
    expect(s.lostAt()).toBeUndefined();
    await s.stop();
  });

  it('loses the lock when the nodes answering not-held alone deny a quorum, and not before', async () => {
    const s = setup();
    await s.until(() => s.calls.length === 1);
    s.calls[0]!.resolve(result(false, ['not-held', 'not-held', 'timeout', 'error', 'renewed'], 'no-quorum'));
    await s.until(() => s.calls.length === 2);
    expect(s.lostAt()).toBeUndefined();
    const last = result(false, ['not-held', 'not-held', 'not-held', 'renewed', 'renewed'], 'no-quorum');
    s.calls[1]!.resolve(last);
    await flushMicrotasks();
    expect(s.lostAt()).toBe(s.calls[1]!.at);
    expect(s.reason()).toBe('not-held');
    expect((s.keeper.signal.reason as LockLostError).nodes).toBe(last.nodes);
    expect(s.time.pendingTimers).toBe(0);
  });

  it('counts not-held against the nodes in the report: 3 of 4 deny a quorum of 3', async () => {
    const s = setup();
    await s.until(() => s.calls.length === 1);
    s.calls[0]!.resolve(result(false, ['not-held', 'not-held', 'not-held', 'renewed'], 'no-quorum'));
    await flushMicrotasks();
    expect(s.reason()).toBe('not-held');
  });

  it.each(['expired', 'released'] as const)('loses the lock at once when the renew says %s', async (why) => {
    const s = setup();
    await s.until(() => s.calls.length === 1);
    const answer = result(false, ANSWERS_2_OF_5, why);
    s.calls[0]!.resolve(answer);
    await flushMicrotasks();
    expect(s.lostAt()).toBe(s.calls[0]!.at);
    expect(s.reason()).toBe(why);
    expect((s.keeper.signal.reason as LockLostError).nodes).toBe(answer.nodes);
    expect(s.time.pendingTimers).toBe(0);
  });
});

describe('LeaseKeeper limits, release and stop (R11)', () => {
  it('with maxRenewals, renews exactly that often, then lapses a margin before the deadline', async () => {
    const s = setup({ maxRenewals: 2 });
    for (const k of [0, 1]) {
      await s.until(() => s.calls.length === k + 1);
      await s.grant(s.calls[k]!);
    }
    const deadline = s.lock.deadlineMs;
    await s.until(() => s.lostAt() !== undefined);
    expect(s.calls).toHaveLength(2);
    expect(s.keeper.renewals).toBe(2);
    expect(s.lostAt()).toBe(deadline - MARGIN);
    expect(s.reason()).toBe('renewal-limit');
  });

  it('with maxRenewals 0, never renews', async () => {
    const s = setup({ maxRenewals: 0 });
    await s.until(() => s.lostAt() !== undefined);
    expect(s.calls).toHaveLength(0);
    expect(s.reason()).toBe('renewal-limit');
  });

  it('is lost at once, with nothing armed, on a lock already released', () => {
    const s = setup({}, (lease) => lease.markReleased());
    expect(s.lostAt()).toBeUndefined(); // aborted in the constructor, before the test listened
    expect(s.keeper.signal.aborted).toBe(true);
    expect(s.reason()).toBe('released');
    expect(s.time.pendingTimers).toBe(0);
    expect(s.lease.keepers.size).toBe(0);
  });

  it('is halted by a release of its lease, with reason released', async () => {
    const s = setup();
    expect(s.lease.keepers.size).toBe(1);
    s.time.jump(10);
    s.lease.markReleased();
    expect(s.lostAt()).toBe(START + 10);
    expect(s.reason()).toBe('released');
    expect(s.time.pendingTimers).toBe(0);
  });

  it('stop() waits for the renew in flight, arms nothing after it and leaves the lease', async () => {
    const s = setup();
    await s.until(() => s.calls.length === 1);
    let stopped = false;
    const stopping = s.keeper.stop().then(() => {
      stopped = true;
    });
    await flushMicrotasks();
    expect(stopped).toBe(false);
    expect(s.lease.keepers.size).toBe(0);
    await s.grant(s.calls[0]!);
    await stopping;
    expect(s.keeper.renewals).toBe(0);
    expect(s.time.pendingTimers).toBe(0);
    expect(s.keeper.signal.aborted).toBe(false);
    // Stopped keepers ignore the lease: a release does not abort their signal.
    s.lease.markReleased();
    expect(s.keeper.signal.aborted).toBe(false);
  });

  it('never resumes once lost: a renew answered after the loss arms nothing', async () => {
    const s = setup();
    await s.until(() => s.calls.length === 1);
    // The renew hangs past the watchdog: lost a margin before the deadline.
    await s.until(() => s.lostAt() !== undefined);
    expect(s.reason()).toBe('expired');
    await s.grant(s.calls[0]!);
    expect(s.keeper.renewals).toBe(0);
    expect(s.time.pendingTimers).toBe(0);
    await s.time.drain();
    expect(s.calls).toHaveLength(1);
  });

  it('stop() before any renew arms nothing and resolves at once', async () => {
    const s = setup();
    await s.keeper.stop();
    expect(s.time.pendingTimers).toBe(0);
    await s.time.drain();
    expect(s.calls).toHaveLength(0);
  });
});

describe('LeaseKeeper: the quorumlock:lost channel', () => {
  it('publishes a loss with its resources and reason, and nothing for a stop', async () => {
    const published: unknown[] = [];
    const listener = (message: unknown) => published.push(message);
    lostChannel.subscribe(listener);
    try {
      const lost = setup();
      await lost.until(() => lost.lostAt() !== undefined);
      expect(published).toEqual([{ resources: ['job'], reason: lost.reason() }]);
      const stopped = setup();
      await stopped.stop();
      expect(published).toHaveLength(1);
    } finally {
      lostChannel.unsubscribe(listener);
    }
  });
});
