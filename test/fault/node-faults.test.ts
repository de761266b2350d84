import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { describe, expect, inject, it } from 'vitest';
import { formatNodes, LockAcquireError, LockLostError } from '../../src/errors.js';
import { keeperMarginMs } from '../../src/keeper.js';
import { eventually, sleep, useFaults } from '../support/fault-hooks.js';
import { describeViolations, History, violationCount } from '../support/history.js';
import { recordCalls, type SentCall } from '../support/network.js';

/**
 * Processes that stop (rows 11, 12, 38 of the fault matrix in docs/testing.md): SIGSTOP a node
 * while a request is in flight, or for longer than the ttl while it is in the holder's quorum;
 * kill -9 nodes under an auto-renewing holder. Needs process control: skipped on external nodes
 * (QUORUMLOCK_NODES).
 */
const faults = useFaults();
const EXTEND = 'quorumlock:extend';

describe.skipIf(inject('externalNodes'))('nodes that stop (rows 11, 12, 38)', () => {
  const own = faults.ownNodes(5);

  const redlock = faults.redlock;

  it('row 11: a node paused while the SET is in flight applies it after the client gave up; at most one ttl of a stale key, no safety impact', async () => {
    const ttl = 2_000;
    const history = new History();
    const resource = 'row11:paused';
    const net = await faults.network(own.set.addresses);
    const a = redlock(net.clients);
    // Warm up, so node 4 has the scripts cached and answers with no NOSCRIPT detour.
    await (await a.acquire('row11:warm-up', ttl)).release();
    faults.scope.pause(own.set.nodes[4]!);
    const invokedA = performance.now();
    const lockA = await a.acquire(resource, ttl);
    const heldA = history.acquired('A', lockA, invokedA);
    expect(lockA.report.nodes[4]!.outcome).not.toBe('acquired');
    heldA.end();
    const released = await lockA.release();
    expect(released.releasedCount, formatNodes(released.nodes)).toBe(4);
    expect(released.nodes[4]!.outcome).toBe('timeout');
    faults.scope.resume(own.set.nodes[4]!);
    // The node now runs the queued SET (and, on the same connection, the release after it).
    const stale = await own.set.nodes[4]!.command('GET', resource);
    if (stale !== null) {
      expect(stale).toBe(lockA.value);
      expect(Number(await own.set.nodes[4]!.command('PTTL', resource))).toBeLessThanOrEqual(ttl);
    }
    const b = redlock(net.clients);
    const invokedB = performance.now();
    const lockB = await b.acquire(resource, ttl);
    history.acquired('B', lockB, invokedB).end();
    await lockB.release();
    await a.idle();
    expect(
      await eventually(async () => (await own.set.nodes[4]!.command('EXISTS', resource)) === 0, 5 * ttl),
    ).toBe(true);
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });

  it('row 12: a node of the holder quorum paused beyond the ttl: contenders stay out, the holder extend fails 2/5 and the loss is signalled; after CONT its key is gone', async () => {
    const ttl = 1_000;
    const history = new History();
    const resource = 'row12';
    // Nodes 3 and 4 hold another value: A's quorum is exactly {0,1,2}.
    for (const i of [3, 4]) await own.set.nodes[i]!.command('SET', resource, 'foreign', 'PX', 30_000);
    const netA = await faults.network(own.set.addresses);
    const netB = await faults.network(own.set.addresses);
    const a = redlock(netA.clients, { nodeTimeoutMs: 100 });
    const b = redlock(netB.clients, { nodeTimeoutMs: 100, retryCount: 400, retryDelay: 25, retryJitter: 5 });
    const invokedA = performance.now();
    const lockA = await a.acquire(resource, ttl);
    const heldA = history.acquired('A', lockA, invokedA);
    expect(lockA.report.votes).toBe(3);
    const keeper = a.keep(lockA);
    let abortedAt = 0;
    keeper.signal.addEventListener('abort', () => {
      abortedAt = performance.now();
      heldA.end(abortedAt);
    });
    const pausedAt = performance.now();
    faults.scope.pause(own.set.nodes[2]!);

    const renewed = await a.renew(resource, lockA.value, ttl);
    expect(renewed.renewed, formatNodes(renewed.nodes)).toBe(false);
    expect(renewed.votes).toBe(2);
    expect(renewed.nodes[2]!.outcome).toBe('timeout');
    const refused = await b.acquire(resource, ttl, { retryStrategy: () => null }).then(
      () => new Error('acquired while the holder quorum was paused'),
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(LockAcquireError);
    expect(await eventually(() => keeper.signal.aborted, 5 * ttl)).toBe(true);
    expect(keeper.signal.reason).toBeInstanceOf(LockLostError);
    expect(abortedAt).toBeGreaterThan(pausedAt);

    await sleep(Math.max(0, pausedAt + 2 * ttl - performance.now()));
    faults.scope.resume(own.set.nodes[2]!);
    // Expired while the node was stopped: gone once it runs again.
    expect(await own.set.nodes[2]!.command('GET', resource)).toBeNull();
    const invokedB = performance.now();
    const lockB = await b.acquire(resource, ttl);
    history.acquired('B', lockB, invokedB).end();
    expect(lockB.report.nodes.slice(3).map((n) => n.outcome)).not.toContain('acquired');
    await lockB.release();
    await keeper.stop();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });

  it('row 38: auto-renew keeps the lock with 2 nodes killed; with 3 the signal aborts before the deadline, no renew goes out after it, and it never flips back', async () => {
    const ttl = 3_000;
    const log: SentCall[] = [];
    const net = await faults.network(own.set.addresses);
    const a = redlock(recordCalls(net.clients, log));
    const lock = await a.acquire('row38', ttl);
    const keeper = a.keep(lock);
    let abortedAt = 0;
    keeper.signal.addEventListener('abort', () => {
      abortedAt = performance.now();
    });
    await faults.scope.kill(own.set.nodes[3]!);
    await faults.scope.kill(own.set.nodes[4]!);
    expect(await eventually(() => keeper.renewals >= 2, 5 * ttl)).toBe(true);
    expect(keeper.signal.aborted).toBe(false);

    // How late this process's timers ran meanwhile: on a loaded host the event loop can stall
    // longer than the keeper's margin, and a timer cannot fire before the loop runs again.
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    await faults.scope.kill(own.set.nodes[2]!);
    expect(await eventually(() => keeper.signal.aborted, 5 * ttl)).toBe(true);
    stalls.disable();
    const lost = keeper.signal.reason as LockLostError;
    expect(lost).toBeInstanceOf(LockLostError);
    expect(lost.reason).toBe('expired');
    const deadline = lock.deadlineMs;
    // The watchdog fires a margin (5% of the validity) before the deadline; only a stall longer
    // than that margin can push the abort past it, and then by no more than the stall (measured
    // to within the monitor's 10 ms resolution).
    const stallMs = stalls.max / 1e6 + 10;
    expect(abortedAt).toBeLessThan(deadline + Math.max(0, stallMs - keeperMarginMs(lock)));
    const renewals = keeper.renewals;
    for (const call of log.filter((c) => c.commands.includes(EXTEND))) expect(call.at).toBeLessThan(deadline);

    // The nodes come back: the keeper stays lost and sends nothing more.
    for (const i of [2, 3, 4]) await own.set.nodes[i]!.restart();
    const sent = log.length;
    await sleep(ttl / 2);
    expect(keeper.signal.aborted).toBe(true);
    expect(keeper.renewals).toBe(renewals);
    expect(log.slice(sent).filter((c) => c.commands.includes(EXTEND))).toEqual([]);
    await keeper.stop();
    await lock.release();
  });
});
