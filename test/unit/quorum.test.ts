import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type RoundNode, toError, type Vetting } from '../../src/quorum.js';
import { COMMAND, NO_VETTING, PROBE, setup } from './quorum-setup.js';

/**
 * runRound on its own, over nodes whose replies the test hands out one by one on virtual time:
 * when the round decides, what each node's report says, and what it leaves behind.
 */
describe('runRound: the vote (R3, R5)', () => {
  it('is won by exactly a quorum of yes votes, with stragglers still pending and nothing left armed', async () => {
    const r = setup(5);
    expect(r.calls.every((c) => c?.commands.length === 1 && c.commands[0] === COMMAND)).toBe(true);
    await r.answer(0, 'yes', 5);
    await r.answer(1, 'no');
    await r.answer(2, 'yes');
    expect(r.isDecided()).toBe(false);
    await r.answer(3, 'yes');
    const result = await r.time.run(r.round);
    expect(result.decision).toBe('won');
    expect(result.votes).toBe(3);
    expect(result.startMs).toBe(1_000);
    expect(result.decidedMs).toBe(1_035);
    expect(result.nodes).toStrictEqual([
      { node: 0, endpoint: 'node-0', outcome: 'acquired', latencyMs: 5 },
      { node: 1, endpoint: 'node-1', outcome: 'not-held', latencyMs: 15, holder: 'foreign' },
      { node: 2, endpoint: 'node-2', outcome: 'acquired', latencyMs: 25 },
      { node: 3, endpoint: 'node-3', outcome: 'acquired', latencyMs: 35 },
      { node: 4, endpoint: 'node-4', outcome: 'pending', latencyMs: null },
    ]);
    expect(r.inFlight()).toBe(1);
    // The straggler's answer changes nothing that was reported, and settles the accounting.
    await r.answer(4, 'yes');
    expect(result.votes).toBe(3);
    expect(result.nodes[4]!.outcome).toBe('pending');
    expect(r.inFlight()).toBe(0);
    expect(r.tracked.filter((d) => d === 1)).toHaveLength(5);
    expect(r.time.pendingTimers).toBe(0);
  });

  it('is lost as soon as the yes votes can no longer reach a quorum, not before', async () => {
    const r = setup(5);
    await r.answer(0, 'no');
    await r.answer(1, 'no');
    expect(r.isDecided()).toBe(false);
    await r.answer(2, 'yes');
    await r.answer(3, 'no');
    const result = await r.time.run(r.round);
    expect(result.decision).toBe('lost');
    expect(result.votes).toBe(1);
    expect(result.nodes.map((n) => n.outcome)).toEqual([
      'not-held',
      'not-held',
      'acquired',
      'not-held',
      'pending',
    ]);
  });

  it('wins with the last possible vote', async () => {
    const r = setup(5);
    await r.answer(0, 'no');
    await r.answer(1, 'no');
    for (const i of [2, 3, 4]) await r.answer(i, 'yes');
    expect((await r.time.run(r.round)).decision).toBe('won');
  });

  it('counts a timeout as no vote: the nodes that did not answer time out together at the per-node timeout', async () => {
    const r = setup(3);
    await r.answer(0, 'yes', 20);
    r.time.jump(79);
    await r.fail(1, new Error('refused'), 0);
    expect(r.isDecided()).toBe(false);
    await r.time.drain();
    const result = await r.time.run(r.round);
    expect(result.decision).toBe('lost');
    expect(result.decidedMs).toBe(1_100);
    expect(result.nodes[2]).toStrictEqual({
      node: 2,
      endpoint: 'node-2',
      outcome: 'timeout',
      latencyMs: null,
    });
    expect(r.inFlight()).toBe(0);
    // A reply after the timeout is not a vote.
    await r.answer(2, 'yes');
    expect(result.votes).toBe(1);
  });

  it('reports an error reply, a failed call, a call that throws and a reply it cannot read as errors', async () => {
    const r = setup(5, {
      nodes: Array.from({ length: 5 }, (_, i) => ({
        index: i,
        endpoint: `node-${i}`,
        send: () => {
          if (i === 3) throw new Error('closed');
          if (i === 4) return Promise.reject('no reason');
          return Promise.resolve([i === 0 ? new Error('ERR busy') : i === 1 ? 'throw' : 'counter']);
        },
      })),
      mode: 'all',
    });
    const result = await r.time.run(r.round);
    expect(result.decision).toBe('done');
    expect(result.votes).toBe(1);
    const [busy, unreadable, counted, thrown, rejected] = result.nodes;
    expect(busy).toMatchObject({ outcome: 'error', latencyMs: 0, error: { message: 'ERR busy' } });
    expect(unreadable).toMatchObject({ outcome: 'error', error: { message: 'unreadable' } });
    expect(counted).toStrictEqual({
      node: 2,
      endpoint: 'node-2',
      outcome: 'acquired',
      latencyMs: 0,
      counter: 7,
    });
    expect(thrown).toMatchObject({ outcome: 'error', latencyMs: 0, error: { message: 'closed' } });
    expect(rejected).toMatchObject({ outcome: 'error', latencyMs: 0, error: { message: 'no reason' } });
    expect(r.time.pendingTimers).toBe(0);
  });

  it("in 'all' mode waits for every node even after a quorum, and decides at once with none", async () => {
    const r = setup(3, { mode: 'all' });
    await r.answer(0, 'yes');
    await r.answer(1, 'yes');
    expect(r.isDecided()).toBe(false);
    await r.answer(2, 'no');
    expect(await r.time.run(r.round)).toMatchObject({ decision: 'done', votes: 2 });
    const none = setup(0, { mode: 'all' });
    expect(await none.time.run(none.round)).toMatchObject({ decision: 'done', votes: 0, nodes: [] });
  });

  it('decides lost at once when the quorum exceeds the nodes', async () => {
    const r = setup(2, { quorum: 3 });
    expect(await r.time.run(r.round)).toMatchObject({ decision: 'lost', votes: 0, decidedMs: 1_000 });
  });

  it('turns an abort into "aborted" for every node still pending, stops the timer and ignores late answers', async () => {
    const controller = new AbortController();
    const r = setup(3, { signal: controller.signal });
    await r.answer(0, 'yes', 30);
    controller.abort(new Error('stop'));
    const result = await r.time.run(r.round);
    expect(result).toMatchObject({ decision: 'aborted', votes: 1, decidedMs: 1_030 });
    expect(result.nodes.map((n) => n.outcome)).toEqual(['acquired', 'aborted', 'aborted']);
    expect(r.inFlight()).toBe(0);
    expect(r.time.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await r.answer(1, 'yes');
    expect(r.inFlight()).toBe(0);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const r = setup(3, { signal: AbortSignal.abort(new Error('before')) });
    const result = await r.time.run(r.round);
    expect(result).toMatchObject({ decision: 'aborted', votes: 0, startMs: 1_000, decidedMs: 1_000 });
    expect(result.nodes.map((n) => n.outcome)).toEqual(['aborted', 'aborted', 'aborted']);
    expect(r.calls.every((c) => c === undefined)).toBe(true);
    expect(r.tracked).toEqual([]);
    expect(r.time.pendingTimers).toBe(0);
  });

  it('removes its abort listener once decided', async () => {
    const controller = new AbortController();
    const r = setup(1, { signal: controller.signal });
    await r.answer(0, 'yes');
    await r.time.run(r.round);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('runRound: vetting and one vote per server (R1)', () => {
  it('sends the probe first, and a vetted verdict replaces the answer', async () => {
    const vetted: unknown[] = [];
    const vetting: Vetting<RoundNode> = {
      probe: (node) => (node.index === 2 ? undefined : PROBE),
      vet: (node, reply) => {
        vetted.push(reply);
        return node.index === 0
          ? { outcome: 'error', yes: false, error: new Error('quarantined') }
          : undefined;
      },
      serverOf: () => undefined,
    };
    const r = setup(3, { vetting, mode: 'all' });
    expect(r.calls.map((c) => c!.commands)).toEqual([[PROBE, COMMAND], [PROBE, COMMAND], [COMMAND]]);
    for (const i of [0, 1, 2]) await r.answer(i, 'yes');
    const result = await r.time.run(r.round);
    expect(vetted).toEqual(['probe-0', 'probe-1']);
    expect(result.votes).toBe(2);
    expect(result.nodes[0]).toMatchObject({ outcome: 'error', error: { message: 'quarantined' } });
  });

  it('counts a second answer from the same server once, naming the first node', async () => {
    const server = ['a', 'b', 'a', 'c'];
    const vetting: Vetting<RoundNode> = { ...NO_VETTING, serverOf: (node) => server[node.index] };
    const r = setup(4, { vetting, quorum: 3 });
    await r.answer(2, 'yes');
    await r.answer(0, 'yes');
    await r.answer(1, 'yes');
    expect(r.isDecided()).toBe(false);
    await r.answer(3, 'yes');
    const result = await r.time.run(r.round);
    expect(result.decision).toBe('won');
    expect(result.votes).toBe(3);
    expect(result.nodes.map((n) => n.outcome)).toEqual(['duplicate', 'acquired', 'acquired', 'acquired']);
    expect(result.nodes[0]!.error?.message).toBe(
      'same server (run_id a) as node 2: its second vote is ignored',
    );
  });

  it('names no first node ("?") when the first node’s server is no longer known (it restarted)', async () => {
    let asked = 0;
    const vetting: Vetting<RoundNode> = {
      ...NO_VETTING,
      serverOf: (node) => (node.index === 0 ? (asked++ === 0 ? 'a' : 'a2') : 'a'),
    };
    const r = setup(2, { vetting, mode: 'all' });
    await r.answer(0, 'yes');
    await r.answer(1, 'yes');
    const result = await r.time.run(r.round);
    expect(result.nodes[1]!.error?.message).toBe(
      'same server (run_id a) as node ?: its second vote is ignored',
    );
  });

  it('a duplicate is no vote: two nodes of one server cannot make a quorum of 3', async () => {
    const vetting: Vetting<RoundNode> = {
      ...NO_VETTING,
      serverOf: (node) => (node.index < 2 ? 'same' : undefined),
    };
    const r = setup(4, { vetting, quorum: 3 });
    await r.answer(0, 'yes');
    await r.answer(1, 'yes');
    await r.answer(2, 'yes');
    expect(r.isDecided()).toBe(false);
    await r.answer(3, 'no');
    const result = await r.time.run(r.round);
    expect(result).toMatchObject({ decision: 'lost', votes: 2 });
    expect(result.nodes[1]).toMatchObject({ outcome: 'duplicate', error: { message: /as node 0:/ } });
  });
});

describe('toError', () => {
  it('keeps an Error and wraps anything else', () => {
    const error = new Error('x');
    expect(toError(error)).toBe(error);
    expect(toError(42)).toStrictEqual(new Error('42'));
  });
});
