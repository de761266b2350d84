import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, LockAcquireError } from '../../src/errors.js';
import type { RedlockOptions } from '../../src/options.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;
const READERS = 'doc\u0000readers';
const INTENT = 'doc\u0000intent';

function setup(options: RedlockOptions = {}) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const redlock = new Redlock(cluster.clients, {
    retryCount: 0,
    ...options,
    runtime: virtualRuntime(time, 3),
  });
  return { time, cluster, redlock };
}

function readers(cluster: MemoryCluster): number[] {
  return cluster.nodes.map((node) => node.zset(READERS)?.size ?? 0);
}

describe('read-write lock', () => {
  it('readers share; a writer waits for them; readers wait for a writer', async () => {
    const { time, cluster, redlock } = setup();
    const rw = redlock.readWrite('doc');
    const r1 = await time.run(rw.read(TTL));
    const r2 = await time.run(rw.read(TTL));
    expect(r1.report).toMatchObject({ outcome: 'acquired', quorum: 3 });
    expect(readers(cluster)).toEqual([2, 2, 2, 2, 2]);
    expect(await time.run(rw.tryWrite(TTL))).toBeNull();
    await time.run(r1.release());
    await time.run(r2.release());
    expect(readers(cluster)).toEqual([0, 0, 0, 0, 0]);
    const w = await time.run(rw.write(TTL));
    expect(cluster.holding('doc', w.value)).toEqual([0, 1, 2, 3, 4]);
    // Each attempt marks its write call's intent, the winning one too: it goes with the release
    // (the refused tryWrite's own intent, a second member, stays until it lapses).
    expect(cluster.nodes.map((node) => node.zset(INTENT)?.size)).toEqual([2, 2, 2, 2, 2]);
    expect(await time.run(rw.tryRead(TTL))).toBeNull();
    expect(await time.run(rw.tryWrite(TTL))).toBeNull();
    await time.run(w.release());
    // Its release withdrew its own intent; the two refused calls' intents stay until they lapse.
    expect(cluster.nodes.map((node) => node.zset(INTENT)?.size)).toEqual([2, 2, 2, 2, 2]);
    // The refused writer just above left its intent (the write's TTL by default): readers wait it out.
    expect(await time.run(rw.tryRead(TTL))).toBeNull();
    time.jump(TTL);
    expect(await time.run(rw.tryRead(TTL))).not.toBeNull();
  });

  it("a refused writer's intent keeps new readers out for writerIntentMs, then lapses", async () => {
    const { time, cluster, redlock } = setup();
    const rw = redlock.readWrite('doc', { writerIntentMs: 2_000 });
    const r1 = await time.run(rw.read(TTL));
    const error = (await time.run(rw.write(TTL)).catch((e: unknown) => e)) as LockAcquireError;
    expect(error).toBeInstanceOf(LockAcquireError);
    expect(error.reason).toBe('contended');
    for (const node of cluster.nodes) expect(node.pttl(INTENT)).toBe(2_000);
    // A new reader is refused while the intent stands; the reader already in keeps its lease.
    expect(await time.run(rw.tryRead(TTL))).toBeNull();
    expect(await time.run(r1.renew())).toBe(true);
    time.jump(2_000);
    expect(await time.run(rw.tryRead(TTL))).not.toBeNull();
  });

  it('a writer retrying behind a stream of readers gets in once the readers in it drain', async () => {
    const { time, redlock } = setup({ retryCount: 20, retryDelay: 200, retryJitter: 0 });
    const rw = redlock.readWrite('doc');
    const r1 = await time.run(rw.read(1_000));
    const write = rw.write(TTL);
    const late: Array<boolean> = [];
    // Readers keep coming every 100 ms; each is refused while the writer's intent stands.
    for (let i = 1; i <= 10; i++) {
      time.setTimeout(() => {
        void rw.tryRead(1_000).then((lease) => late.push(lease !== null));
      }, 100 * i);
    }
    const w = await time.run(write);
    expect(w.remainingMs()).toBeGreaterThan(0);
    expect(r1.remainingMs()).toBe(0);
    await time.run(redlock.idle());
    expect(late.filter(Boolean)).toHaveLength(0);
  });

  it('writerIntentMs 0 sets no intent', async () => {
    const { time, cluster, redlock } = setup();
    const rw = redlock.readWrite('doc', { writerIntentMs: 0 });
    await time.run(rw.read(TTL));
    expect(await time.run(rw.tryWrite(TTL))).toBeNull();
    expect(cluster.nodes.every((node) => !node.exists(INTENT))).toBe(true);
    expect(await time.run(rw.tryRead(TTL))).not.toBeNull();
  });

  it('renews each kind with its own script, and using releases after fn', async () => {
    const { time, cluster, redlock } = setup();
    const rw = redlock.readWrite('doc');
    const r = await time.run(rw.read(TTL));
    time.jump(1_000);
    expect(await time.run(r.renew())).toBe(true);
    expect(cluster.nodes[0]!.zset(READERS)!.get(r.value)).toBe(time.now() + TTL);
    await time.run(r.release());
    const out = await time.run(
      rw.using('write', 1_000, async (_signal, lease) => {
        await new Promise<void>((resolve) => time.setTimeout(resolve, 2_000));
        return lease.remainingMs() > 0;
      }),
    );
    expect(out).toBe(true);
    expect(cluster.scriptCalls('quorumlock:extend').length).toBeGreaterThan(0);
    expect(cluster.nodes.every((node) => !node.exists('doc'))).toBe(true);
    await time.run(redlock.idle());
  });

  it('a lost read attempt removes what it took before returning', async () => {
    const { time, cluster, redlock } = setup();
    for (const i of [2, 3, 4]) cluster.set(i, { kind: 'refused' });
    const rw = redlock.readWrite('doc');
    expect(await time.run(rw.tryRead(TTL))).toBeNull();
    await time.run(redlock.idle());
    expect(readers(cluster)).toEqual([0, 0, 0, 0, 0]);
  });

  it('bad input names the argument and its range', async () => {
    const { time, redlock } = setup();
    expect(() => redlock.readWrite('a\u0000b')).toThrow(InvalidArgumentError);
    expect(() => redlock.readWrite('doc', { writerIntentMs: -1 })).toThrow(
      /options.writerIntentMs must be an integer in \[0, 2147483647\]/,
    );
    expect(() => redlock.readWrite('doc', { intentMs: 5 } as never)).toThrow(/options.intentMs/);
    const rw = redlock.readWrite('doc');
    expect(() => rw.read(0)).toThrow(/ttl must be an integer in/);
    await expect(time.run(rw.using('both' as never, TTL, () => 1))).rejects.toMatchObject({
      argument: 'mode',
    });
    expect(() => rw.write(TTL, { retries: 1 } as never)).toThrow(/options.retries/);
    expect(() => redlock.readWrite('')).toThrow(expect.objectContaining({ argument: 'resource' }));
    await expect(time.run(rw.using('both' as never, TTL, () => 1))).rejects.toMatchObject({
      expected: "'read' or 'write'",
    });
    await expect(time.run(rw.using('read', TTL, 'fn' as never))).rejects.toMatchObject({
      argument: 'fn',
      expected: 'a function (signal, lease) => result',
    });
    await expect(time.run(rw.using('read', TTL, () => 1, { renewals: 1 } as never))).rejects.toMatchObject({
      argument: 'options.renewals',
    });
  });

  it("using('read') shares with the readers in; using('write') waits for them", async () => {
    const { time, redlock } = setup();
    const rw = redlock.readWrite('doc');
    const held = await time.run(rw.read(TTL));
    expect(await time.run(rw.using('read', TTL, () => 'shared'))).toBe('shared');
    await expect(time.run(rw.using('write', TTL, () => 'alone'))).rejects.toBeInstanceOf(LockAcquireError);
    await time.run(held.release());
    await time.run(redlock.idle());
  });

  it('with fencing, each lease reads the counter in its acquire call and gets a higher token', async () => {
    const { time, cluster, redlock } = setup({ fencing: true });
    await time.run(redlock.initFencing('doc'));
    const rw = redlock.readWrite('doc');
    const r = await time.run(rw.read(TTL));
    expect(readers(cluster)).toEqual([1, 1, 1, 1, 1]);
    await time.run(r.release());
    const w = await time.run(rw.write(TTL));
    expect([r.fencingToken, w.fencingToken]).toEqual([1, 2]);
    // The counters the votes carried: the floor before the read, the read's token before the write.
    for (const [lease, counter] of [
      [r, 0],
      [w, 1],
    ] as const) {
      const votes = lease.report.nodes.filter((n) => n.outcome === 'acquired');
      expect(votes.length).toBeGreaterThanOrEqual(3);
      expect(votes.map((n) => n.counter)).toEqual(votes.map(() => counter));
    }
    await time.run(w.release());
    await time.run(redlock.idle());
    // Without fencing no report carries a counter.
    const plain = setup();
    const lease = await plain.time.run(plain.redlock.readWrite('doc').write(TTL));
    const read = await plain.time.run(plain.redlock.readWrite('other').read(TTL));
    expect([...lease.report.nodes, ...read.report.nodes].filter((n) => 'counter' in n)).toEqual([]);
  });

  it('warns once when writerIntentMs is shorter than the longest retry delay (the intent would lapse between attempts)', () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { redlock } = setup({ retryDelay: 200, retryJitter: 50 });
      redlock.readWrite('doc', { writerIntentMs: 50 });
      redlock.readWrite('other', { writerIntentMs: 50 });
      redlock.readWrite('doc', { writerIntentMs: 250 });
      redlock.readWrite('doc', { writerIntentMs: 0 });
      // Shorter than delay + jitter, though longer than the delay alone: warned too.
      redlock.readWrite('doc', { writerIntentMs: 210 });
      expect(emit.mock.calls.map(([, options]) => options)).toEqual([
        { code: 'QUORUMLOCK_WRITER_INTENT' },
        { code: 'QUORUMLOCK_WRITER_INTENT' },
      ]);
      expect(String(emit.mock.calls[0]![0])).toMatch(/writerIntentMs 50 is shorter than .*200 ms \+ 50 ms/);
      expect(String(emit.mock.calls[1]![0])).toMatch(/writerIntentMs 210 is shorter/);
    } finally {
      emit.mockRestore();
    }
  });
});
