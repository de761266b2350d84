import { describe, expect, it } from 'vitest';
import type { Command, EvalCommand, RedisClient, Reply } from '../../src/adapter.js';
import { decodeBatch, encodeBatch, NodePipe } from '../../src/pipe.js';
import { defineScript } from '../../src/scripts/define.js';
import { acquireScript, releaseScript } from '../../src/scripts/index.js';
import { flushMicrotasks } from '../support/virtual-time.js';

/**
 * NodePipe (src/pipe.ts) over a client whose calls the test answers by hand: which calls go out
 * at once, which are merged into a batch call, and how each caller gets its own replies or error.
 */
const acquire = (key: string): EvalCommand => ({
  type: 'eval',
  script: acquireScript,
  keys: [key],
  args: ['v', '100', '1'],
});
const release = (key: string): EvalCommand => ({
  type: 'eval',
  script: releaseScript,
  keys: [key],
  args: ['v'],
});
const INFO: Command = { type: 'info', sections: ['server'] };

interface Call {
  readonly commands: readonly Command[];
  readonly resolve: (replies: Reply[]) => void;
  readonly reject: (error: unknown) => void;
}

function scripted(throwing = false) {
  const calls: Call[] = [];
  const client: RedisClient = {
    endpoint: 'n:1',
    exec: (commands) => {
      if (throwing) throw new Error('client shut down');
      return new Promise((resolve, reject) => calls.push({ commands, resolve, reject }));
    },
  };
  return { calls, pipe: new NodePipe(client) };
}

/** Settle `promise` into what it resolved or rejected with, for assertions. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('NodePipe', () => {
  it('sends a call at once when nothing is in flight, and again once it was answered', async () => {
    const { calls, pipe } = scripted();
    const first = pipe.send([acquire('a')]);
    expect(calls.map((c) => c.commands)).toEqual([[acquire('a')]]);
    calls[0]!.resolve([1]);
    expect(await first).toEqual([1]);
    const second = outcome(pipe.send([release('a')]));
    expect(calls).toHaveLength(2);
    calls[1]!.reject(new Error('closed'));
    expect(await second).toEqual({ error: new Error('closed') });
    // A failed call is no longer in flight either.
    void pipe.send([release('b')]);
    expect(calls).toHaveLength(3);
  });

  it('queues what is issued while a call is in flight, and sends one entry as it is', async () => {
    const { calls, pipe } = scripted();
    void pipe.send([acquire('a')]);
    const queued = pipe.send([INFO, release('a')]);
    expect(calls).toHaveLength(1);
    await flushMicrotasks();
    expect(calls[1]!.commands).toEqual([INFO, release('a')]);
    calls[1]!.resolve(['info', 1]);
    expect(await queued).toEqual(['info', 1]);
  });

  it('sends one queued entry of several scripts as it is, and INFO-only entries with no batch call', async () => {
    const { calls, pipe } = scripted();
    void pipe.send([acquire('x')]);
    void pipe.send([acquire('a'), release('a')]);
    await flushMicrotasks();
    expect(calls[1]!.commands).toEqual([acquire('a'), release('a')]);
    const infos = [pipe.send([INFO]), pipe.send([INFO])];
    await flushMicrotasks();
    expect(calls[2]!.commands).toEqual([INFO, INFO]);
    calls[2]!.resolve(['one', 'two']);
    expect(await Promise.all(infos)).toEqual([['one'], ['two']]);
  });

  it('once the call in flight has answered, a new call joins the entries queued in the same turn', async () => {
    const { calls, pipe } = scripted();
    void pipe.send([acquire('x')]);
    await Promise.resolve();
    calls[0]!.resolve([1]);
    const queued = pipe.send([release('a')]);
    // The answer is handled before this continuation; the queued entry is sent at the end of the turn.
    await Promise.resolve();
    const joining = pipe.send([release('b')]);
    await flushMicrotasks();
    expect(calls.map((c) => c.commands)).toEqual([
      [acquire('x')],
      [encodeBatch([release('a'), release('b')])],
    ]);
    calls[1]!.resolve([
      [
        [1, 'A'],
        [1, 'B'],
      ],
    ]);
    expect([await queued, await joining]).toEqual([['A'], ['B']]);
  });

  it('merges the scripts of several entries into one batch call, INFO kept apart, and splits the replies', async () => {
    const { calls, pipe } = scripted();
    void pipe.send([acquire('x')]);
    const one = pipe.send([INFO, acquire('a')]);
    const two = pipe.send([release('b')]);
    await flushMicrotasks();
    const batch = encodeBatch([acquire('a'), release('b')]);
    expect(calls[1]!.commands).toEqual([INFO, batch]);
    calls[1]!.resolve([
      'info',
      [
        [1, 'A'],
        [0, 'ERR b'],
      ],
    ]);
    expect(await one).toEqual(['info', 'A']);
    expect(await two).toEqual([new Error('ERR b')]);
  });

  it('sends a lone script of several entries without the batch wrapper', async () => {
    const { calls, pipe } = scripted();
    void pipe.send([acquire('x')]);
    const info = pipe.send([INFO]);
    const script = pipe.send([release('b')]);
    await flushMicrotasks();
    expect(calls[1]!.commands).toEqual([INFO, release('b')]);
    calls[1]!.resolve(['info', 'R']);
    expect(await info).toEqual(['info']);
    expect(await script).toEqual(['R']);
  });

  it('sends a script it cannot batch on its own slot', async () => {
    const other = defineScript('quorumlock-test:other', 'return 1');
    const command: EvalCommand = { type: 'eval', script: other, keys: [], args: [] };
    const { calls, pipe } = scripted();
    void pipe.send([acquire('x')]);
    const one = pipe.send([command]);
    const two = pipe.send([release('b')]);
    await flushMicrotasks();
    expect(calls[1]!.commands).toEqual([command, release('b')]);
    calls[1]!.resolve([7, 'R']);
    expect([await one, await two]).toEqual([[7], ['R']]);
  });

  it('fails every entry of a failed call, of a batch that errored, or of a batch reply it cannot read', async () => {
    for (const answer of ['reject', 'batch error', 'unreadable'] as const) {
      const { calls, pipe } = scripted();
      void pipe.send([acquire('x')]);
      const both = [pipe.send([acquire('a')]), pipe.send([release('b')])].map(outcome);
      await flushMicrotasks();
      const call = calls[1]!;
      if (answer === 'reject') call.reject(new Error('closed'));
      else if (answer === 'batch error') call.resolve([new Error('NOSCRIPT')]);
      else call.resolve([[[1, 'only one']]]);
      const [a, b] = await Promise.all(both);
      expect(b).toEqual(a);
      if (answer === 'reject') expect(a).toEqual({ error: new Error('closed') });
      else if (answer === 'batch error') expect(a).toEqual({ value: [new Error('NOSCRIPT')] });
      else expect((a as { error: unknown }).error).toBeInstanceOf(TypeError);
    }
  });

  it('turns a client that throws into a rejection, for a call sent at once or queued', async () => {
    const { pipe } = scripted(true);
    expect(await outcome(pipe.send([acquire('a')]))).toEqual({ error: new Error('client shut down') });
    const both = [pipe.send([acquire('a')]), pipe.send([release('b')])].map(outcome);
    expect(await Promise.all(both)).toEqual([
      { error: new Error('client shut down') },
      { error: new Error('client shut down') },
    ]);
  });
});

describe('the batch layout', () => {
  it('encodeBatch: the count, then per operation its script index, key and argument counts, then its args', () => {
    const batch = encodeBatch([acquire('a'), release('b')]);
    expect(batch.keys).toEqual(['a', 'b']);
    expect(batch.args).toEqual(['2', '1', '1', '3', 'v', '100', '1', '2', '1', '1', 'v']);
  });

  it('decodeBatch: one reply or Error per operation, and a TypeError for a reply of another shape', () => {
    expect(decodeBatch([[1, 'ok'], ['1', 5], [0, 'ERR x'], 'flat'], 4)).toEqual([
      'ok',
      5,
      new Error('ERR x'),
      new TypeError('unexpected entry in quorumlock:batch reply'),
    ]);
    expect(() => decodeBatch('x', 1)).toThrow(new TypeError('unexpected reply to quorumlock:batch: "x"'));
    expect(() => decodeBatch([[1, 'a']], 2)).toThrow(TypeError);
  });
});
