import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Handoff, handoffFor } from '../../src/handoff.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { flushMicrotasks, VirtualTime, virtualRuntime } from '../support/virtual-time.js';

const TTL = 10_000;

function world() {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(5, time);
  const runtime = virtualRuntime(time);
  const make = () =>
    new Redlock(cluster.clients, { retryCount: 10_000, retryDelay: 10, retryJitter: 5, runtime });
  return { time, cluster, make };
}

describe('local hand-off between Redlocks of one process (ADR 010)', () => {
  it('a release wakes the first waiter at once, instead of at its next retry', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(5, time);
    const runtime = virtualRuntime(time);
    const a = new Redlock(cluster.clients, { runtime });
    const b = new Redlock(cluster.clients, { retryCount: 5, retryDelay: 1_000, retryJitter: 0, runtime });
    const held = (await time.run(a.acquireLock('r', TTL)))!;
    const waiting = b.acquireLock('r', TTL);
    time.setTimeout(() => void held.release(), 300);
    const lock = (await time.run(waiting))!;
    expect(lock.attempts).toBe(2);
    // Woken by the release, not by its 1 s delay; with a fresh value and its own validity.
    expect(time.now()).toBe(1_000 + 300);
    expect(lock.value).not.toBe(held.value);
    expect(lock.validityMs).toBe(TTL - 102);
  });

  it('never lengthens a delay: a local holder that keeps the lock does not stop the retries', async () => {
    const time = new VirtualTime();
    const cluster = new MemoryCluster(3, time);
    const runtime = virtualRuntime(time);
    const a = new Redlock(cluster.clients, { runtime });
    const b = new Redlock(cluster.clients, { retryCount: 3, retryDelay: 100, retryJitter: 0, runtime });
    await time.run(a.acquireLock('r', TTL));
    const start = time.now();
    expect(await time.run(b.acquireLock('r', TTL))).toBeNull();
    expect(time.now() - start).toBe(300);
  });

  it('hands over in arrival order', async () => {
    const { time, make } = world();
    const holder = make();
    const first = (await time.run(holder.acquireLock('r', TTL)))!;
    const order: string[] = [];
    const waiters = ['b', 'c', 'd'].map((name, i) => {
      const redlock = make();
      return new Promise<void>((resolve) => {
        time.setTimeout(() => {
          void redlock.acquireLock('r', TTL).then(async (lock) => {
            order.push(name);
            time.setTimeout(() => void lock!.release().then(() => resolve()), 100);
          });
        }, i);
      });
    });
    time.setTimeout(() => void first.release(), 1_000);
    await time.run(Promise.all(waiters));
    expect(order).toEqual(['b', 'c', 'd']);
  });

  it('never pairs Redlocks over different nodes', async () => {
    const time = new VirtualTime();
    const one = new MemoryCluster(3, time);
    const two = new MemoryCluster(3, time);
    const runtime = virtualRuntime(time);
    const a = new Redlock(one.clients, { runtime });
    const b = new Redlock(two.clients, { runtime });
    const la = (await time.run(a.acquireLock('r', TTL)))!;
    const lb = (await time.run(b.acquireLock('r', TTL)))!;
    expect(la).not.toBeNull();
    expect(lb).not.toBeNull();
  });

  it('leaves nothing behind: no waiter, no timer', async () => {
    const { time, make } = world();
    const a = make();
    const b = make();
    const held = (await time.run(a.acquireLock('r', TTL)))!;
    const controller = new AbortController();
    const waiting = b.acquireLock('r', TTL, { signal: controller.signal }).catch((e: unknown) => e);
    time.setTimeout(() => controller.abort(new Error('gave up')), 2_000);
    expect(((await time.run(waiting)) as Error).message).toBe('gave up');
    await time.run(held.release());
    await time.drain();
    expect(time.pendingTimers).toBe(0);
  });
});

describe('Handoff on its own (ADR 010)', () => {
  it('wakes the waiters of a resource one release at a time, in arrival order, never another resource’s', async () => {
    const time = new VirtualTime();
    const handoff = new Handoff();
    const woken: string[] = [];
    const waiting = ['a', 'b', 'c'].map((name) =>
      handoff.wait(name === 'c' ? 'other' : 'id', time, 1_000, undefined).then(() => woken.push(name)),
    );
    handoff.released('id');
    await flushMicrotasks();
    expect(woken).toEqual(['a']);
    handoff.released('id');
    await flushMicrotasks();
    expect(woken).toEqual(['a', 'b']);
    // Their timers went with them; the other resource's waiter sleeps its full delay.
    expect(time.pendingTimers).toBe(1);
    handoff.released('id');
    await time.run(Promise.all(waiting));
    expect(woken).toEqual(['a', 'b', 'c']);
    expect(time.now()).toBe(2_000);
  });

  it('a waiter whose delay ends leaves the queue: the next release wakes the one after it', async () => {
    const time = new VirtualTime();
    const handoff = new Handoff();
    const first = handoff.wait('id', time, 10, undefined);
    let second = false;
    void handoff.wait('id', time, 1_000, undefined).then(() => {
      second = true;
    });
    await time.run(first);
    expect(time.now()).toBe(1_010);
    handoff.released('id');
    await flushMicrotasks();
    expect(second).toBe(true);
    expect(time.pendingTimers).toBe(0);
  });

  it('an abort rejects with the reason, clears the timer and the listener, and leaves the queue', async () => {
    const time = new VirtualTime();
    const handoff = new Handoff();
    const controller = new AbortController();
    const reason = new Error('stop');
    const aborted = handoff.wait('id', time, 1_000, controller.signal);
    let next = false;
    void handoff.wait('id', time, 1_000, undefined).then(() => {
      next = true;
    });
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(time.pendingTimers).toBe(1);
    handoff.released('id');
    await flushMicrotasks();
    expect(next).toBe(true);
    await expect(handoff.wait('id', time, 1_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(time.pendingTimers).toBe(0);
  });

  it('a waiter that is woken leaves no listener on its signal', async () => {
    const time = new VirtualTime();
    const handoff = new Handoff();
    const controller = new AbortController();
    const waiting = handoff.wait('id', time, 1_000, controller.signal);
    handoff.released('id');
    await waiting;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('is shared per clock', () => {
    const a = new VirtualTime();
    expect(handoffFor(a)).toBe(handoffFor(a));
    expect(handoffFor(a)).not.toBe(handoffFor(new VirtualTime()));
  });
});
