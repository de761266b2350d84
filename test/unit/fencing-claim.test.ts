import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { fenceKeyOf } from '../../src/keys.js';
import { Redlock } from '../../src/redlock.js';
import { acquireFailureOn, MemoryCluster } from '../support/memory-cluster.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * src/fencing.ts at its bounds: when initFencing says the counter is ready and what it reports,
 * and how many claim rounds an attempt makes against counters that keep moving ahead.
 */
const TTL = 10_000;
const FENCE = fenceKeyOf('r');

function fenced(n: number, wrap?: (cluster: MemoryCluster, time: VirtualTime) => RedisClient[]) {
  const time = new VirtualTime();
  const cluster = new MemoryCluster(n, time);
  const clients = wrap ? wrap(cluster, time) : cluster.clients;
  const redlock = new Redlock(clients, { fencing: true, retryCount: 0, runtime: virtualRuntime(time) });
  return { time, cluster, redlock };
}

describe('initFencing', () => {
  it('is ready once a quorum of nodes has the counter, and reports the highest counter or the floor', async () => {
    const { time, cluster, redlock } = fenced(3);
    cluster.nodes[0]!.set(FENCE, '9');
    cluster.set(2, { kind: 'refused' });
    const init = await time.run(redlock.initFencing('r', { floor: 4 }));
    expect(init.ready).toBe(true);
    expect(init.highest).toBe(9);
    expect(init.nodes.map((n) => [n.outcome, n.counter])).toEqual([
      ['too-low', 9],
      ['claimed', 4],
      ['error', undefined],
    ]);
    expect(cluster.nodes.map((n) => n.get(FENCE))).toEqual(['9', '4', null]);
    // A floor above every counter is the highest; one node of three is no quorum.
    cluster.set(1, { kind: 'refused' });
    const short = await time.run(redlock.initFencing('r', { floor: 20 }));
    expect(short).toMatchObject({ ready: false, highest: 20 });
  });

  it('never lowers a counter, and reports the floor when no node has one', async () => {
    const { time, cluster, redlock } = fenced(3);
    for (const i of [0, 1, 2]) cluster.set(i, { kind: 'refused' });
    expect(await time.run(redlock.initFencing('r', { floor: 3 }))).toMatchObject({
      ready: false,
      highest: 3,
    });
    for (const i of [0, 1, 2]) cluster.set(i, { kind: 'up' });
    await time.run(redlock.initFencing('r', { floor: 7 }));
    const again = await time.run(redlock.initFencing('r', { floor: 2 }));
    expect(again).toMatchObject({ ready: true, highest: 7 });
    expect(cluster.nodes.map((n) => n.get(FENCE))).toEqual(['7', '7', '7']);
  });
});

describe('the claim round', () => {
  it('proposes above every counter it meets, five rounds at most, then the attempt is contended', async () => {
    let bump = 0;
    const { time, cluster, redlock } = fenced(5, (cluster) =>
      cluster.clients.map((client, i) => ({
        endpoint: client.endpoint,
        exec(commands) {
          // Before each claim reaches nodes 0-2, another client has moved their counters ahead.
          if (i < 3 && commands.some((c) => c.type === 'eval' && c.script.name === 'quorumlock:claim')) {
            if (i === 0) bump += 1_000;
            cluster.nodes[i]!.set(FENCE, String(bump));
          }
          return client.exec(commands);
        },
      })),
    );
    await time.run(redlock.initFencing('r'));
    const error = await acquireFailureOn(time, redlock.acquire('r', TTL));
    expect(error.reason).toBe('contended');
    const proposals = cluster.scriptCalls('quorumlock:claim').filter((c) => c.endpoint === 'mem-4');
    // 1, then one above each counter met: 1001, 2001, 3001, 4001.
    expect(proposals.map((c) => c.args[0])).toEqual(['1', '1001', '2001', '3001', '4001']);
    expect(error.attempts[0]!.claim!.map((n) => n.outcome)).toEqual([
      'too-low',
      'too-low',
      'too-low',
      'pending',
      'pending',
    ]);
    await time.run(redlock.idle());
    expect(cluster.keys().filter((k) => !k.includes(FENCE))).toEqual([]);
  });

  it('a proposal starts one above the highest counter the acquire round read', async () => {
    const { time, cluster, redlock } = fenced(3);
    await time.run(redlock.initFencing('r', { floor: 0 }));
    cluster.nodes[1]!.set(FENCE, '12');
    const lock = await time.run(redlock.acquire('r', TTL));
    expect(lock.fencingToken).toBe(13);
    expect(cluster.scriptCalls('quorumlock:claim').map((c) => c.args[0])).toEqual(['13', '13', '13']);
  });

  it('goes on past a minority of wiped counters when a round is lost to a counter ahead', async () => {
    const { time, cluster, redlock } = fenced(5);
    await time.run(redlock.initFencing('r'));
    cluster.nodes[0]!.del(FENCE);
    cluster.nodes[1]!.del(FENCE);
    cluster.nodes[2]!.set(FENCE, '50');
    cluster.nodes[3]!.set(FENCE, '60');
    cluster.nodes[4]!.set(FENCE, '60');
    const lock = await time.run(redlock.acquire('r', TTL));
    // The acquire round was won on nodes 0-2, which read 50 at most: round 1 proposes 51, and is
    // lost (0-1 absent, 3-4 too low at 60); two absent of five is no majority, so round 2
    // proposes 61, above every counter met, and wins on nodes 2-4.
    expect(lock.fencingToken).toBe(61);
    expect(cluster.scriptCalls('quorumlock:claim').map((c) => c.args[0])).toEqual([
      ...Array(5).fill('51'),
      ...Array(5).fill('61'),
    ]);
  });
  it('a claim round lost when the validity ran out ends the attempt as validity-exhausted', async () => {
    let paused = false;
    const { time, redlock } = fenced(3, (cluster, time) =>
      cluster.clients.map((client, i) => ({
        endpoint: client.endpoint,
        exec(commands) {
          if (commands.some((c) => c.type === 'eval' && c.script.name === 'quorumlock:claim')) {
            // The process pauses until the deadline itself; meanwhile nodes 1-2 move ahead.
            if (!paused) {
              paused = true;
              time.jump(TTL - 102);
            }
            if (i > 0) cluster.nodes[i]!.set(FENCE, '100');
          }
          return client.exec(commands);
        },
      })),
    );
    await time.run(redlock.initFencing('r'));
    const error = await acquireFailureOn(time, redlock.acquire('r', TTL));
    expect(error.reason).toBe('validity-exhausted');
    expect(error.attempts[0]!.claim!.map((n) => n.outcome)).toEqual(['claimed', 'too-low', 'too-low']);
  });
});

describe('a fencing round aborted', () => {
  it('an abort during the claim round rejects the acquisition with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const { time, redlock } = fenced(3, (cluster) =>
      cluster.clients.map((client) => ({
        endpoint: client.endpoint,
        exec(commands) {
          if (commands.some((c) => c.type === 'eval' && c.script.name === 'quorumlock:claim'))
            controller.abort(reason);
          return client.exec(commands);
        },
      })),
    );
    await time.run(redlock.initFencing('r'));
    const error = await time
      .run(redlock.acquire('r', TTL, { signal: controller.signal }))
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
  });

  it('initFencing rejects with the signal’s reason', async () => {
    const { time, redlock } = fenced(3);
    const reason = new Error('stop');
    await expect(time.run(redlock.initFencing('r', { signal: AbortSignal.abort(reason) }))).rejects.toBe(
      reason,
    );
  });
});
