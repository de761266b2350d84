import { describe, expect, it } from 'vitest';
import {
  type AttemptReport,
  countOutcomes,
  ElectionStoppedError,
  errorJSON,
  errorName,
  formatNodes,
  InvalidArgumentError,
  LockAcquireError,
  LockLostError,
  type NodeReport,
  nodeReportJSON,
  QuorumlockError,
  summarizeNodes,
} from '../../src/errors.js';

/**
 * src/errors.ts on its own: the exact messages, codes and JSON of the errors, and how node
 * reports are counted, grouped and formatted.
 */
const node = (i: number, outcome: NodeReport['outcome'], extra: Partial<NodeReport> = {}): NodeReport => ({
  node: i,
  endpoint: `n${i}`,
  outcome,
  latencyMs: 1.25,
  ...extra,
});
const attempt = (
  n: number,
  outcome: AttemptReport['outcome'],
  nodes: NodeReport[],
  extra = {},
): AttemptReport => ({
  attempt: n,
  outcome,
  votes: 1,
  quorum: 2,
  elapsedMs: 3.06,
  nodes,
  ...extra,
});
const coded = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('LockAcquireError', () => {
  it('says the resources, the attempts, the reason and the last attempt’s nodes, with a code per reason', () => {
    const first = attempt(1, 'unavailable', [node(0, 'timeout')]);
    const last = attempt(2, 'validity-exhausted', [node(0, 'acquired'), node(1, 'held'), node(2, 'held')]);
    const error = new LockAcquireError(['a', 'b'], [first, last]);
    expect(error).toBeInstanceOf(QuorumlockError);
    expect(error.name).toBe('LockAcquireError');
    expect(error.code).toBe('ERR_QUORUMLOCK_VALIDITY_EXHAUSTED');
    expect(error.reason).toBe('validity-exhausted');
    expect(error.resources).toEqual(['a', 'b']);
    expect(error.nodes).toBe(last.nodes);
    expect(error.message).toBe(
      'acquire a, b failed after 2 attempts: validity-exhausted: 1/3 votes (quorum 2) in 3.1 ms: 1 acquired, 2 held',
    );
    const one = new LockAcquireError(['r'], [attempt(1, 'contended', [node(0, 'held')])]);
    expect(one.code).toBe('ERR_QUORUMLOCK_CONTENDED');
    expect(one.message).toBe(
      'acquire r failed after 1 attempt: contended: 1/1 votes (quorum 2) in 3.1 ms: 1 held',
    );
  });

  it('tells how to initialise a missing fencing counter, with the claim round’s answers', () => {
    const claim = [node(0, 'not-held'), node(1, 'not-held'), node(2, 'claimed')];
    const error = new LockAcquireError(
      ['r'],
      [attempt(1, 'fencing-uninitialized', [node(0, 'acquired')], { claim })],
    );
    expect(error.code).toBe('ERR_QUORUMLOCK_FENCING_UNINITIALIZED');
    expect(error.message).toBe(
      'acquire r failed after 1 attempt: fencing-uninitialized: 1/1 votes (quorum 2) in 3.1 ms: 1 acquired; ' +
        'the fencing counter is absent on too many nodes (claim: 2 not-held, 1 claimed): ' +
        'initialise it with redlock.initFencing(resource, { floor }), floor at least the highest token ever issued',
    );
    const noClaim = new LockAcquireError(['r'], [attempt(1, 'fencing-uninitialized', [])]);
    expect(noClaim.message).toContain('(claim: )');
  });

  it('in JSON: its fields, every attempt’s nodes and claim with their errors as data', () => {
    const refused = coded('ECONNREFUSED', 'connect refused');
    const error = new LockAcquireError(
      ['r'],
      [
        attempt(1, 'unavailable', [node(0, 'error', { error: refused })], {
          claim: [node(1, 'error', { error: refused })],
        }),
      ],
    );
    const json = JSON.parse(JSON.stringify(error));
    expect(json).toMatchObject({
      name: 'LockAcquireError',
      code: 'ERR_QUORUMLOCK_UNAVAILABLE',
      reason: 'unavailable',
    });
    expect(json.message).toBe(error.message);
    expect(json.resources).toEqual(['r']);
    expect(Object.keys(json)).not.toContain('cause');
    const data = { name: 'Error', message: 'connect refused', code: 'ECONNREFUSED' };
    expect(json.attempts[0].nodes[0].error).toEqual(data);
    expect(json.attempts[0].claim[0].error).toEqual(data);
    expect(
      Object.keys(
        JSON.parse(JSON.stringify(new LockAcquireError(['r'], [attempt(1, 'contended', [])]))).attempts[0],
      ),
    ).not.toContain('claim');
  });
});

describe('LockLostError, ElectionStoppedError, QuorumlockError', () => {
  it('LockLostError says the reason, and the last renew’s answers when there was one', () => {
    const error = new LockLostError(['a', 'b'], 'not-held', [node(0, 'not-held'), node(1, 'renewed')]);
    expect(error.name).toBe('LockLostError');
    expect(error.code).toBe('ERR_QUORUMLOCK_LOST');
    expect(error.message).toBe('lock on a, b lost: not-held; last renew: 1 not-held, 1 renewed');
    expect(error.nodes).toHaveLength(2);
    const expired = new LockLostError(['r'], 'expired');
    expect(expired.message).toBe('lock on r lost: expired');
    expect(expired.nodes).toEqual([]);
    const json = JSON.parse(
      JSON.stringify(new LockLostError(['r'], 'not-held', [node(0, 'error', { error: new Error('x') })])),
    );
    expect(json.nodes[0].error).toEqual({ name: 'Error', message: 'x' });
  });

  it('ElectionStoppedError names the resource', () => {
    const error = new ElectionStoppedError('leader');
    expect(error).toMatchObject({
      name: 'ElectionStoppedError',
      code: 'ERR_QUORUMLOCK_ELECTION_STOPPED',
      resource: 'leader',
    });
    expect(error.message).toBe('leader election for leader stopped');
  });

  it('a QuorumlockError keeps its cause in JSON, as data', () => {
    const error = new QuorumlockError('ERR_X', 'outer', { cause: coded('EINNER', 'inner') });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'QuorumlockError',
      code: 'ERR_X',
      message: 'outer',
      cause: { name: 'Error', message: 'inner', code: 'EINNER' },
    });
  });
});

describe('InvalidArgumentError', () => {
  it('describes what it received', () => {
    const received = (value: unknown) =>
      new InvalidArgumentError('x', 'y', value).message.replace('x must be y, received ', '');
    expect(received('a'.repeat(61))).toBe(`"${'a'.repeat(60)}..."`);
    expect(received('a'.repeat(60))).toBe(`"${'a'.repeat(60)}"`);
    expect(received(1.5)).toBe('1.5');
    expect(received(10n)).toBe('10');
    expect(received(false)).toBe('false');
    expect(received(null)).toBe('null');
    expect(received(undefined)).toBe('undefined');
    expect(received([1, 2])).toBe('an array of length 2');
    expect(received(() => 1)).toBe('a function');
    expect(received(new Map())).toBe('an instance of Map');
    expect(received({})).toBe('an object');
    expect(received(Object.create(null))).toBe('an object');
    expect(new InvalidArgumentError('x', 'y', 1, 'try 2').message).toBe('x must be y, received 1: try 2');
  });
});

describe('counting and formatting node reports', () => {
  it('countOutcomes groups errors by code, first word of a reply, or class, with the first message', () => {
    class ClientClosedError extends Error {}
    const nodes = [
      node(0, 'acquired'),
      node(1, 'error', { error: coded('ECONNREFUSED', 'connect ECONNREFUSED 1') }),
      node(2, 'error', { error: coded('ECONNREFUSED', 'connect ECONNREFUSED 2') }),
      node(3, 'error', { error: new Error('BUSY script running') }),
      node(4, 'error', { error: new ClientClosedError('The client is closed') }),
      node(5, 'error', { error: new Error('LOADING') }),
      node(6, 'error', { error: coded('', '  ') }),
      node(7, 'error'),
      node(8, 'acquired'),
    ];
    expect(countOutcomes(nodes)).toBe(
      '2 acquired, 2 ECONNREFUSED ("connect ECONNREFUSED 1"), 1 BUSY ("BUSY script running"), ' +
        '1 ClientClosedError ("The client is closed"), 1 LOADING, 1 Error, 1 error',
    );
    const long = 'x'.repeat(81);
    expect(countOutcomes([node(0, 'error', { error: new Error(long) })])).toBe(
      `1 Error ("${'x'.repeat(80)}...")`,
    );
    expect(countOutcomes([node(0, 'error', { error: new Error('x'.repeat(80)) })])).toBe(
      `1 Error ("${'x'.repeat(80)}")`,
    );
    // A code-like word is a label only at the start of the message.
    expect(countOutcomes([node(0, 'error', { error: new Error('read ECONNRESET') })])).toBe(
      '1 Error ("read ECONNRESET")',
    );
    // A duplicate carries an error (the node it duplicates) and is counted by its outcome alone.
    const duplicate = node(0, 'duplicate', { error: new Error('same server (run_id a) as node 1') });
    expect(countOutcomes([duplicate])).toBe('1 duplicate');
  });

  it('summarizeNodes gives the votes, the quorum, the elapsed time to 0.1 ms and the counts', () => {
    expect(
      summarizeNodes({ votes: 2, quorum: 3, elapsedMs: 4.06, nodes: [node(0, 'acquired'), node(1, 'held')] }),
    ).toBe('2/2 votes (quorum 3) in 4.1 ms: 1 acquired, 1 held');
  });

  it('formatNodes gives one line per node: holder, counter, latency and error when there are', () => {
    expect(
      formatNodes([
        node(0, 'not-held', { holder: 'foreign' }),
        node(1, 'claimed', { counter: 7, latencyMs: null }),
        node(2, 'not-held', { counter: null }),
        node(3, 'error', { error: coded('ETIMEDOUT', 'timed out') }),
      ]),
    ).toBe(
      [
        '  node 0 n0: not-held (foreign) 1.3 ms',
        '  node 1 n1: claimed counter=7',
        '  node 2 n2: not-held counter=absent 1.3 ms',
        '  node 3 n3: error 1.3 ms ETIMEDOUT: timed out',
      ].join('\n'),
    );
  });

  it('errorName prefers the class of an error named plainly Error', () => {
    class ClosedError extends Error {}
    expect(errorName(new ClosedError('x'))).toBe('ClosedError');
    expect(errorName(Object.assign(new ClosedError('x'), { name: 'Custom' }))).toBe('Custom');
    expect(errorName(new TypeError('x'))).toBe('TypeError');
    const anonymous = Object.assign(Object.create(Error.prototype), { name: 'Error', message: '' });
    Object.defineProperty(anonymous, 'constructor', { value: { name: '' } });
    expect(errorName(anonymous)).toBe('Error');
  });

  it('errorJSON gives name, message, code and causes, at most three levels deep', () => {
    expect(errorJSON('plain')).toEqual({ message: 'plain' });
    let error: Error = new Error('level 4');
    for (let level = 3; level >= 0; level--) error = new Error(`level ${level}`, { cause: error });
    expect(errorJSON(error)).toStrictEqual({
      name: 'Error',
      message: 'level 0',
      cause: {
        name: 'Error',
        message: 'level 1',
        cause: { name: 'Error', message: 'level 2', cause: { name: 'Error', message: 'level 3' } },
      },
    });
    expect(errorJSON(Object.assign(new Error('x'), { code: 0 }))).toEqual({
      name: 'Error',
      message: 'x',
      code: 0,
    });
  });

  it('nodeReportJSON leaves a report without an error as it is', () => {
    const report = node(0, 'acquired', { counter: 3 });
    expect(nodeReportJSON.call(report)).toEqual(report);
    expect(nodeReportJSON.call(node(0, 'error', { error: new Error('x') }))).toEqual({
      ...node(0, 'error'),
      error: { name: 'Error', message: 'x' },
    });
  });
});
