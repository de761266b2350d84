import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, LockAcquireError } from '../../src/errors.js';
import { fenceKeyOf } from '../../src/keys.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;

function setup(n = 5) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(n, time);
  const redlock = new Redlock(cluster.clients, {
    fencing: true,
    retryCount: 0,
    runtime: virtualRuntime(time),
  });
  return { time, cluster, redlock };
}

/** Make exactly `reachable` nodes reachable from the client (the others refuse). */
function reach(cluster: MemoryCluster, reachable: readonly number[]): void {
  cluster.nodes.forEach((_, i) => {
    cluster.set(i, reachable.includes(i) ? { kind: 'up' } : { kind: 'refused' });
  });
}

async function fencedToken(time: VirtualTime, redlock: Redlock, resource = 'r'): Promise<number> {
  const lock = await time.run(redlock.acquire(resource, TTL));
  await time.run(lock.release());
  expect(lock.fencingToken).not.toBeNull();
  return lock.fencingToken!;
}

describe('fencing tokens (R13, docs/fencing.md)', () => {
  it('refuses to issue tokens until the counter is initialised, without retrying', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    const redlock = new Redlock(cluster.clients, {
      fencing: true,
      retryCount: 3,
      runtime: virtualRuntime(time),
    });
    const error = (await time.run(redlock.acquire('r', TTL)).catch((e: unknown) => e)) as LockAcquireError;
    expect(error).toBeInstanceOf(LockAcquireError);
    expect(error.reason).toBe('fencing-uninitialized');
    expect(error.attempts).toHaveLength(1);
    expect(error.message).toMatch(/initFencing/);
    expect(cluster.keys()).toEqual([]);
  });

  it('issues 1, 2, 3... after initFencing, and the counter has no TTL', async () => {
    const { time, cluster, redlock } = setup();
    const init = await time.run(redlock.initFencing('r'));
    expect(init).toMatchObject({ ready: true, highest: 0 });
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push(await fencedToken(time, redlock));
    expect(tokens).toEqual([1, 2, 3]);
    for (const node of cluster.nodes) expect(node.pttl(fenceKeyOf('r'))).toBe(-1);
    expect((await time.run(redlock.initFencing('r'))).highest).toBe(3);
  });

  it('refuses several resources at once', async () => {
    const { time, redlock } = setup();
    const error = await time.run(redlock.acquireLock(['a', 'b'], TTL)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
  });

  it('per-node INCR with max over the quorum goes backwards on the partition schedule of docs/fencing.md (negative control)', () => {
    // The naive scheme, played on plain counters: each acquisition increments the counters of
    // the nodes it reaches and takes the max as its token.
    const counters = [0, 0, 0, 0, 0];
    const acquire = (quorum: number[]) => Math.max(...quorum.map((i) => ++counters[i]!));
    for (let i = 0; i < 50; i++) acquire([0, 1, 2]);
    for (let i = 0; i < 50; i++) acquire([0, 3, 4]);
    const k = acquire([0, 1, 2]);
    const later = acquire([2, 3, 4]);
    expect(k).toBe(101);
    expect(later).toBe(52);
    expect(later).toBeLessThan(k);
  });

  it('the claim round stays strictly increasing on the same schedule', async () => {
    const { time, cluster, redlock } = setup();
    await time.run(redlock.initFencing('r'));
    const tokens: number[] = [];
    const phase = async (reachable: number[], times: number) => {
      reach(cluster, reachable);
      for (let i = 0; i < times; i++) tokens.push(await fencedToken(time, redlock));
    };
    await phase([0, 1, 2], 50);
    await phase([0, 3, 4], 50);
    await phase([0, 1, 2], 1);
    await phase([2, 3, 4], 1);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    expect(tokens.at(-1)).toBe(102);
  });

  it('survives a minority of wiped counters, and refuses when a majority is wiped (absent, not stale)', async () => {
    const { time, cluster, redlock } = setup();
    await time.run(redlock.initFencing('r'));
    for (let i = 0; i < 4; i++) await fencedToken(time, redlock);
    cluster.nodes[0]!.restart({ persist: false });
    cluster.nodes[1]!.restart({ persist: false });
    expect(await fencedToken(time, redlock)).toBe(5);
    cluster.nodes[2]!.restart({ persist: false });
    const error = (await time.run(redlock.acquire('r', TTL)).catch((e: unknown) => e)) as LockAcquireError;
    expect(error.reason).toBe('fencing-uninitialized');
    expect(error.attempts[0]!.claim!.filter((n) => n.holder === 'absent')).toHaveLength(3);
    // The operator re-initialises with a floor at least the highest token issued.
    const init = await time.run(redlock.initFencing('r', { floor: 5 }));
    expect(init.ready).toBe(true);
    expect(await fencedToken(time, redlock)).toBe(6);
  });

  it('a stale proposal re-proposes above the counters it meets', async () => {
    const { time, cluster, redlock } = setup();
    await time.run(redlock.initFencing('r'));
    // Nodes 3 and 4 missed many claims, and the acquire round only hears from them.
    for (const i of [0, 1, 2]) cluster.nodes[i]!.set(fenceKeyOf('r'), '40');
    cluster.set(0, { kind: 'up', delayMs: 50 });
    cluster.set(1, { kind: 'up', delayMs: 50 });
    cluster.set(2, { kind: 'up', delayMs: 50 });
    const lock = await time.run(redlock.acquire('r', TTL));
    expect(lock.fencingToken).toBe(41);
    expect(lock.report.claim!.filter((n) => n.outcome === 'claimed').length).toBeGreaterThanOrEqual(3);
  });

  it('hands out no token when the validity ran out during the claim round', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    const redlock = new Redlock(
      cluster.clients.map((client) => ({
        endpoint: client.endpoint,
        async exec(commands) {
          const replies = await client.exec(commands);
          // The client pauses for a whole TTL while its claim is in flight.
          if (commands.some((c) => c.type === 'eval' && c.script.name === 'quorumlock:claim')) time.jump(TTL);
          return replies;
        },
      })),
      { fencing: true, retryCount: 0, runtime: virtualRuntime(time) },
    );
    await time.run(redlock.initFencing('r'));
    const error = (await time.run(redlock.acquire('r', TTL)).catch((e: unknown) => e)) as LockAcquireError;
    expect(error.reason).toBe('validity-exhausted');
    expect(cluster.keys().filter((k) => !k.includes(fenceKeyOf('')))).toEqual([]);
  });
});

describe('the fencing counter has a key no resource can name', () => {
  it('a lock on “<resource>:fence” works beside a fenced resource, and cannot touch its counter', async () => {
    const { time, cluster, redlock } = setup();
    await time.run(redlock.initFencing('orders'));
    const first = await fencedToken(time, redlock, 'orders');
    // Another Redlock, unfenced, locks and releases names that used to collide with the counter.
    const plain = new Redlock(cluster.clients, { retryCount: 0, runtime: virtualRuntime(time, 5) });
    const lock = await time.run(plain.acquire('orders:fence', TTL));
    await time.run(lock.release());
    await time.run(plain.releaseLock('orders:fence', String(first)));
    expect(await fencedToken(time, redlock, 'orders')).toBe(first + 1);
  });

  it('refuses a resource or key prefix with a NUL character, which counter keys reserve', async () => {
    const { time, redlock } = setup();
    const error = await time.run(redlock.acquire('a\u0000fence', TTL)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('resource');
    expect(() => new Redlock(setup().cluster.clients, { keyPrefix: 'p\u0000' })).toThrow(
      InvalidArgumentError,
    );
  });
});
