import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { ioredisAdapter } from '../../src/adapters/ioredis.js';
import { formatNodes } from '../../src/errors.js';
import { driftMs } from '../../src/validity.js';
import { adminClient, closeClient } from '../../tools/nodes.js';
import { acquireFailure, eventually, ONCE, sleep, useFaults } from '../support/fault-hooks.js';
import { describeViolations, History, violationCount } from '../support/history.js';
import { onReplies } from '../support/network.js';
import { useSharedNodes } from '../support/real-nodes.js';

/**
 * Client-specific network faults (rows 2, 7, 9, 10, 11, 16, 17, 18, 20, 31, 42 of the fault
 * matrix in docs/testing.md): every client has its own TCP proxy in front of each of the 5 shared
 * nodes, so one client can be partitioned, slowed or lied to while another is not. No process
 * control: runs on external nodes too. Upper time bounds are liveness limits of 5x what the
 * per-node timeout allows.
 */
const nodes = useSharedNodes();
const faults = useFaults();
const NODE_TIMEOUT = 200;
const TTL = 10_000;
const DRIFT = driftMs(TTL, 0.01);

/** A Redlock over `clients` that fails fast (the test decides about retries). */
const redlock = faults.redlock;

describe('a client that cannot reach some nodes', () => {
  it('row 2: one node refuses: acquired with the others, the refusal reported, validity barely reduced', async () => {
    const net = await faults.network(nodes.addresses);
    net.isolate([2], 'refuse');
    const a = redlock(net.clients);
    const resource = nodes.key('row2');
    const lock = await a.acquire(resource, TTL);
    const report = formatNodes(lock.report.nodes);
    expect(lock.report.votes, report).toBeGreaterThanOrEqual(3);
    expect(['error', 'pending', 'timeout'], report).toContain(lock.report.nodes[2]!.outcome);
    expect(lock.validityMs, report).toBeGreaterThan(TTL - DRIFT - 5 * NODE_TIMEOUT);
    await a.idle();
    expect(await nodes.values(resource)).toEqual([lock.value, lock.value, null, lock.value, lock.value]);
    const released = await lock.release();
    expect(released.releasedCount, formatNodes(released.nodes)).toBe(4);
    expect(['error', 'timeout']).toContain(released.nodes[2]!.outcome);
  });

  it('row 16: a minority partition of one client: it acquires with exactly 3, while a fully connected client is refused', async () => {
    const history = new History();
    const net = await faults.network(nodes.addresses);
    net.isolate([3, 4]);
    const a = redlock(net.clients);
    const b = redlock(nodes.clients);
    const resource = nodes.key('row16');
    const invokedAt = performance.now();
    const lock = await a.acquire(resource, TTL);
    const held = history.acquired('A', lock, invokedAt);
    expect(lock.report.votes, formatNodes(lock.report.nodes)).toBe(3);
    const refused = await acquireFailure(b.acquire(resource, TTL, ONCE));
    expect(refused.reason, refused.message).toBe('contended');
    // Decided once the three held answers made quorum impossible.
    expect(refused.nodes.slice(0, 3).map((n) => n.outcome)).toEqual(['held', 'held', 'held']);
    held.end();
    await lock.release();
    await b.idle();
    const invokedB = performance.now();
    const taken = await b.acquire(resource, TTL);
    history.acquired('B', taken, invokedB).end();
    await taken.release();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });

  it('row 17: a majority partition: that client is unavailable and leaves no keys; one on the other side acquires', async () => {
    const history = new History();
    const netA = await faults.network(nodes.addresses);
    const netB = await faults.network(nodes.addresses);
    netA.isolate([0, 1, 2]);
    netB.reachOnly([0, 1, 2]);
    const a = redlock(netA.clients, { retryCount: 1, retryDelay: 50, retryJitter: 0 });
    const b = redlock(netB.clients);
    const resource = nodes.key('row17');
    const started = performance.now();
    const unavailable = await acquireFailure(a.acquire(resource, TTL));
    expect(unavailable.reason, unavailable.message).toBe('unavailable');
    expect(unavailable.attempts).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(5 * (2 * 2 * NODE_TIMEOUT + 50));
    await a.idle();
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
    const invokedAt = performance.now();
    const lock = await b.acquire(resource, TTL);
    const held = history.acquired('B', lock, invokedAt);
    expect(lock.report.votes).toBe(3);
    // A tries again while B holds: it reaches only the two nodes B does not need.
    const again = await acquireFailure(a.acquire(resource, TTL, ONCE));
    expect(again.reason).toBe('unavailable');
    await a.idle();
    expect((await nodes.values(resource)).slice(3)).toEqual([null, null]);
    held.end();
    await lock.release();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });

  it('row 18: split view A↔{0,1,2}, B↔{2,3,4}: B is refused while A holds (node 2 is shared), then gets it', async () => {
    const history = new History();
    const netA = await faults.network(nodes.addresses);
    const netB = await faults.network(nodes.addresses);
    netA.reachOnly([0, 1, 2]);
    netB.reachOnly([2, 3, 4]);
    const a = redlock(netA.clients);
    const b = redlock(netB.clients);
    const resource = nodes.key('row18');
    let invokedAt = performance.now();
    const lockA = await a.acquire(resource, TTL);
    const heldA = history.acquired('A', lockA, invokedAt);
    const refused = await acquireFailure(b.acquire(resource, TTL, ONCE));
    expect(refused.nodes[2]!.outcome, formatNodes(refused.nodes)).toBe('held');
    expect(refused.attempts[0]!.votes).toBeLessThan(3);
    await b.idle();
    // B's partial keys on 3 and 4 were released; A's keys untouched.
    expect(await nodes.values(resource)).toEqual([lockA.value, lockA.value, lockA.value, null, null]);
    heldA.end();
    await lockA.release();
    invokedAt = performance.now();
    const lockB = await b.acquire(resource, TTL);
    history.acquired('B', lockB, invokedAt).end();
    await lockB.release();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });
});

describe('slow and ambiguous nodes', () => {
  it('row 9: latency under the per-node timeout on 2 nodes: acquired, validity reduced by it, deadline anchored at the start', async () => {
    const timeout = 1_000;
    const latency = 600;
    const net = await faults.network(nodes.addresses);
    const a = redlock(net.clients, { nodeTimeoutMs: timeout });
    const resource = nodes.key('row9');
    // Warm up: the nodes cache the scripts, so no NOSCRIPT detour doubles a slow round trip.
    await (await a.acquire(resource, TTL)).release();
    net.isolate([0], 'refuse');
    net.latency(3, { downMs: latency });
    net.latency(4, { downMs: latency });
    const invokedAt = performance.now();
    const lock = await a.acquire(resource, TTL);
    const returnedAt = performance.now();
    const report = formatNodes(lock.report.nodes);
    // Two fast votes; the third had to come from a slow node.
    expect(lock.report.votes, report).toBe(3);
    expect(lock.report.elapsedMs, report).toBeGreaterThanOrEqual(latency);
    expect(lock.validityMs, report).toBeLessThanOrEqual(TTL - DRIFT - latency);
    expect(lock.validityMs, report).toBeGreaterThan(TTL - DRIFT - 5 * timeout);
    // The deadline counts from before the first send, not from the slow replies.
    const start = lock.deadlineMs - (TTL - DRIFT);
    expect(start).toBeGreaterThanOrEqual(invokedAt - 0.001);
    expect(start).toBeLessThan(invokedAt + latency / 2);
    expect(returnedAt - start).toBeGreaterThanOrEqual(latency);
    await lock.release();
  });

  it('row 8: a slow quorum on the real clock: with fencing, the claim round on slow nodes ends past ttl − drift: validity exhausted, no token, keys released', async () => {
    // Without a second round, a vote within the per-node timeout (at most ttl − drift) is always
    // in time on a real clock; lifecycle.test.ts covers the plain round on an injected clock.
    const ttl = 1_000;
    const latency = 600;
    const resource = nodes.key('row8');
    expect((await redlock(nodes.clients, { fencing: true }).initFencing(resource)).ready).toBe(true);
    const net = await faults.network(nodes.addresses);
    const a = redlock(net.clients, { fencing: true, nodeTimeoutMs: ttl - driftMs(ttl, 0.01) });
    // Warm up: the nodes cache the scripts, so no NOSCRIPT detour doubles a slow round trip.
    await (await a.acquire(resource, ttl)).release();
    for (const i of [2, 3, 4]) net.latency(i, { downMs: latency });
    const error = await acquireFailure(a.acquire(resource, ttl, ONCE));
    expect(error.reason, error.message).toBe('validity-exhausted');
    const attempt = error.attempts[0]!;
    // Quorum was reached in each round, each needing one slow node.
    expect(attempt.votes).toBeGreaterThanOrEqual(3);
    expect(attempt.elapsedMs).toBeGreaterThanOrEqual(latency);
    expect(attempt.claim?.filter((n) => n.outcome === 'claimed').length).toBeGreaterThanOrEqual(3);
    await a.idle();
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
  });

  it('row 10: a write applied but unacknowledged is no vote; the release still removes it', async () => {
    const net = await faults.network(nodes.addresses);
    net.isolate([4], 'drop-replies');
    const a = redlock(net.clients);
    const resource = nodes.key('row10');
    const lock = await a.acquire(resource, TTL);
    const report = formatNodes(lock.report.nodes);
    expect(lock.report.votes, report).toBeGreaterThanOrEqual(3);
    expect(lock.report.nodes[4]!.outcome, report).not.toBe('acquired');
    // The SET reached node 4 although its reply never came back.
    expect(await eventually(async () => (await nodes.values(resource))[4] === lock.value, 5_000)).toBe(true);
    const released = await lock.release();
    expect(released.releasedCount, formatNodes(released.nodes)).toBe(4);
    expect(released.nodes[4]!.outcome).toBe('timeout');
    expect(await eventually(async () => (await nodes.values(resource))[4] === null, 5_000)).toBe(true);

    // Three such nodes: no quorum, and nothing left behind after the release round.
    net.heal();
    net.isolate([0, 1, 2], 'drop-replies');
    const other = nodes.key('row10:three');
    const error = await acquireFailure(a.acquire(other, TTL, ONCE));
    expect(error.reason, error.message).toBe('unavailable');
    expect(error.attempts[0]!.votes).toBeLessThan(3);
    await a.idle();
    expect(await eventually(async () => (await nodes.values(other)).every((v) => v === null), 5_000)).toBe(
      true,
    );
  });

  it('row 11: a SET applied after the client gave up leaves a stale key for at most one ttl, with no safety impact', async () => {
    const ttl = 1_500;
    const delay = 800;
    const history = new History();
    const net = await faults.network(nodes.addresses);
    net.latency(4, { upMs: delay });
    const a = redlock(net.clients);
    const resource = nodes.key('row11');
    const invokedA = performance.now();
    const lockA = await a.acquire(resource, ttl);
    const heldA = history.acquired('A', lockA, invokedA);
    expect(lockA.report.nodes[4]!.outcome).not.toBe('acquired');
    // A is done; its release goes through another connection and overtakes the delayed SET.
    heldA.end();
    const direct = redlock(nodes.clients);
    const released = await direct.releaseLock(resource, lockA.value);
    expect(released.releasedCount, formatNodes(released.nodes)).toBe(4);
    expect(released.nodes[4]!.outcome).toBe('not-held');
    // The SET lands late: node 4 now holds A's value, for at most one ttl.
    expect(await eventually(async () => (await nodes.values(resource))[4] === lockA.value, 5 * delay)).toBe(
      true,
    );
    const stale = (await nodes.pttls(resource))[4]!;
    expect(stale).toBeGreaterThan(0);
    expect(stale).toBeLessThanOrEqual(ttl);
    // B still gets the lock from the other four; node 4 answers "held".
    const invokedB = performance.now();
    const lockB = await direct.acquire(resource, ttl);
    const heldB = history.acquired('B', lockB, invokedB);
    expect(['held', 'pending']).toContain(lockB.report.nodes[4]!.outcome);
    expect((await nodes.values(resource))[4]).toBe(lockA.value);
    heldB.end();
    await lockB.release();
    // The stale key expires on its own.
    await sleep(stale + 50);
    expect((await nodes.values(resource))[4]).toBeNull();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });

  it('row 20: a partition heals while a loser holds partial keys: they expire within one ttl and block nothing', async () => {
    const ttl = 1_500;
    const history = new History();
    const net = await faults.network(nodes.addresses);
    // The loser reaches only nodes 0 and 1, and loses them too right after their SET lands:
    // its release round reaches nobody, so its keys stay behind.
    net.isolate([2, 3, 4]);
    const loser = redlock(
      onReplies(net.clients, (node, commands) => {
        if (node <= 1 && commands.includes('quorumlock:acquire')) net.isolate([node]);
      }),
    );
    const resource = nodes.key('row20');
    const lost = await acquireFailure(loser.acquire(resource, ttl, ONCE));
    expect(lost.reason).toBe('unavailable');
    expect(lost.attempts[0]!.votes).toBe(2);
    await loser.idle();
    const values = await nodes.values(resource);
    expect(values.slice(2)).toEqual([null, null, null]);
    expect(values[0]).not.toBeNull();
    const leftAt = performance.now();
    for (const pttl of (await nodes.pttls(resource)).slice(0, 2)) expect(pttl).toBeLessThanOrEqual(ttl);
    net.heal();
    // No lasting blockage: a fully connected client acquires at once from the other three.
    const winner = redlock(nodes.clients);
    const invoked = performance.now();
    const lock = await winner.acquire(resource, ttl);
    history.acquired('W', lock, invoked).end();
    expect(lock.report.votes).toBe(3);
    await lock.release();
    // The partial keys are gone within one ttl of being left behind.
    await sleep(Math.max(0, ttl + 50 - (performance.now() - leftAt)));
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
    // And the loser, reconnected, acquires normally.
    const retried = await loser.acquire(resource, ttl);
    expect(retried.report.votes).toBeGreaterThanOrEqual(3);
    await retried.release();
    expect(violationCount(history.check()), describeViolations(history.check())).toBe(0);
  });
});

describe('contended, released, misconfigured', () => {
  it('row 7: held by another client: contended after the retries, with every node listed; the holder keys and TTLs untouched', async () => {
    const holder = redlock(nodes.clients);
    const net = await faults.network(nodes.addresses);
    const b = redlock(net.clients, { retryCount: 2, retryDelay: 30, retryJitter: 10 });
    const resource = nodes.key('row7');
    const lock = await holder.acquire(resource, TTL);
    const before = await nodes.pttls(resource);
    const error = await acquireFailure(b.acquire(resource, TTL));
    expect(error.reason).toBe('contended');
    expect(error.attempts).toHaveLength(3);
    // Every node is listed, with its answer (decided once 3 said "held": others may be pending).
    expect(error.nodes.map((n) => n.endpoint)).toEqual(nodes.addresses);
    expect(error.nodes.filter((n) => n.outcome === 'held').length).toBeGreaterThanOrEqual(3);
    expect(error.nodes.every((n) => n.outcome === 'held' || n.outcome === 'pending')).toBe(true);
    expect(await nodes.values(resource)).toEqual(Array(5).fill(lock.value));
    const after = await nodes.pttls(resource);
    for (const [i, pttl] of after.entries()) expect(pttl).toBeLessThanOrEqual(before[i]!);
    await lock.release();
  });

  it('row 31: release with one node unreachable: removed on 4, reported partial; the last key expires', async () => {
    const ttl = 1_000;
    const net = await faults.network(nodes.addresses);
    const a = redlock(net.clients);
    const resource = nodes.key('row31');
    const lock = await a.acquire(resource, ttl);
    net.isolate([2]);
    const released = await lock.release();
    expect(released, formatNodes(released.nodes)).toMatchObject({
      releasedCount: 4,
      notHeldCount: 0,
      failedCount: 1,
    });
    expect(released.nodes[2]!.outcome).toBe('timeout');
    const values = await nodes.values(resource);
    expect(values).toEqual([null, null, lock.value, null, null]);
    const left = (await nodes.pttls(resource))[2]!;
    expect(left).toBeLessThanOrEqual(ttl);
    await sleep(left + 50);
    expect((await nodes.values(resource))[2]).toBeNull();
  });

  it('row 42: one server under two names (an address and a proxy, or two DBs) votes once, with a warning; N = 4 needs 3', async () => {
    const warnings: string[] = [];
    const listener = (w: Error & { code?: string }) => warnings.push(w.code ?? '');
    process.on('warning', listener);
    const db1 = adminClient(nodes.addresses[0]!, { db: 1 });
    try {
      const net = await faults.network(nodes.addresses);
      // Nodes 3 and 4 are cut off, so the vote hangs on nodes 0, 1 and an alias of node 0.
      net.isolate([3, 4]);
      const alias: RedisClient = { endpoint: 'alias-of-node-0', exec: (c) => net.clients[0]!.exec(c) };
      const sameServer = redlock([
        nodes.clients[0]!,
        alias,
        nodes.clients[1]!,
        net.clients[3]!,
        net.clients[4]!,
      ]);
      const error = await acquireFailure(sameServer.acquire(nodes.key('row42'), TTL, ONCE));
      expect(error.reason).toBe('unavailable');
      expect(error.nodes.map((n) => n.outcome).filter((o) => o === 'duplicate')).toHaveLength(1);
      await sameServer.idle();
      const twoDbs = redlock([
        nodes.clients[0]!,
        ioredisAdapter(db1, { endpoint: `${nodes.addresses[0]}/1` }),
        nodes.clients[1]!,
        net.clients[3]!,
        net.clients[4]!,
      ]);
      const again = await acquireFailure(twoDbs.acquire(nodes.key('row42:db'), TTL, ONCE));
      expect(again.nodes.map((n) => n.outcome).filter((o) => o === 'duplicate')).toHaveLength(1);
      await twoDbs.idle();
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w === 'QUORUMLOCK_DUPLICATE_NODE')).toHaveLength(2);
      // Four distinct nodes: a warning, and a quorum of 3.
      const four = redlock([...nodes.clients.slice(0, 3), net.clients[3]!]);
      expect(four.quorum).toBe(3);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toContain('QUORUMLOCK_EVEN_N');
      const lock = await four.acquire(nodes.key('row42:four'), TTL);
      expect(lock.report.votes).toBe(3);
      await lock.release();
      net.heal([3]);
      net.isolate([2, 3]);
      const tooFew = redlock([...nodes.clients.slice(0, 2), ...net.clients.slice(2, 4)]);
      expect((await acquireFailure(tooFew.acquire(nodes.key('row42:two'), TTL, ONCE))).reason).toBe(
        'unavailable',
      );
    } finally {
      process.off('warning', listener);
      await closeClient(db1);
    }
  });
});
