import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LockAcquireError, LockLostError } from '../../src/errors.js';
import { eventually, ONCE, sleep, useFaults } from '../support/fault-hooks.js';
import { blockEventLoop } from '../support/faults.js';
import { describeViolations, History, violationCount } from '../support/history.js';
import { onReplies, recordCalls, type SentCall } from '../support/network.js';
import { useSharedNodes } from '../support/real-nodes.js';

/**
 * The client side (rows 13, 14, 15, 36, 43 of the fault matrix in docs/testing.md): a client that
 * stops (its event loop blocked synchronously, as a GC pause or SIGSTOP would), stalls in the
 * middle of a round, starves its own renewals, races a renew with a release, or claims a fencing
 * token late. Real sockets, real nodes, the real clock; the pauses are lower bounds, never timing
 * claims.
 */
const nodes = useSharedNodes();
const faults = useFaults();

const redlock = faults.redlock;

const EXTEND = 'quorumlock:extend';
const RELEASE = 'quorumlock:release';
const REPAIR = 'quorumlock:repair';

describe('a client that stops', () => {
  it('row 13: paused past its validity after acquiring: another client takes over; the stale one sees its deadline passed, its late write is fenced off and its release deletes nothing', async () => {
    const ttl = 300;
    const history = new History();
    const resource = nodes.key('row13');
    expect((await redlock(nodes.clients, { fencing: true }).initFencing(resource)).ready).toBe(true);
    const a = redlock(nodes.clients, { fencing: true });
    const net = await faults.network(nodes.addresses);
    const b = redlock(net.clients, { fencing: true });

    const invokedA = performance.now();
    const lockA = await a.acquire(resource, ttl);
    const heldA = history.acquired('A', lockA, invokedA);
    // A's process stops for longer than the ttl (its event loop is blocked: nothing of it runs).
    blockEventLoop(ttl + 200);
    // Meanwhile A's keys expired on every node: B, with its own connections, takes the lock.
    const invokedB = performance.now();
    const lockB = await b.acquire(resource, 10_000);
    const heldB = history.acquired('B', lockB, invokedB);
    expect(lockB.fencingToken!).toBeGreaterThan(lockA.fencingToken!);
    expect(heldB.write()).toBe(true);
    expect(await heldB.update(async () => {})).toBe(true);

    // A resumes: its own clock says the deadline passed, so it does no new work...
    expect(lockA.remainingMs()).toBe(0);
    expect(await heldA.update(async () => {})).toBe(false);
    // ...and if it wrote anyway, the fenced resource would refuse its older token.
    expect(heldA.write()).toBe(false);
    heldA.end();
    const released = await lockA.release();
    expect(released).toMatchObject({ releasedCount: 0, notHeldCount: 5 });
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lockB.value));
    heldB.end();
    await lockB.release();
    const found = history.check();
    expect(violationCount(found), describeViolations(found)).toBe(0);
    expect(history.fencedValue(resource)).toBe('B');
  });

  it('row 14: paused during the acquire round for longer than the ttl: never a success, and the keys are released', async () => {
    const ttl = 500;
    const pause = ttl + 200;
    let replies = 0;
    const pausing = onReplies(nodes.clients, (_node, commands) => {
      // The client stalls when the third acquire reply arrives, before it can count it.
      if (commands.includes('quorumlock:acquire') && ++replies === 3) blockEventLoop(pause);
    });
    const a = redlock(pausing, { nodeTimeoutMs: 450 });
    const resource = nodes.key('row14');
    const error = await a.acquire(resource, ttl, ONCE).then(
      () => new Error('acquired after a pause longer than the ttl'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LockAcquireError);
    const failure = error as LockAcquireError;
    expect(failure.reason, failure.message).toBe('validity-exhausted');
    expect(failure.attempts[0]!.votes).toBeGreaterThanOrEqual(3);
    expect(failure.attempts[0]!.elapsedMs).toBeGreaterThanOrEqual(pause);
    await a.idle();
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
  });
});

describe('event-loop starvation and auto-renew (row 15)', () => {
  it('starved past the deadline: the lost signal fires once the loop runs again, no renew is sent after the deadline, and renewal stops', async () => {
    const ttl = 600;
    const log: SentCall[] = [];
    const a = redlock(recordCalls(nodes.clients, log));
    const resource = nodes.key('row15:starved');
    const lock = await a.acquire(resource, ttl);
    const keeper = a.keep(lock);
    let abortedAt = 0;
    keeper.signal.addEventListener('abort', () => {
      abortedAt = performance.now();
    });
    // Longer than ttl/3 (the renew point) and than the whole validity.
    blockEventLoop(ttl + 300);
    const blockEnd = performance.now();
    expect(await eventually(() => keeper.signal.aborted, 5 * ttl)).toBe(true);
    expect(keeper.signal.reason).toBeInstanceOf(LockLostError);
    expect((keeper.signal.reason as LockLostError).reason).toBe('expired');
    expect(abortedAt).toBeGreaterThanOrEqual(blockEnd);
    expect(abortedAt).toBeGreaterThanOrEqual(lock.deadlineMs);
    // The overdue renew was refused locally: nothing was sent past the deadline, and it stays so.
    await sleep(ttl);
    expect(log.filter((c) => c.commands.includes(EXTEND))).toEqual([]);
    expect(keeper.renewals).toBe(0);
    expect(keeper.signal.aborted).toBe(true);
    await keeper.stop();
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
  });

  it('starved for longer than ttl/3 but not to the deadline: the renew goes out late, still before the deadline, and keeps the lock', async () => {
    const ttl = 1_500;
    const log: SentCall[] = [];
    const a = redlock(recordCalls(nodes.clients, log));
    const lock = await a.acquire(nodes.key('row15:late'), ttl);
    const firstDeadline = lock.deadlineMs;
    const keeper = a.keep(lock);
    blockEventLoop(ttl / 2);
    const blockEnd = performance.now();
    expect(await eventually(() => keeper.renewals >= 1 || keeper.signal.aborted, 5 * ttl)).toBe(true);
    const extends_ = log.filter((c) => c.commands.includes(EXTEND));
    expect(extends_.length).toBeGreaterThan(0);
    expect(extends_[0]!.at).toBeGreaterThanOrEqual(blockEnd);
    expect(extends_[0]!.at).toBeLessThan(firstDeadline);
    expect(keeper.signal.aborted).toBe(false);
    expect(lock.deadlineMs).toBeGreaterThan(firstDeadline);
    await keeper.stop();
    await lock.release();
  });
});

describe('renew racing release in one client (row 36)', () => {
  it('in every order and gap, with and without a repair: no key is left, and nothing is renewed after the release', async () => {
    const net = await faults.network(nodes.addresses);
    // Replies straggle (0 to 16 ms more per node), so one operation is in flight while the other starts.
    for (let i = 0; i < 5; i++) net.latency(i, { downMs: 4 * i });
    // Renew decisions take ~10-60 ms here, so the gaps fall before, during and after them;
    // 'repair-sent' releases the moment the renew's repair (R8) has gone out.
    const gaps: Array<number | 'same-tick' | 'next-turn' | 'repair-sent'> = [
      'same-tick',
      'next-turn',
      5,
      20,
      50,
      100,
    ];
    let repairs = 0;
    const cases = [
      ...(['renew-first', 'release-first'] as const).flatMap((order) =>
        gaps.flatMap((gap) => [false, true].map((repair) => ({ order, gap, repair }))),
      ),
      { order: 'renew-first' as const, gap: 'repair-sent' as const, repair: true },
    ];
    for (const { order, gap, repair } of cases) {
      const label = `${order} gap=${gap} repair=${repair}`;
      const log: SentCall[] = [];
      const a = redlock(recordCalls(net.clients, log), { nodeTimeoutMs: 500 });
      const resource = nodes.key(`row36:${order}:${gap}:${repair}`);
      const lock = await a.acquire(resource, 5_000);
      // A missing key on node 0 makes a successful renew repair it (R8).
      if (repair) await nodes.admins[0]!.del(resource);
      let releaseInvokedAt = 0;
      const release = () => {
        releaseInvokedAt = log.length;
        return lock.release();
      };
      const pauseFor = async () => {
        if (gap === 'next-turn') await new Promise((resolve) => setImmediate(resolve));
        else if (gap === 'repair-sent') {
          const until = performance.now() + 5_000;
          while (!log.some((c) => c.commands.includes(REPAIR)) && performance.now() < until)
            await new Promise((resolve) => setImmediate(resolve));
        } else if (gap !== 'same-tick') await sleep(gap);
      };
      let renewing: Promise<boolean>;
      let releasing: Promise<unknown>;
      if (order === 'renew-first') {
        renewing = lock.renew();
        await pauseFor();
        releasing = release();
      } else {
        releasing = release();
        await pauseFor();
        renewing = lock.renew();
      }
      const [renewed] = await Promise.all([renewing, releasing]);
      await a.idle();
      expect(await nodes.values(resource), label).toEqual(Array(5).fill(null));
      expect(typeof renewed, label).toBe('boolean');
      if (order === 'release-first') {
        expect(renewed, label).toBe(false);
        expect(
          log.slice(releaseInvokedAt).filter((c) => c.commands.includes(EXTEND)),
          label,
        ).toEqual([]);
      }
      // After the release, a renew is refused locally: nothing more is sent.
      const sent = log.length;
      expect(await lock.renew(), label).toBe(false);
      expect(log.length, label).toBe(sent);
      repairs += log.filter((c) => c.commands.includes(REPAIR)).length;
    }
    // Some interleavings did race a repair (R8) with the release.
    expect(repairs).toBeGreaterThan(0);
  });

  it('using() ending around its renewal time: the renew in flight finishes before the release, and no key is left', async () => {
    const ttl = 300;
    for (let workMs = 70; workMs <= 130; workMs += 10) {
      const log: SentCall[] = [];
      const a = redlock(recordCalls(nodes.clients, log));
      const resource = nodes.key(`row36:using:${workMs}`);
      await a.using(resource, ttl, () => sleep(workMs));
      await a.idle();
      const label = `work ${workMs} ms`;
      expect(await nodes.values(resource), label).toEqual(Array(5).fill(null));
      const firstRelease = log.findIndex((c) => c.commands.includes(RELEASE));
      expect(firstRelease, label).toBeGreaterThan(0);
      expect(
        log.slice(firstRelease).filter((c) => c.commands.includes(EXTEND)),
        label,
      ).toEqual([]);
    }
  });
});

describe('fencing under faults (row 43)', () => {
  it('tokens increase across clients that each see a different majority, one after another', async () => {
    const history = new History();
    const resource = nodes.key('row43:views');
    expect((await redlock(nodes.clients, { fencing: true }).initFencing(resource)).ready).toBe(true);
    const views = [
      [0, 1, 2],
      [2, 3, 4],
      [0, 3, 4],
      [1, 2, 4],
      [0, 1, 3],
    ];
    const clients = await Promise.all(
      views.map(async (view) => {
        const net = await faults.network(nodes.addresses);
        net.reachOnly(view);
        return redlock(net.clients, { fencing: true, nodeTimeoutMs: 100 });
      }),
    );
    const tokens: number[] = [];
    for (let round = 0; round < 10; round++) {
      const client = clients[round % clients.length]!;
      const invoked = performance.now();
      const lock = await client.acquire(resource, 2_000);
      const held = history.acquired(`view${round % clients.length}`, lock, invoked);
      tokens.push(lock.fencingToken!);
      expect(held.write(), `round ${round}`).toBe(true);
      held.end();
      await lock.release();
    }
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
    expect(new Set(tokens).size).toBe(tokens.length);
    const found = history.check();
    expect(violationCount(found), describeViolations(found)).toBe(0);
  });

  it('a zombie whose claim round is delayed past its validity gets no token; later tokens still increase', async () => {
    const ttl = 400;
    const delay = 1_000;
    const history = new History();
    const resource = nodes.key('row43:zombie');
    const admin = redlock(nodes.clients, { fencing: true, retryCount: 200, retryDelay: 25, retryJitter: 5 });
    expect((await admin.initFencing(resource)).ready).toBe(true);
    let invoked = performance.now();
    const first = await admin.acquire(resource, ttl);
    history.acquired('first', first, invoked).end();
    await first.release();

    const net = await faults.network(nodes.addresses);
    let delayedAt = 0;
    const zombie = redlock(
      onReplies(net.clients, (_node, commands) => {
        // Right after its first acquire reply, everything the zombie sends is delayed by `delay`.
        if (delayedAt === 0 && commands.includes('quorumlock:acquire')) {
          delayedAt = performance.now();
          for (let i = 0; i < 5; i++) net.latency(i, { upMs: delay });
        }
      }),
      { fencing: true, nodeTimeoutMs: 100 },
    );
    const error = await zombie.acquire(resource, ttl, ONCE).then(
      () => new Error('the zombie got a token'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LockAcquireError);

    // B takes the lock once the zombie's keys expire, and holds it while the zombie's delayed
    // claims and release land: they neither give it a token nor touch B's keys.
    invoked = performance.now();
    const lockB = await admin.acquire(resource, 10_000);
    const heldB = history.acquired('B', lockB, invoked);
    await sleep(Math.max(0, delayedAt + delay + 500 - performance.now()));
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lockB.value));
    expect(heldB.write()).toBe(true);
    heldB.end();
    await lockB.release();
    invoked = performance.now();
    const lockC = await admin.acquire(resource, ttl);
    const heldC = history.acquired('C', lockC, invoked);
    expect(heldC.write()).toBe(true);
    heldC.end();
    await lockC.release();
    expect(lockB.fencingToken!).toBeGreaterThan(first.fencingToken!);
    expect(lockC.fencingToken!).toBeGreaterThan(lockB.fencingToken!);
    const found = history.check();
    expect(violationCount(found), describeViolations(found)).toBe(0);
  });
});
