import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, LockAcquireError } from '../../src/errors.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { countingQuorumOf } from '../../src/validity.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;
const DRIFT = Math.floor(TTL * 0.01) + 2;

function setup(n = 5, options: RedlockOptions = {}, seed = 7) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(n, time);
  const redlock = new Redlock(cluster.clients, {
    retryCount: 0,
    ...options,
    runtime: virtualRuntime(time, seed),
  });
  return { time, cluster, redlock };
}

/** Live members of the semaphore's set on each node. */
function members(cluster: MemoryCluster, key: string): string[][] {
  return cluster.nodes.map((node) => [...(node.zset(key)?.keys() ?? [])].sort());
}

describe('countingQuorumOf', () => {
  it('is the majority for one permit and grows with the permits, up to every node', () => {
    expect([1, 2, 3, 4, 5, 100].map((k) => countingQuorumOf(5, k))).toEqual([3, 4, 4, 5, 5, 5]);
    expect([1, 2, 3].map((k) => countingQuorumOf(3, k))).toEqual([2, 3, 3]);
    expect([1, 2, 3].map((k) => countingQuorumOf(7, k))).toEqual([4, 5, 6]);
    for (let n = 1; n <= 9; n++) {
      for (let k = 1; k <= 12; k++) {
        const q = countingQuorumOf(n, k);
        // The smallest q for which k + 1 holders cannot fit k leases per node.
        expect((k + 1) * q).toBeGreaterThan(n * k);
        expect(k * (q - 1) + (q - 1)).toBeLessThanOrEqual(n * k);
        expect(q).toBeLessThanOrEqual(n);
      }
    }
  });
});

describe('semaphore: grants', () => {
  it('grants up to `permits` holders, each with a fresh value and the lock validity, then refuses', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('pool', { permits: 2 });
    expect(sem.quorum).toBe(4);
    const start = time.now();
    const a = await time.run(sem.acquire(TTL));
    const b = await time.run(sem.acquire(TTL));
    expect(a.value).toMatch(/^[0-9a-f]{32}$/);
    expect(b.value).not.toBe(a.value);
    expect(a.deadlineMs).toBe(start + TTL - DRIFT);
    expect(a.report).toMatchObject({ outcome: 'acquired', quorum: 4 });
    expect(members(cluster, 'pool')).toEqual(Array(5).fill([a.value, b.value].sort()));
    for (const node of cluster.nodes) {
      expect(node.zset('pool')!.get(a.value)).toBe(start + TTL);
      expect(node.pttl('pool')).toBe(TTL);
    }
    const error = await time.run(sem.acquire(TTL)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockAcquireError);
    expect((error as LockAcquireError).reason).toBe('contended');
    expect(await time.run(sem.acquirePermit(TTL))).toBeNull();
    // A refused attempt wrote nothing: still two members per node.
    expect(members(cluster, 'pool')[0]).toHaveLength(2);
    await time.run(a.release());
    const c = await time.run(sem.acquire(TTL));
    expect(members(cluster, 'pool')[0]).toEqual([b.value, c.value].sort());
  });

  it('trims expired leases in the script: a permit lapses at its expiry on the node', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('pool', { permits: 1 });
    const a = await time.run(sem.acquire(TTL));
    time.jump(TTL - 1);
    expect(await time.run(sem.acquirePermit(TTL))).toBeNull();
    time.jump(1);
    const b = await time.run(sem.acquire(TTL));
    expect(members(cluster, 'pool')).toEqual(Array(5).fill([b.value]));
    // The expired holder's renew finds nothing: never resurrected.
    const renewed = await time.run(sem.renew(a.value, TTL));
    expect(renewed).toMatchObject({ renewed: false });
  });

  it('takes `count` permits at once, all or nothing, and releases them together', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('pool', { permits: 3 });
    const two = await time.run(sem.acquire(TTL, { count: 2 }));
    expect(members(cluster, 'pool')[0]).toEqual([two.value, `${two.value}#2`].sort());
    expect(await time.run(sem.acquirePermit(TTL, { count: 2 }))).toBeNull();
    const one = await time.run(sem.acquire(TTL));
    time.jump(1_000);
    expect(await time.run(two.renew(TTL))).toBe(true);
    for (const node of cluster.nodes) {
      expect(node.zset('pool')!.get(`${two.value}#2`)).toBe(time.now() + TTL);
      expect(node.zset('pool')!.get(one.value)).toBe(time.now() - 1_000 + TTL);
    }
    const released = await time.run(two.release());
    expect(released).toMatchObject({ releasedCount: 5, notHeldCount: 0 });
    expect(members(cluster, 'pool')[0]).toEqual([one.value]);
  });

  it('needs the counting quorum: with permits 2 of 5, four nodes, so one node down still grants and two do not', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('pool', { permits: 2 });
    cluster.set(4, { kind: 'refused' });
    expect(await time.run(sem.acquirePermit(TTL))).not.toBeNull();
    cluster.set(3, { kind: 'refused' });
    const error = (await time.run(sem.acquire(TTL)).catch((e: unknown) => e)) as LockAcquireError;
    expect(error.reason).toBe('unavailable');
    // Decided lost as soon as two refusals made four votes impossible (R3).
    expect(error.attempts[0]).toMatchObject({ quorum: 4 });
    expect(error.nodes.filter((n) => n.outcome === 'error')).toHaveLength(2);
    await time.run(redlock.idle());
    // The lost attempt released what it may have taken: only the first permit's leases remain.
    expect(
      members(cluster, 'pool')
        .slice(0, 3)
        .map((m) => m.length),
    ).toEqual([1, 1, 1]);
  });

  it('releases the partial grants of a lost attempt before the next one (R9)', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 1, retryDelay: 100, retryJitter: 0 });
    const other = redlock.semaphore('pool', { permits: 1 });
    // Another holder on nodes 0 and 1 only (nodes 2-4 unreachable for it).
    for (const i of [2, 3, 4]) cluster.set(i, { kind: 'refused' });
    const partial = await time.run(other.acquirePermit(TTL));
    expect(partial).toBeNull();
    // Its lost attempt removed its leases again: nothing is left behind.
    expect(members(cluster, 'pool')).toEqual([[], [], [], [], []]);
    for (const i of [2, 3, 4]) cluster.set(i, { kind: 'up' });
    const sem = redlock.semaphore('pool', { permits: 1 });
    const got = await time.run(sem.acquire(TTL));
    expect(members(cluster, 'pool')).toEqual(Array(5).fill([got.value]));
    const releases = cluster.scriptCalls('quorumlock:sem-release');
    expect(releases.length).toBeGreaterThanOrEqual(2);
  });

  it('abort during a retry delay rejects with signal.reason unchanged and leaves no lease', async () => {
    const { time, cluster, redlock } = setup(5, { retryCount: 5, retryDelay: 500, retryJitter: 0 });
    const sem = redlock.semaphore('pool', { permits: 1 });
    const held = await time.run(sem.acquire(TTL));
    const controller = new AbortController();
    const reason = new Error('stop');
    time.setTimeout(() => controller.abort(reason), 300);
    await expect(time.run(sem.acquire(TTL, { signal: controller.signal }))).rejects.toBe(reason);
    expect(members(cluster, 'pool')).toEqual(Array(5).fill([held.value]));
    await time.run(redlock.idle());
  });

  it('renews and releases by value, reaching the permit handle', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('pool', { permits: 2 });
    const a = await time.run(sem.acquire(TTL));
    time.jump(500);
    const result = await time.run(sem.renew(a.value, TTL));
    expect(result).toMatchObject({ renewed: true, quorum: 4, votes: 4 });
    expect(a.deadlineMs).toBe(time.now() + TTL - DRIFT);
    const released = await time.run(sem.release(a.value));
    expect(released.releasedCount).toBe(5);
    expect(a.released).toBe(true);
    expect(members(cluster, 'pool')).toEqual([[], [], [], [], []]);
    // Not held any more: "not held" is a status, never an error.
    expect(await time.run(sem.release(a.value))).toMatchObject({ releasedCount: 0, notHeldCount: 5 });
  });

  it('issues a fencing token per grant, increasing across permits', async () => {
    const { time, redlock } = setup(5, { fencing: true });
    await time.run(redlock.initFencing('pool'));
    const sem = redlock.semaphore('pool', { permits: 2 });
    const a = await time.run(sem.acquire(TTL));
    const b = await time.run(sem.acquire(TTL));
    expect(a.fencingToken).toBe(1);
    expect(b.fencingToken).toBe(2);
  });

  it('using keeps the permit while fn runs and releases it after', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('pool', { permits: 1 });
    const result = await time.run(
      sem.using(1_000, async (signal, permit) => {
        await new Promise<void>((resolve) => time.setTimeout(resolve, 2_500));
        expect(signal.aborted).toBe(false);
        expect(permit.remainingMs()).toBeGreaterThan(0);
        return 'done';
      }),
    );
    expect(result).toBe('done');
    expect(cluster.scriptCalls('quorumlock:sem-extend').length).toBeGreaterThan(0);
    expect(members(cluster, 'pool')).toEqual([[], [], [], [], []]);
    await time.run(redlock.idle());
  });
});

describe('semaphore: bad input', () => {
  it('names the argument and its range', () => {
    const { redlock } = setup();
    const check = (fn: () => unknown, argument: string, expected: RegExp) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).argument).toBe(argument);
        expect((error as InvalidArgumentError).expected).toMatch(expected);
        return;
      }
      throw new Error(`expected an InvalidArgumentError for ${argument}`);
    };
    check(() => redlock.semaphore('', { permits: 1 }), 'resource', /non-empty string/);
    check(() => redlock.semaphore('r', { permits: 0 }), 'options.permits', /\[1, 1000000\]/);
    check(() => redlock.semaphore('r', { permits: 1.5 }), 'options.permits', /integer/);
    check(() => redlock.semaphore('r', undefined as never), 'options.permits', /\[1, 1000000\]/);
    check(() => redlock.semaphore('r', { permits: 2, permit: 1 } as never), 'options.permit', /known keys/);
    const sem = redlock.semaphore('r', { permits: 3 });
    check(() => sem.acquire(1), 'ttl', /integer in/);
    check(() => sem.acquire(TTL, { count: 4 }), 'options.count', /\[1, 3\]/);
    check(() => sem.acquire(TTL, { count: 0 }), 'options.count', /\[1, 3\]/);
    check(() => sem.acquire(TTL, { timeout: 5 } as never), 'options.timeout', /known keys/);
    check(() => sem.renew('', TTL), 'value', /non-empty/);
    check(() => sem.release('v', { sig: 1 } as never), 'options.sig', /known keys/);
    check(() => sem.keep({} as never), 'lock', /handle taken by this primitive/);
    // A member of a multi-permit grant is not a permit: releasing it alone would leave its
    // holder counting three permits while a fourth holder gets in.
    check(() => sem.renew('abc#2', TTL), 'value', /without '#'/);
    check(() => sem.release('abc#2'), 'value', /without '#'/);
  });

  it("redlock.keep refuses a permit or a read-write lease: it would renew them with the lock's script", async () => {
    const { time, redlock } = setup();
    const permit = await time.run(redlock.semaphore('pool', { permits: 2 }).acquire(TTL));
    const lease = await time.run(redlock.readWrite('doc').read(TTL));
    for (const handle of [permit, lease]) {
      expect(() => redlock.keep(handle)).toThrow(InvalidArgumentError);
      expect(() => redlock.keep(handle)).toThrow(/semaphore\.keep or readWrite\.keep/);
    }
    await time.run(permit.release());
    await time.run(lease.release());
  });

  it('rejects a bad signal or strategy before sending anything', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('r', { permits: 1 });
    await expect(time.run(sem.acquire(TTL, { signal: 'x' as never }))).rejects.toMatchObject({
      argument: 'options.signal',
    });
    await expect(time.run(sem.acquire(TTL, { timeoutMs: -1 }))).rejects.toMatchObject({
      argument: 'options.timeoutMs',
    });
    expect(cluster.calls).toHaveLength(0);
  });
});

describe('semaphore: using and fencing in detail', () => {
  it('using names its arguments and hands maxRenewals and ttl to the keeper of the permit', async () => {
    const { time, cluster, redlock } = setup();
    const sem = redlock.semaphore('pool', { permits: 2 });
    await expect(time.run(sem.using(TTL, 'fn' as never))).rejects.toMatchObject({
      argument: 'fn',
      expected: 'a function (signal, permit) => result',
    });
    await expect(time.run(sem.using(TTL, () => 1, { renewals: 1 } as never))).rejects.toMatchObject({
      argument: 'options.renewals',
    });
    const wait = (ms: number) => new Promise<void>((resolve) => time.setTimeout(resolve, ms));
    // Each renewal of a 1 s permit asks for 5 s.
    await time.run(sem.using(1_000, () => wait(2_000), { ttl: 5_000 }));
    const extends_ = cluster.scriptCalls('quorumlock:sem-extend');
    expect(extends_.length).toBeGreaterThan(0);
    expect(extends_.every((c) => c.args[1] === '5000')).toBe(true);
    // No renewal allowed: the permit lapses while fn waits, and using says why.
    await expect(time.run(sem.using(1_000, () => wait(2_000), { maxRenewals: 0 }))).rejects.toMatchObject({
      name: 'LockLostError',
      reason: 'renewal-limit',
    });
    await time.run(redlock.idle());
  });

  it('a fenced grant reads the counter in its acquire call, on its own set; an unfenced one reports none', async () => {
    const fenced = setup(5, { fencing: true });
    await fenced.time.run(fenced.redlock.initFencing('pool'));
    const sem = fenced.redlock.semaphore('pool', { permits: 2 });
    const a = await fenced.time.run(sem.acquire(TTL));
    const b = await fenced.time.run(sem.acquire(TTL));
    await fenced.time.run(fenced.redlock.idle());
    expect(members(fenced.cluster, 'pool')).toEqual(Array(5).fill([a.value, b.value].sort()));
    // The counter each node answered b's acquire with is a's token: b's claim proposes 2 at once.
    const votes = b.report.nodes.filter((n) => n.outcome === 'acquired');
    expect(votes.length).toBeGreaterThanOrEqual(sem.quorum);
    expect(votes.map((n) => n.counter)).toEqual(votes.map(() => 1));
    const plain = setup();
    const permit = await plain.time.run(plain.redlock.semaphore('pool', { permits: 2 }).acquire(TTL));
    expect(permit.report.nodes.filter((n) => 'counter' in n)).toEqual([]);
  });
});
