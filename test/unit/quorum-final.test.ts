import { describe, expect, it } from 'vitest';
import type { CallWatcher } from '../../src/creates.js';
import type { RoundNode, Verdict, Vetting } from '../../src/quorum.js';
import { classify, PROBE, setup } from './quorum-setup.js';

/**
 * runRound (src/quorum.ts) after the decision and under vetting: which rounds carry the final
 * outcomes of their stragglers, what a reply landing after its node was settled does, and whose
 * error a vetted node's report carries.
 */
describe('runRound: the final outcomes of the stragglers', () => {
  it('only a lost vote with stragglers carries `final`, resolved once each straggler answered or timed out', async () => {
    const r = setup(5);
    for (const i of [0, 1, 2]) await r.answer(i, 'no');
    const result = await r.time.run(r.round);
    expect(result.decision).toBe('lost');
    expect(result.final).toBeInstanceOf(Promise);
    let final: readonly string[] | undefined;
    void result.final!.then((outcomes) => {
      final = outcomes;
    });
    await r.answer(3, 'yes');
    expect(final).toBeUndefined();
    await r.time.drain();
    expect(final).toEqual(['not-held', 'not-held', 'not-held', 'acquired', 'timeout']);
    // The report at the decision is unchanged.
    expect(result.nodes.map((n) => n.outcome)).toEqual([
      'not-held',
      'not-held',
      'not-held',
      'pending',
      'pending',
    ]);
  });

  it('a won vote (even with a straggler), a lost vote with none, an aborted and a finished round carry none', async () => {
    const won = setup(3);
    await won.answer(0, 'yes');
    await won.answer(1, 'yes');
    const wonResult = await won.time.run(won.round);
    expect(wonResult.decision).toBe('won');
    expect(wonResult.final).toBeUndefined();
    expect(Object.keys(wonResult)).not.toContain('final');

    const lost = setup(1);
    await lost.answer(0, 'no');
    const lostResult = await lost.time.run(lost.round);
    expect(lostResult.decision).toBe('lost');
    expect(lostResult.final).toBeUndefined();

    const controller = new AbortController();
    const aborted = setup(3, { signal: controller.signal });
    await aborted.answer(0, 'no');
    controller.abort();
    const abortedResult = await aborted.time.run(aborted.round);
    expect(abortedResult.decision).toBe('aborted');
    expect(abortedResult.final).toBeUndefined();

    const all = setup(2, { mode: 'all' });
    await all.answer(0, 'no');
    await all.answer(1, 'no');
    const allResult = await all.time.run(all.round);
    expect(allResult.decision).toBe('done');
    expect(allResult.final).toBeUndefined();
  });
});

describe('runRound: a reply after its node was settled (no call watcher)', () => {
  /** A vetting that probes every node and records what it was asked to vet. */
  const recording = () => {
    const vetted: unknown[] = [];
    const read: unknown[] = [];
    const vetting: Vetting<RoundNode> = {
      probe: () => PROBE,
      vet: (_node, reply) => {
        vetted.push(reply);
        return undefined;
      },
      serverOf: () => undefined,
    };
    const spy = (reply: unknown, node: number): Verdict => {
      read.push(`${node}:${String(reply)}`);
      return classify(reply);
    };
    return { vetted, read, vetting, spy };
  };

  it('is neither vetted nor classified once the node timed out: a stale answer does not vet the node', async () => {
    const rec = recording();
    const r = setup(2, { vetting: rec.vetting, classify: rec.spy, quorum: 2 });
    await r.answer(0, 'yes');
    await r.time.drain();
    const result = await r.time.run(r.round);
    expect(result.nodes.map((n) => n.outcome)).toEqual(['acquired', 'timeout']);
    await r.answer(1, 'yes');
    expect(rec.vetted).toEqual(['probe-0']);
    expect(rec.read).toEqual(['0:yes']);
  });

  it('is neither vetted nor classified once the round was aborted', async () => {
    const rec = recording();
    const controller = new AbortController();
    const r = setup(2, { vetting: rec.vetting, classify: rec.spy, signal: controller.signal });
    controller.abort();
    await r.time.run(r.round);
    await r.answer(0, 'yes');
    await r.answer(1, 'no');
    expect(rec.vetted).toEqual([]);
    expect(rec.read).toEqual([]);
  });
});

describe('runRound: the report of a vetted node', () => {
  it("keeps the vetted verdict, except that a call failed as a whole reports the command's own error", async () => {
    const infoFailed = new Error('INFO failed, node not vetted: closed');
    const vetting: Vetting<RoundNode> = {
      probe: () => PROBE,
      vet: (node) =>
        node.index === 1
          ? { outcome: 'error', yes: false, error: infoFailed }
          : { outcome: 'quarantined', yes: false },
      serverOf: () => undefined,
    };
    const r = setup(3, { vetting, mode: 'all' });
    // A quarantined node that answered: its answer is no vote, and not an error either.
    await r.answer(0, 'yes');
    // The connection closed under the call: the probe and the command fail alike.
    const closed = new Error('connection closed');
    r.calls[1]!.resolve([closed, closed]);
    // A quarantined node whose command failed: quarantined it stays.
    await r.answer(2, new Error('ERR busy'));
    const result = await r.time.run(r.round);
    expect(result.votes).toBe(0);
    expect(result.nodes[0]).toStrictEqual({
      node: 0,
      endpoint: 'node-0',
      outcome: 'quarantined',
      latencyMs: 10,
    });
    expect(result.nodes[1]).toMatchObject({ outcome: 'error' });
    expect(result.nodes[1]!.error).toBe(closed);
    expect(result.nodes[2]).toStrictEqual({
      node: 2,
      endpoint: 'node-2',
      outcome: 'quarantined',
      latencyMs: 20,
    });
  });

  it('keeps a vetted error when the command itself answered', async () => {
    const infoFailed = new Error('INFO failed, node not vetted: LOADING');
    const vetting: Vetting<RoundNode> = {
      probe: () => PROBE,
      vet: () => ({ outcome: 'error', yes: false, error: infoFailed }),
      serverOf: () => undefined,
    };
    const r = setup(1, { vetting });
    await r.answer(0, 'yes');
    const result = await r.time.run(r.round);
    expect(result.decision).toBe('lost');
    expect(result.nodes[0]!.error).toBe(infoFailed);
  });
});

describe('runRound: the call watcher', () => {
  /** A watcher that records every call sent and every answer, and a classifier that records what it read. */
  const watching = () => {
    const events: string[] = [];
    const read: unknown[] = [];
    const watcher: CallWatcher = {
      sent: (node) => events.push(`sent ${node}`),
      answered: (node, outcome) => events.push(`answered ${node} ${outcome}`),
    };
    const spy = (reply: unknown): Verdict => {
      read.push(reply);
      return classify(reply);
    };
    return { events, read, watcher, spy };
  };

  it('hears of every call and of its answer, on time and late, the late one from its command alone', async () => {
    const w = watching();
    const r = setup(4, { watcher: w.watcher, classify: w.spy, quorum: 4 });
    expect(w.events).toEqual(['sent 0', 'sent 1', 'sent 2', 'sent 3']);
    await r.answer(0, 'yes');
    await r.time.drain();
    const result = await r.time.run(r.round);
    // Lost at the first timeout: the report is the snapshot of that moment.
    expect(result.nodes.map((n) => n.outcome)).toEqual(['acquired', 'timeout', 'pending', 'pending']);
    // Late: a reply the classifier reads, one it cannot read, and a failed call.
    await r.answer(1, 'yes');
    await r.answer(2, 'throw');
    await r.fail(3, new Error('closed'));
    expect(w.events.slice(4)).toEqual([
      'answered 0 acquired',
      'answered 1 acquired',
      'answered 2 error',
      'answered 3 error',
    ]);
  });

  it('never hands the classifier an error reply, on time or late: an error reply is an error', async () => {
    const w = watching();
    const r = setup(2, { watcher: w.watcher, classify: w.spy, quorum: 2 });
    await r.answer(0, new Error('NOSCRIPT'));
    await r.time.drain();
    await r.time.run(r.round);
    await r.answer(1, new Error('LOADING'));
    expect(w.read).toEqual([]);
    expect(w.events.slice(2)).toEqual(['answered 0 error', 'answered 1 error']);
  });
});
