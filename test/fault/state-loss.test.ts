import { performance } from 'node:perf_hooks';
import { describe, expect, inject, it } from 'vitest';
import { formatNodes } from '../../src/errors.js';
import { fenceKeyOf } from '../../src/keys.js';
import { acquireFailure, eventually, ONCE, useFaults, waitForUptime } from '../support/fault-hooks.js';
import { describeViolations, History, violationCount } from '../support/history.js';

/**
 * A node that loses state while it is in the holder's quorum (rows 21-25 of the fault matrix in
 * docs/testing.md): kill -9 and restart without persistence, after a delay, with AOF `appendfsync
 * always`, from rolled-back data, and eviction or FLUSHALL. The holder A reaches only nodes {0,1,2}
 * and B only {2,3,4}, so node 2 decides everything. The unsafe variants (21, 24, 25) are negative
 * controls on a hand-built schedule: the test passes when the checkers see the violation, and shows
 * what fencing and the uptime quarantine (R14) do about it. Needs process control: skipped on
 * external nodes (QUORUMLOCK_NODES).
 */
const faults = useFaults();
const TTL = 3_000;
/**
 * The uptime quarantine of rows 21 and 24: the longest TTL plus one second, because Redis's
 * `uptime_in_seconds` is a difference of truncated Unix seconds and can run up to 1 s ahead of
 * the real uptime (the guard compares it as is: reported to the core as a bug).
 */
const QUARANTINE = TTL + 1_000;

describe.skipIf(inject('externalNodes'))('a node in the holder quorum loses state (rows 21-25)', () => {
  const own = faults.ownNodes(5);

  const redlock = faults.redlock;

  /**
   * A holds the lock on exactly {0,1,2} with a fencing token, and has read the guarded counter
   * (its write waits for `resumeA`). B's network reaches only {2,3,4}.
   */
  async function holderOnFirstThree(
    name: string,
    options: { ttl?: number; beforeAcquire?: () => Promise<void> } = {},
  ) {
    const ttl = options.ttl ?? TTL;
    const history = new History();
    const resource = `state-loss:${name}`;
    const direct = await faults.network(own.set.addresses);
    expect((await redlock(direct.clients, { fencing: true }).initFencing(resource)).ready).toBe(true);
    const netA = await faults.network(own.set.addresses);
    const netB = await faults.network(own.set.addresses);
    netA.reachOnly([0, 1, 2]);
    netB.reachOnly([2, 3, 4]);
    await options.beforeAcquire?.();
    const a = redlock(netA.clients, { fencing: true });
    const invokedA = performance.now();
    const lockA = await a.acquire(resource, ttl);
    const heldA = history.acquired('A', lockA, invokedA);
    let resumeA!: () => void;
    const updateA = heldA.update(() => new Promise<void>((resolve) => (resumeA = resolve)));
    return { history, resource, ttl, netB, lockA, heldA, updateA, resumeA: () => resumeA() };
  }

  /** B acquires through its own network and runs its read-modify-write at once. */
  async function bTakesIt(s: Awaited<ReturnType<typeof holderOnFirstThree>>, options = {}) {
    const b = redlock(s.netB.clients, options);
    const invokedB = performance.now();
    const lockB = await b.acquire(s.resource, s.ttl);
    const heldB = s.history.acquired('B', lockB, invokedB);
    expect(await heldB.update(async () => {})).toBe(true);
    return { lockB, heldB };
  }

  it('row 21 (negative control): kill -9 and an immediate restart without persistence lets B in; fencing issues B no token; the uptime quarantine keeps B out', async () => {
    // Nodes 3 and 4 have been up for longer than the quarantine; node 2 is about to restart.
    expect(await waitForUptime([own.set.nodes[3]!, own.set.nodes[4]!], QUARANTINE / 1_000)).toBe(true);
    const s = await holderOnFirstThree('row21');
    await faults.scope.crash(own.set.nodes[2]!, { persistence: 'none' });
    expect(await own.set.nodes[2]!.command('EXISTS', s.resource)).toBe(0);

    const { lockB, heldB } = await bTakesIt(s);
    s.resumeA();
    expect(await s.updateA).toBe(true);
    const found = s.history.check();
    expect(found.overlaps, describeViolations(found)).toHaveLength(1);
    expect(found.lostUpdates).toBe(1);
    heldB.end();
    await lockB.release();

    // With fencing, B's claim meets an absent counter on node 2 (absent, not stale): no token, no lock.
    const fenced = await acquireFailure(
      redlock(s.netB.clients, { fencing: true }).acquire(s.resource, s.ttl, ONCE),
    );
    const claim = fenced.attempts[0]!.claim ?? [];
    expect(claim[2], formatNodes(claim)).toMatchObject({ outcome: 'not-held', holder: 'absent' });

    // With minNodeUptimeMs at the longest TTL, the restarted node's vote does not count.
    const quarantined = await acquireFailure(
      redlock(s.netB.clients, { minNodeUptimeMs: QUARANTINE }).acquire(s.resource, s.ttl, ONCE),
    );
    expect(quarantined.reason, quarantined.message).toBe('unavailable');
    expect(quarantined.nodes[2]!.outcome, formatNodes(quarantined.nodes)).toBe('quarantined');
    s.heldA.end();
    await s.lockA.release();
  });

  it('row 22: the same crash with a restart delayed beyond the ttl: B gets the lock only after A lost it', async () => {
    const s = await holderOnFirstThree('row22', { ttl: 1_000 });
    s.resumeA();
    expect(await s.updateA).toBe(true);
    await faults.scope.kill(own.set.nodes[2]!);
    await faults.scope.restart(own.set.nodes[2]!, { persistence: 'none', delayMs: s.ttl + 100 });
    // A stopped acting at its deadline, which passed while node 2 was down.
    expect(s.lockA.remainingMs()).toBe(0);
    s.heldA.end();
    const { lockB, heldB } = await bTakesIt(s);
    heldB.end();
    await lockB.release();
    const found = s.history.check();
    expect(violationCount(found), describeViolations(found)).toBe(0);
  });

  it('row 23: the same crash with AOF appendfsync always: the key comes back with its remaining TTL and B is refused', async () => {
    const s = await holderOnFirstThree('row23');
    await faults.scope.crash(own.set.nodes[2]!, { persistence: 'aof-always' });
    expect(await own.set.nodes[2]!.command('GET', s.resource)).toBe(s.lockA.value);
    const pttl = Number(await own.set.nodes[2]!.command('PTTL', s.resource));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(s.ttl);
    // The ioredis adapter fails a call at once while its client reconnects (issue 12): wait
    // until B's client to the restarted node is back, so that the node answers for itself.
    const reconnected = () =>
      s.netB.clients[2]!.exec([{ type: 'info', sections: ['server'] }]).then(
        () => true,
        () => false,
      );
    expect(await eventually(reconnected, 20_000)).toBe(true);
    const refused = await acquireFailure(redlock(s.netB.clients).acquire(s.resource, s.ttl, ONCE));
    expect(refused.nodes[2]!.outcome, formatNodes(refused.nodes)).toBe('held');
    s.resumeA();
    expect(await s.updateA).toBe(true);
    expect(s.heldA.write()).toBe(true);
    s.heldA.end();
    await s.lockA.release();
    const found = s.history.check();
    expect(violationCount(found), describeViolations(found)).toBe(0);
  });

  it('row 24 (negative control): a restart from rolled-back data lets B in, and fencing cannot help (a stale counter repeats a token); the uptime quarantine keeps B out', async () => {
    expect(await waitForUptime([own.set.nodes[3]!, own.set.nodes[4]!], QUARANTINE / 1_000)).toBe(true);
    let snapshot = '';
    const s = await holderOnFirstThree('row24', {
      beforeAcquire: async () => {
        snapshot = await own.set.nodes[2]!.snapshotData();
      },
    });
    await faults.scope.rollback(own.set.nodes[2]!, snapshot);
    expect(await own.set.nodes[2]!.command('EXISTS', s.resource)).toBe(0);
    expect(await own.set.nodes[2]!.command('GET', fenceKeyOf(s.resource))).toBe('0');

    const { lockB, heldB } = await bTakesIt(s);
    s.resumeA();
    expect(await s.updateA).toBe(true);
    let found = s.history.check();
    expect(found.overlaps, describeViolations(found)).toHaveLength(1);
    expect(found.lostUpdates).toBe(1);
    heldB.end();
    await lockB.release();

    // The rolled-back counter is present but stale: B is handed A's token again (docs/fencing.md,
    // 'Lost counters: absent, never stale': rollback is fatal, a wipe is not), and the S2 checker flags it.
    const fenced = await bTakesIt(s, { fencing: true });
    expect(fenced.lockB.fencingToken).toBe(s.lockA.fencingToken);
    expect(fenced.heldB.write()).toBe(true);
    expect(s.heldA.write()).toBe(true);
    found = s.history.check();
    expect(found.tokenOrder.join('\n')).toContain(`token ${s.lockA.fencingToken} issued to A and to B`);
    fenced.heldB.end();
    await fenced.lockB.release();

    // The quarantine (or a restart delayed beyond the ttl) keeps the second holder out.
    const quarantined = await acquireFailure(
      redlock(s.netB.clients, { minNodeUptimeMs: QUARANTINE }).acquire(s.resource, s.ttl, ONCE),
    );
    expect(quarantined.nodes[2]!.outcome, formatNodes(quarantined.nodes)).toBe('quarantined');
    s.heldA.end();
    await s.lockA.release();
  });

  it('row 25 (negative control): eviction of the lock key lets B in; the first contact warned about the policy; the fence rejects the stale writer', async () => {
    const s = await holderOnFirstThree('row25');
    const node2 = own.set.nodes[2]!;
    const evicted = await faults.scope.evict(node2, {
      policy: 'volatile-lru',
      until: async () => (await node2.command('EXISTS', s.resource)) === 0,
    });
    expect(evicted.reached, JSON.stringify(evicted)).toBe(true);
    expect(evicted.evicted).toBeGreaterThan(0);
    // The counter has no TTL, so a volatile policy keeps it.
    expect(Number(await node2.command('GET', fenceKeyOf(s.resource)))).toBe(s.lockA.fencingToken);

    const warnings: string[] = [];
    const listener = (w: Error & { code?: string }) => warnings.push(`${w.code}: ${w.message}`);
    process.on('warning', listener);
    let taken: Awaited<ReturnType<typeof bTakesIt>>;
    try {
      taken = await bTakesIt(s);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    expect(warnings.filter((w) => w.startsWith('QUORUMLOCK_EVICTION_POLICY'))).toHaveLength(1);
    expect(warnings.find((w) => w.startsWith('QUORUMLOCK_EVICTION_POLICY'))).toContain('node 2');
    s.resumeA();
    expect(await s.updateA).toBe(true);
    let found = s.history.check();
    expect(found.overlaps, describeViolations(found)).toHaveLength(1);
    expect(found.lostUpdates).toBe(1);
    taken.heldB.end();
    await taken.lockB.release();

    // Fencing: node 2 kept its counter, so B's token is higher, and A's late write is refused.
    const fenced = await bTakesIt(s, { fencing: true });
    expect(fenced.lockB.fencingToken!).toBeGreaterThan(s.lockA.fencingToken!);
    expect(fenced.heldB.write()).toBe(true);
    expect(s.heldA.write()).toBe(false);
    found = s.history.check();
    expect(found.fencedWhileValid.map((w) => w.client)).toEqual(['A']);
    expect(found.tokenOrder).toEqual([]);
    fenced.heldB.end();
    await fenced.lockB.release();
    s.heldA.end();
    await s.lockA.release();
  });

  it('row 25 (negative control): FLUSHALL on the shared node lets B in; with fencing B gets no token (the counter is gone too)', async () => {
    const s = await holderOnFirstThree('row25:flushall');
    await own.set.nodes[2]!.command('FLUSHALL');
    const { lockB, heldB } = await bTakesIt(s);
    s.resumeA();
    expect(await s.updateA).toBe(true);
    const found = s.history.check();
    expect(found.overlaps, describeViolations(found)).toHaveLength(1);
    expect(found.lostUpdates).toBe(1);
    heldB.end();
    await lockB.release();
    const fenced = await acquireFailure(
      redlock(s.netB.clients, { fencing: true }).acquire(s.resource, s.ttl, ONCE),
    );
    expect(fenced.attempts[0]!.claim?.[2]).toMatchObject({ outcome: 'not-held', holder: 'absent' });
    s.heldA.end();
    await s.lockA.release();
  });
});
