import { describe, expect, it } from 'vitest';
import { acquireScript, releaseScript } from '../../../src/scripts/index.js';
import { GuardedCounter } from '../../support/checkers.js';
import { History } from '../../support/simulation/history.js';
import { timedCarrier } from '../../support/simulation/link.js';
import { NodeClock } from '../../support/simulation/node-clock.js';
import { operationsOf } from '../../support/simulation/operations.js';
import { SimProcess } from '../../support/simulation/process.js';
import { describeRun, runScenario } from '../../support/simulation/run.js';
import { brokenAssumptions, type Scenario, safeQuarantineMs } from '../../support/simulation/scenario.js';
import { BREAKING_SCHEDULES } from '../../support/simulation/schedules.js';
import { interferedKeys, SimNode } from '../../support/simulation/sim-node.js';
import { StallingClock } from '../../support/simulation/variants.js';
import { deriveSeed, SimWorld } from '../../support/simulation/world.js';
import { VirtualTime } from '../../support/virtual-time.js';

function world(options: Partial<ConstructorParameters<typeof SimWorld>[0]> = {}) {
  return new SimWorld({
    nodes: 3,
    clients: 1,
    seed: 1,
    maxDelayMs: 0,
    redlock: () => ({ retryCount: 0, nodeTimeoutMs: 50 }),
    ...options,
  });
}

describe('GuardedCounter', () => {
  it('does not count an update its holder abandons', async () => {
    const counter = new GuardedCounter();
    expect(await counter.increment(async () => false)).toBe(false);
    expect(await counter.increment(async () => undefined)).toBe(true);
    expect([counter.value, counter.increments, counter.lostUpdates]).toEqual([1, 1, 0]);
  });
});

describe('NodeClock', () => {
  it('runs at its rate from its offset, and steps without rewriting the past', () => {
    const time = new VirtualTime(0);
    const clock = new NodeClock(time, { offsetMs: 500, rate: 2 });
    expect(clock.now()).toBe(500);
    time.jump(10);
    expect(clock.now()).toBe(520);
    clock.setRate(0.5);
    time.jump(10);
    expect(clock.now()).toBe(525);
    clock.jump(-100);
    expect(clock.now()).toBe(425);
    time.jump(2);
    expect(clock.now()).toBe(426);
  });
});

describe('SimNode', () => {
  const node = () => {
    const time = new VirtualTime(0);
    return { time, node: new SimNode(0, time, new History(() => time.now())) };
  };

  it('expires keys on its own clock: fast, slow, stepped', () => {
    const { time, node: n } = node();
    n.set('k', 'v', 100);
    n.clock.setRate(2);
    time.jump(49);
    expect(n.get('k')).toBe('v');
    time.jump(1);
    expect(n.get('k')).toBeNull();
    n.set('k', 'v', 100);
    n.clock.jump(-1_000);
    time.jump(100);
    expect(n.get('k')).toBe('v');
  });

  it('keeps, wipes or rolls back its data on a crash, refuses while down, and restarts when due', () => {
    for (const [mode, expected] of [
      ['persist', 'new'],
      ['wipe', null],
      ['rollback', 'old'],
    ] as const) {
      const { time, node: n } = node();
      n.set('k', 'old', 10_000);
      n.takeSnapshot();
      n.set('k', 'new', 10_000);
      const runId = n.runId;
      n.crash(mode, 100);
      expect(n.up).toBe(false);
      expect(n.get('k')).toBe(expected);
      time.jump(99);
      n.restartIfDue();
      expect(n.up).toBe(false);
      time.jump(1);
      n.restartIfDue();
      expect(n.up).toBe(true);
      expect(n.runId).not.toBe(runId);
    }
  });

  it('is quarantined by an uptime guard only after a restart, in whole seconds of its clock', () => {
    const { time, node: n } = node();
    expect(n.quarantined(1_500)).toBe(false);
    n.crash('wipe', 0);
    n.restartIfDue();
    expect(n.quarantined(0)).toBe(false);
    time.jump(1_999);
    expect(n.quarantined(1_500)).toBe(true);
    time.jump(1);
    expect(n.quarantined(1_500)).toBe(false);
  });

  it('records a script that changes or prolongs a key holding a value it does not carry (S3)', () => {
    const before = new Map([
      ['a', { value: 'theirs', pttl: 500 }],
      ['b', { value: 'mine', pttl: 500 }],
      ['c', { value: null, pttl: -2 }],
    ]);
    const op = (script: string, value: string) => ({ script, keys: ['a', 'b', 'c'], args: [value] });
    const same = new Map(before);
    expect(interferedKeys([op(releaseScript.name, 'mine')], before, same)).toEqual([]);
    const deleted = new Map([...before, ['a', { value: null, pttl: -2 }]]);
    expect(interferedKeys([op(releaseScript.name, 'mine')], before, deleted)).toEqual(['a']);
    const prolonged = new Map([...before, ['a', { value: 'theirs', pttl: 900 }]]);
    expect(interferedKeys([op('quorumlock:extend', 'mine')], before, prolonged)).toEqual(['a']);
    // Two operations in one call: the key's own value was carried by one of them.
    expect(
      interferedKeys([op(releaseScript.name, 'theirs'), op(acquireScript.name, 'mine')], before, deleted),
    ).toEqual([]);
    // Not a lock operation (a fencing counter): not S3's business.
    expect(interferedKeys([op('quorumlock:claim', '7')], before, deleted)).toEqual([]);
  });

  it('finds no interference in the real scripts run through it', () => {
    const w = world();
    const n = w.nodes[0]!;
    n.set('r', 'theirs', 1_000);
    for (const [script, args] of [
      [releaseScript, ['mine']],
      [acquireScript, ['mine', '1000', '1']],
    ] as const) {
      n.execute({ type: 'eval-source', command: { type: 'eval', script, keys: ['r'], args } });
    }
    expect(n.get('r')).toBe('theirs');
    expect(n.interference).toEqual([]);
  });
});

describe('operationsOf', () => {
  it('reads a plain script call as one operation', () => {
    expect(operationsOf({ type: 'eval', script: releaseScript, keys: ['a', 'b'], args: ['v'] })).toEqual([
      { script: releaseScript.name, keys: ['a', 'b'], args: ['v'] },
    ]);
    expect(operationsOf({ type: 'info', sections: ['server'] })).toEqual([]);
  });
});

describe('SimProcess', () => {
  it('defers its timers and deliveries while paused; its clock keeps running', async () => {
    const time = new VirtualTime(0);
    const p = new SimProcess('c0', time);
    const fired: Array<[string, number]> = [];
    p.setTimeout(() => fired.push(['timer', time.now()]), 10);
    const cleared = p.setTimeout(() => fired.push(['cleared', time.now()]), 20);
    p.clearTimeout(cleared);
    time.setTimeout(() => p.pause(100), 5);
    time.setTimeout(() => p.deliver(() => fired.push(['reply', time.now()])), 50);
    expect(p.liveTimers).toBe(1);
    await time.drain();
    expect(fired).toEqual([
      ['timer', 105],
      ['reply', 105],
    ]);
    expect(p.liveTimers).toBe(0);
    expect(p.clock.now()).toBe(105);
  });

  it('pauses at the next checkpoint when armed', () => {
    const time = new VirtualTime(0);
    const p = new SimProcess('c0', time);
    expect(p.checkpoint()).toBe(0);
    p.pauseAtCheckpoint(30);
    expect(p.paused).toBe(false);
    expect(p.checkpoint()).toBe(30);
    expect(p.paused).toBe(true);
  });
});

describe('SimLink', () => {
  const evalRelease = { type: 'eval', script: releaseScript, keys: ['r'], args: ['v'] } as const;

  it('keeps each link FIFO whatever the random delays', async () => {
    const w = world({ nodes: 1, maxDelayMs: 40, carrier: timedCarrier });
    const link = w.links[0]![0]!;
    const order: number[] = [];
    const calls = Array.from({ length: 20 }, (_, i) => link.exec([evalRelease]).then(() => order.push(i)));
    await w.time.run(Promise.all(calls));
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('loses requests in a partition, runs but loses replies on drop-replies, refuses, and adds delay', async () => {
    const w = world({ nodes: 1 });
    const link = w.links[0]![0]!;
    const node = w.nodes[0]!;
    const acquire = (value: string) =>
      ({ type: 'eval', script: acquireScript, keys: [value], args: [value, '1000', '1'] }) as const;
    link.addFault({ kind: 'partition', from: 0, until: 10 });
    link.addFault({ kind: 'drop-replies', from: 10, until: 20 });
    link.addFault({ kind: 'refuse', from: 20, until: 30 });
    link.addFault({ kind: 'slow', from: 30, until: 40, extraMs: 7 });
    const outcome = (p: Promise<unknown>) => {
      const settled = p.then(
        () => `ok at ${w.time.now()}`,
        (e: Error) => e.message,
      );
      return w.time.run(
        Promise.race([settled, new Promise((r) => w.time.setTimeout(() => r('silent'), 100))]),
      );
    };
    expect(await outcome(link.exec([acquire('a')]))).toBe('silent');
    expect(node.get('a')).toBeNull();
    w.time.jump(10 - w.time.now());
    expect(await outcome(link.exec([acquire('b')]))).toBe('silent');
    expect(node.get('b')).toBe('b');
    w.time.jump(20 - w.time.now());
    expect(await outcome(link.exec([acquire('c')]))).toMatch(/ECONNREFUSED/);
    w.time.jump(30 - w.time.now());
    expect(await outcome(link.exec([acquire('d')]))).toBe('ok at 44');
    node.crash('persist', 50);
    expect(await outcome(link.exec([acquire('e')]))).toMatch(/ECONNREFUSED/);
    await w.time.drain();
  });
});

describe('scenarios', () => {
  const quiet: Scenario = {
    seed: 9,
    nodes: 3,
    maxDelayMs: 15,
    driftFactor: 0.01,
    nodeTimeoutMs: undefined,
    pauseBudgetMs: 0,
    minNodeUptimeMs: 0,
    clients: [0, 1, 2].map((c) => ({
      startMs: c * 5,
      retryCount: 5,
      retryDelay: 50,
      retryJitter: 25,
      ops: [
        {
          resources: [0],
          ttl: 300,
          gapMs: 0,
          workFraction: 0.5,
          renews: 1,
          writeDelayMs: 2,
          abandon: false,
          customRetry: c === 1,
        },
      ],
    })),
    faults: [{ kind: 'crash', node: 1, at: 100, mode: 'wipe', downMs: 300, snapshotAgoMs: 0 }],
  };

  it('replays the same history from the same scenario', async () => {
    const [a, b] = [await runScenario(quiet), await runScenario(quiet)];
    expect(a.world.history.format(10_000)).toBe(b.world.history.format(10_000));
    expect(a.stats.acquired).toBeGreaterThan(0);
    expect(a.violations, describeRun(a)).toEqual([]);
  });

  it('derives distinct, stable seeds', () => {
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
    expect(new Set([deriveSeed(1, 2, 3), deriveSeed(1, 3, 2), deriveSeed(2, 2, 3)]).size).toBe(3);
  });

  it('classifies which assumption a schedule breaks', () => {
    expect(brokenAssumptions(quiet)).toEqual([]);
    expect(brokenAssumptions({ ...quiet, faults: [{ ...quiet.faults[0]!, downMs: 299 } as never] })).toEqual([
      'wipe-restart',
    ]);
    // The uptime guard makes an immediate restart without data admissible.
    const guarded = { ...quiet, minNodeUptimeMs: safeQuarantineMs(quiet) };
    expect(brokenAssumptions({ ...guarded, faults: [{ ...quiet.faults[0]!, downMs: 0 } as never] })).toEqual(
      [],
    );
    expect(
      brokenAssumptions({ ...quiet, faults: [{ kind: 'clock-rate', node: 0, at: 0, rate: 1.01 }] }),
    ).toEqual([]);
    expect(
      brokenAssumptions({ ...quiet, faults: [{ kind: 'clock-rate', node: 0, at: 0, rate: 1.02 }] }),
    ).toEqual(['clock-rate']);
    expect(
      brokenAssumptions({
        ...quiet,
        faults: [{ kind: 'pause', client: 4, at: 0, durationMs: 1, atCheck: true }],
      }),
    ).toEqual(['pause']);
    for (const [assumption, schedule] of Object.entries(BREAKING_SCHEDULES)) {
      expect(brokenAssumptions(schedule)).toEqual([assumption]);
    }
  });
});

describe('StallingClock (the broken variant)', () => {
  it('stands still while calls are in flight and maps its readings back to true time', () => {
    const time = new VirtualTime(0);
    const clock = new StallingClock(time);
    time.jump(10);
    clock.enter();
    time.jump(30);
    expect(clock.now()).toBe(10);
    clock.leave();
    time.jump(5);
    expect(clock.now()).toBe(15);
    expect(clock.toTrue(5)).toBe(5);
    expect(clock.toTrue(10)).toBe(10);
    expect(clock.toTrue(12)).toBe(42);
    expect(clock.toTrue(100)).toBe(130);
  });
});

describe('regressions found by the simulation', () => {
  // Was a bug: renew awaited its repair round and could report success after its own deadline.
  it('renew never reports success after its own deadline (renew-after-deadline)', async () => {
    const w = world({ nodes: 5, redlock: () => ({ retryCount: 0, nodeTimeoutMs: 60 }) });
    const redlock = w.redlocks[0]!;
    const links = w.links[0]!;
    // Nodes 3 and 4 miss the SET, answer the renew "absent", then go silent for the repair.
    for (const n of [3, 4]) {
      links[n]!.addFault({ kind: 'partition', from: 0, until: 50 });
      links[n]!.addFault({ kind: 'partition', from: 100, until: 300 });
    }
    // Nodes 0–2 confirm the renew 54 ms after it starts: quorum, 43 ms before its deadline.
    for (const n of [0, 1, 2]) links[n]!.addFault({ kind: 'slow', from: 55, until: 100, extraMs: 27 });
    const lock = (await w.time.run(redlock.acquireLock('r', 100)))!;
    await w.time.run(redlock.idle());
    w.time.jump(58 - w.time.now());
    const result = await w.time.run(redlock.renew('r', lock.value, 100));
    await w.time.run(redlock.idle());
    // Before the fix: renewed at 172 with the deadline (155) 17 ms behind it: validityMs was -17.
    expect(result.renewed && result.validityMs <= 0, w.history.format()).toBe(false);
  });
});
