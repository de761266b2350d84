import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { formatNodes } from '../../src/errors.js';
import { driftMs } from '../../src/validity.js';
import { sleep, useFaults } from '../support/fault-hooks.js';
import { commander, jumpBackward, jumpForward } from '../support/faults.js';
import { describeViolations, History, violationCount } from '../support/history.js';
import { useSharedNodes } from '../support/real-nodes.js';

/**
 * Clocks (rows 19, 26, 27, 29 of the fault matrix in docs/testing.md). A node's clock jump is
 * emulated on that node only by moving its lock keys' TTLs (faults.ts `jumpClock`: libfaketime
 * does not run this redis-server); the client's wall clock by stubbing `Date.now`. Row 28 (clock
 * rate) belongs to the simulation.
 */
const nodes = useSharedNodes();
const faults = useFaults();
const TTL = 10_000;

const redlock = faults.redlock;

const node = (i: number) => commander(nodes.admins[i]!);

describe('node clock jumps, emulated with PEXPIRE on one node', () => {
  it('row 19 (negative control): split view plus a forward jump on the shared node: both hold; lease and counter checkers flag it, the fence rejects the stale writer', async () => {
    const history = new History();
    const resource = nodes.key('row19');
    const netA = await faults.network(nodes.addresses);
    const netB = await faults.network(nodes.addresses);
    netA.reachOnly([0, 1, 2]);
    netB.reachOnly([2, 3, 4]);
    expect((await redlock(nodes.clients, { fencing: true }).initFencing(resource)).ready).toBe(true);
    const a = redlock(netA.clients, { fencing: true });
    const b = redlock(netB.clients, { fencing: true });

    const invokedA = performance.now();
    const lockA = await a.acquire(resource, TTL);
    const heldA = history.acquired('A', lockA, invokedA);
    // A reads the guarded counter; its write waits until B is done (a hand-built interleaving).
    let resumeA!: () => void;
    const updateA = heldA.update(() => new Promise<void>((resolve) => (resumeA = resolve)));
    // Node 2's clock jumps past A's key: the only node both clients reach forgets A.
    expect(await jumpForward(node(2), [resource])).toBe(1);
    const invokedB = performance.now();
    const lockB = await b.acquire(resource, TTL);
    const heldB = history.acquired('B', lockB, invokedB);
    expect(lockA.remainingMs()).toBeGreaterThan(0);
    expect(await heldB.update(async () => {})).toBe(true);
    expect(heldB.write()).toBe(true);
    resumeA();
    expect(await updateA).toBe(true);
    // A is still within its validity, but B's higher token got to the resource first.
    expect(heldA.write()).toBe(false);

    const found = history.check();
    expect(found.overlaps, describeViolations(found)).toHaveLength(1);
    expect(found.lostUpdates).toBe(1);
    expect(lockB.fencingToken!).toBeGreaterThan(lockA.fencingToken!);
    expect(found.tokenOrder).toEqual([]);
    expect(found.fencedWhileValid.map((w) => w.client)).toEqual(['A']);
    expect(history.fencedValue(resource)).toBe('B');
    heldA.end();
    heldB.end();
    await lockA.release();
    await lockB.release();
  });

  it('row 26: a forward jump with no contender: the holder is unaffected; its renew sees fewer keys and restores them', async () => {
    const resource = nodes.key('row26');
    // Nodes 0, 1 and 4 answer 30 ms late, so the two jumped nodes answer before the renew is decided.
    const net = await faults.network(nodes.addresses);
    for (const i of [0, 1, 4]) net.latency(i, { downMs: 30 });
    const a = redlock(net.clients);
    const lock = await a.acquire(resource, TTL);
    const deadline = lock.deadlineMs;
    expect(await jumpForward(node(2), [resource])).toBe(1);
    expect(await jumpForward(node(3), [resource])).toBe(1);
    // A shorter jump only shortens the key.
    const before = (await nodes.pttls(resource))[4]!;
    expect(await jumpForward(node(4), [resource], 2_000)).toBe(1);
    expect((await nodes.pttls(resource))[4]).toBeLessThanOrEqual(before - 2_000);
    expect(await nodes.values(resource)).toEqual([lock.value, lock.value, null, null, lock.value]);
    expect(lock.deadlineMs).toBe(deadline);
    expect(lock.remainingMs()).toBeGreaterThan(0);

    const renewStart = performance.now();
    const renewed = await a.renew(resource, lock.value, TTL);
    expect(renewed.renewed, formatNodes(renewed.nodes)).toBe(true);
    expect(renewed.votes).toBe(3);
    for (const i of [2, 3]) expect(renewed.nodes[i]).toMatchObject({ outcome: 'not-held', holder: 'absent' });
    expect(lock.deadlineMs).toBeGreaterThanOrEqual(renewStart + TTL - driftMs(TTL, 0.01));
    await a.idle();
    // R8: the strict renew reached quorum, so the missing keys came back.
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lock.value));
    await lock.release();
  });

  it('row 27: a backward jump on one node: extend works; after a crash the others free the lock after one ttl', async () => {
    const ttl = 800;
    const history = new History();
    const resource = nodes.key('row27');
    const a = redlock(nodes.clients);
    const invokedA = performance.now();
    const lockA = await a.acquire(resource, ttl);
    const heldA = history.acquired('A', lockA, invokedA);
    expect(await jumpBackward(node(2), [resource], 2_000)).toBe(1);
    expect((await nodes.pttls(resource))[2]).toBeGreaterThan(ttl);
    const renewFrom = performance.now();
    expect(await lockA.renew()).toBe(true);
    expect(await jumpBackward(node(2), [resource], 2_000)).toBe(1);
    // A crashes: it never releases.
    heldA.end();
    const b = redlock(nodes.clients, { retryCount: 200, retryDelay: 25, retryJitter: 5 });
    const invokedB = performance.now();
    const lockB = await b.acquire(resource, ttl);
    history.acquired('B', lockB, invokedB).end();
    // The four unjumped nodes let A's renewed keys expire after one ttl; node 2 still holds A.
    expect(performance.now() - renewFrom).toBeGreaterThanOrEqual(ttl - 2);
    expect(performance.now() - renewFrom).toBeLessThan(5 * (ttl + 200));
    expect((await nodes.values(resource))[2]).toBe(lockA.value);
    await lockB.release();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });

  it('row 27: a backward jump on a majority: unavailable after a crash until the jumped keys expire (L2 bounded by the jump)', async () => {
    const ttl = 500;
    const jump = 1_000;
    const history = new History();
    const resource = nodes.key('row27:majority');
    const a = redlock(nodes.clients);
    const invokedA = performance.now();
    const lockA = await a.acquire(resource, ttl);
    const heldA = history.acquired('A', lockA, invokedA);
    const jumpedFrom = performance.now();
    for (const i of [0, 1, 2]) expect(await jumpBackward(node(i), [resource], jump)).toBe(1);
    heldA.end();
    const b = redlock(nodes.clients, { retryCount: 400, retryDelay: 25, retryJitter: 5 });
    const invokedB = performance.now();
    const lockB = await b.acquire(resource, ttl);
    history.acquired('B', lockB, invokedB).end();
    const waited = performance.now() - jumpedFrom;
    // Keys on 0, 1, 2 had more than `jump` left after the jump: none of them was free before.
    expect(waited).toBeGreaterThanOrEqual(jump);
    expect(waited).toBeLessThan(5 * (ttl + jump));
    await lockB.release();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });
});

describe('the client wall clock', () => {
  it('row 29: Date.now jumping ±1 h changes nothing but the informational expiresAt', async () => {
    const ttl = 600;
    const realNow = Date.now.bind(Date);
    let offset = 0;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    try {
      const a = redlock(nodes.clients, { retryCount: 20, retryDelay: 50, retryJitter: 0 });
      const drift = driftMs(ttl, 0.01);
      offset = 3_600_000;
      const lock = await a.acquire(nodes.key('row29'), ttl);
      expect(lock.validityMs).toBeLessThanOrEqual(ttl - drift);
      expect(lock.validityMs).toBeGreaterThan(ttl - drift - 5 * 200);
      expect(lock.expiresAt - realNow()).toBeGreaterThan(3_600_000 - 1_000);
      offset = -3_600_000;
      const renewFrom = performance.now();
      expect(await lock.renew()).toBe(true);
      expect(lock.deadlineMs).toBeGreaterThanOrEqual(renewFrom + ttl - drift);
      expect(lock.remainingMs()).toBeLessThanOrEqual(ttl - drift);
      expect(lock.expiresAt - realNow()).toBeLessThan(-3_600_000 + 1_000);
      await lock.release();

      // Retries: held elsewhere for 200 ms; the delays are 50 ms on the monotonic clock whatever Date says.
      const held = nodes.key('row29:retry');
      await Promise.all(nodes.admins.map((admin) => admin.set(held, 'foreign', 'PX', 200)));
      const started = performance.now();
      const retried = await a.acquire(held, ttl, {
        retryStrategy: (attempt) => {
          offset = attempt % 2 === 0 ? 3_600_000 : -3_600_000;
          return 50;
        },
      });
      expect(retried.attempts).toBeGreaterThan(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(50 * (retried.attempts - 1));
      await retried.release();

      // Auto-renew across jumps: renewals keep it alive, the signal never aborts.
      const result = await a.using(nodes.key('row29:using'), ttl, async (signal, current) => {
        const first = current.deadlineMs;
        for (let i = 0; i < 4; i++) {
          offset = i % 2 === 0 ? 3_600_000 : -3_600_000;
          await sleep(ttl / 2);
        }
        return { aborted: signal.aborted, moved: current.deadlineMs > first };
      });
      expect(result).toEqual({ aborted: false, moved: true });
    } finally {
      spy.mockRestore();
    }
  });
});
