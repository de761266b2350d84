import { describe, expect, it } from 'vitest';
import { Creates } from '../../src/creates.js';
import { VirtualTime } from '../support/virtual-time.js';

/**
 * src/creates.ts on its own (R6 after a NOSCRIPT detour): which late answers call for a release
 * again, how that release is made, and how long idle() and the release wait for creates in
 * flight. late-create.test.ts drives the same through a Redlock and its adapters.
 */
function harness(waitMs = 50) {
  const time = new VirtualTime();
  const released: string[] = [];
  const finish: Array<() => void> = [];
  let holds = 0;
  let held = 0;
  const idle = {
    hold: () => {
      holds++;
      held++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        held--;
      };
    },
  };
  const release = (node: number, abandoned: boolean) => {
    released.push(abandoned ? `${node} abandoned` : `${node}`);
    return new Promise<void>((resolve) => finish.push(resolve));
  };
  const creates = new Creates(release, idle, time, waitMs);
  /** The release rounds of the lock answered on these nodes. */
  const releaseAnswered = (...nodes: number[]) => {
    for (const n of nodes) creates.releases.answered(n, 'released');
  };
  return {
    time,
    creates,
    released,
    releaseAnswered,
    finishReleases: async () => {
      for (const f of finish.splice(0)) f();
      await time.run(Promise.resolve());
    },
    held: () => held,
    holds: () => holds,
  };
}

describe('Creates: which late answers are released again', () => {
  it('a create that answers it created, on a node whose release had answered, is released there', () => {
    const h = harness();
    for (const n of [0, 1, 2]) h.creates.sent(n);
    h.creates.releases.sent(0);
    h.releaseAnswered(0, 2);
    h.creates.answered(0, 'acquired');
    h.creates.answered(1, 'acquired');
    h.creates.answered(2, 'renewed');
    expect(h.released).toEqual(['0', '2']);
  });

  it('any other answer, or a node whose release had not answered, calls for nothing', () => {
    const h = harness();
    for (const n of [0, 1, 2, 3]) h.creates.sent(n);
    h.releaseAnswered(0, 1, 2);
    h.creates.answered(0, 'held');
    h.creates.answered(1, 'not-held');
    h.creates.answered(2, 'error');
    h.creates.answered(3, 'acquired');
    expect(h.released).toEqual([]);
    expect(h.creates.busy).toBe(false);
  });

  it("a lost attempt's late create is released as the attempt's cleanup was", () => {
    const h = harness();
    h.creates.sent(0);
    h.creates.sent(1);
    h.releaseAnswered(0, 1);
    h.creates.answered(0, 'acquired');
    h.creates.abandoned();
    h.creates.answered(1, 'acquired');
    expect(h.released).toEqual(['0', '1 abandoned']);
  });

  it('holds idle() while a release it called for runs', async () => {
    const h = harness();
    h.creates.sent(0);
    h.releaseAnswered(0);
    h.creates.answered(0, 'acquired');
    expect(h.held()).toBe(1);
    await h.finishReleases();
    expect(h.held()).toBe(0);
  });
});

describe('Creates: busy', () => {
  it('while a create is in flight, and once a release was called for', async () => {
    const h = harness();
    expect(h.creates.busy).toBe(false);
    h.creates.sent(0);
    h.creates.sent(1);
    expect(h.creates.busy).toBe(true);
    h.creates.answered(0, 'acquired');
    expect(h.creates.busy).toBe(true);
    h.creates.answered(1, 'acquired');
    expect(h.creates.busy).toBe(false);
    h.creates.sent(1);
    h.releaseAnswered(1);
    h.creates.answered(1, 'acquired');
    expect(h.creates.busy).toBe(true);
    // settled() then waits for that release.
    let settled = false;
    void h.creates.settled(10).then(() => {
      settled = true;
    });
    await h.time.run(Promise.resolve());
    expect(settled).toBe(false);
    await h.finishReleases();
    expect(settled).toBe(true);
  });
});

describe('Creates: waitInIdle', () => {
  it('holds idle() once, until the last create in flight answers', () => {
    const h = harness();
    h.creates.waitInIdle();
    expect(h.holds()).toBe(0);
    h.creates.sent(0);
    h.creates.sent(1);
    h.creates.waitInIdle();
    h.creates.waitInIdle();
    expect([h.holds(), h.held()]).toEqual([1, 1]);
    h.creates.answered(0, 'held');
    expect(h.held()).toBe(1);
    h.creates.answered(1, 'held');
    expect(h.held()).toBe(0);
    expect(h.time.pendingTimers).toBe(0);
  });

  it('for at most its wait: a create that never answers does not hold idle() for ever', async () => {
    const h = harness(50);
    h.creates.sent(0);
    const start = h.time.now();
    h.creates.waitInIdle();
    await h.time.drain();
    expect([h.held(), h.time.now() - start]).toEqual([0, 50]);
    // A late answer after the wait changes nothing.
    h.creates.answered(0, 'held');
    expect([h.holds(), h.held()]).toEqual([1, 0]);
  });
});

describe('Creates: settled', () => {
  it('resolves at once with nothing in flight', async () => {
    const h = harness();
    let done = false;
    void h.creates.settled(100).then(() => {
      done = true;
    });
    await h.time.run(Promise.resolve());
    expect([done, h.time.pendingTimers]).toEqual([true, 0]);
  });

  it('resolves when the creates in flight have answered, beside waitInIdle, before its bound', async () => {
    const h = harness(1_000);
    h.creates.sent(0);
    h.creates.waitInIdle();
    let done = false;
    void h.creates.settled(100).then(() => {
      done = true;
    });
    h.time.jump(10);
    await h.time.run(Promise.resolve());
    expect(done).toBe(false);
    h.creates.answered(0, 'not-held');
    await h.time.run(Promise.resolve());
    // Both waiters woke: settled() resolved and idle() is free, and both timers were cleared.
    expect([done, h.held(), h.time.pendingTimers]).toEqual([true, 0, 0]);
  });

  it('resolves after `ms` when a create never answers', async () => {
    const h = harness(1_000);
    h.creates.sent(0);
    const start = h.time.now();
    await h.time.run(h.creates.settled(100));
    expect(h.time.now() - start).toBe(100);
  });
});
