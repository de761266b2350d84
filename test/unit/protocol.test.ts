import { describe, expect, it } from 'vitest';
import {
  ABSENT,
  ACQUIRED,
  FOREIGN,
  grantVerdict,
  HELD,
  LOCK,
  RELEASED,
  RENEWED,
} from '../../src/protocol.js';
import { acquireScript, extendScript, releaseScript, repairScript } from '../../src/scripts/index.js';

/**
 * The lock's protocol (src/protocol.ts) on its own: the command each operation sends, and the
 * verdict each script reply becomes (outcome, vote, holder, counter).
 */
describe('the verdicts', () => {
  it('are constants, frozen: a yes for acquired, released and renewed, no for the others', () => {
    expect(ACQUIRED).toEqual({ outcome: 'acquired', yes: true });
    expect(HELD).toEqual({ outcome: 'held', yes: false });
    expect(RELEASED).toEqual({ outcome: 'released', yes: true });
    expect(FOREIGN).toEqual({ outcome: 'not-held', yes: false, holder: 'foreign' });
    expect(ABSENT).toEqual({ outcome: 'not-held', yes: false, holder: 'absent' });
    expect(RENEWED).toEqual({ outcome: 'renewed', yes: true });
    for (const verdict of [ACQUIRED, HELD, RELEASED, FOREIGN, ABSENT, RENEWED]) {
      expect(Object.isFrozen(verdict)).toBe(true);
    }
  });

  it('grantVerdict: the constants without fencing, the counter with it', () => {
    expect(grantVerdict(true, false, 5)).toBe(ACQUIRED);
    expect(grantVerdict(false, false, 5)).toBe(HELD);
    expect(grantVerdict(true, true, 5)).toEqual({ outcome: 'acquired', yes: true, counter: 5 });
    expect(grantVerdict(false, true, null)).toEqual({ outcome: 'held', yes: false, counter: null });
  });
});

describe('LOCK', () => {
  it('uses the nodes’ majority', () => {
    expect(LOCK.quorum).toBeUndefined();
    expect(Object.isFrozen(LOCK)).toBe(true);
  });

  it('acquire: SET NX PX of every key, with the fencing counter’s key read in the same call', () => {
    expect(LOCK.acquire(['a', 'b'], 'v', 100, undefined)).toEqual({
      type: 'eval',
      script: acquireScript,
      keys: ['a', 'b'],
      args: ['v', '100', '2'],
    });
    expect(LOCK.acquire(['a'], 'v', 100, 'fence')).toEqual({
      type: 'eval',
      script: acquireScript,
      keys: ['a', 'fence'],
      args: ['v', '100', '1'],
    });
  });

  it('classifies an acquire reply, with or without the counter', () => {
    expect(LOCK.classifyAcquire([1, 0])).toBe(ACQUIRED);
    expect(LOCK.classifyAcquire([0, 1])).toBe(HELD);
    expect(LOCK.classifyFencedAcquire([1, 0, 7])).toEqual({ outcome: 'acquired', yes: true, counter: 7 });
    expect(LOCK.classifyFencedAcquire([0, 1, -1])).toEqual({ outcome: 'held', yes: false, counter: null });
  });

  it('release, extend and repair: the value (and TTL) for the keys', () => {
    expect(LOCK.release(['a'], 'v')).toEqual({
      type: 'eval',
      script: releaseScript,
      keys: ['a'],
      args: ['v'],
    });
    expect(LOCK.extend(['a'], 'v', 100)).toEqual({
      type: 'eval',
      script: extendScript,
      keys: ['a'],
      args: ['v', '100'],
    });
    expect(LOCK.repair!(['a'], 'v', 100)).toEqual({
      type: 'eval',
      script: repairScript,
      keys: ['a'],
      args: ['v', '100'],
    });
  });

  it('classifies a release: released if any key was deleted, else foreign or absent', () => {
    expect(LOCK.classifyRelease([1, 1])).toBe(RELEASED);
    expect(LOCK.classifyRelease([0, 1])).toBe(FOREIGN);
    expect(LOCK.classifyRelease([0, 0])).toBe(ABSENT);
  });

  it('classifies a renew: renewed, else foreign if any key is held by another value, else absent', () => {
    expect(LOCK.classifyExtend([1, 0, 0])).toBe(RENEWED);
    expect(LOCK.classifyExtend([0, 1, 1])).toBe(FOREIGN);
    expect(LOCK.classifyExtend([0, 1, 0])).toBe(ABSENT);
  });

  it('classifies a repair: renewed, or foreign when a key is held by another value', () => {
    expect(LOCK.classifyRepair!([1, 0])).toBe(RENEWED);
    expect(LOCK.classifyRepair!([0, 1])).toBe(FOREIGN);
  });
});
