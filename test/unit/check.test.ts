import { describe, expect, it } from 'vitest';
import {
  requireFunction,
  requireInteger,
  requireNumber,
  requireOptions,
  requireSignal,
} from '../../src/check.js';
import { refusal } from '../support/refusal.js';

/**
 * The argument checks of src/check.ts on their own: what each accepts, and the typed error naming
 * the argument, the accepted range and what was received.
 */

const KNOWN = ['signal', 'timeoutMs', 'retryStrategy'] as const;

describe('requireOptions', () => {
  it('takes undefined as no options, and a plain object with known keys as it is', () => {
    expect(requireOptions('options', undefined, KNOWN)).toEqual({});
    const options = { timeoutMs: 5 };
    expect(requireOptions('options', options, KNOWN)).toBe(options);
  });

  it('refuses anything but a plain object', () => {
    for (const [value, received] of [
      [5, '5'],
      ['x', '"x"'],
      [null, 'null'],
      [[1], 'an array of length 1'],
      [() => 1, 'a function'],
    ] as const) {
      const error = refusal(() => requireOptions('options', value as never, KNOWN));
      expect(error.argument).toBe('options');
      expect(error.expected).toBe('an object or undefined');
      expect(error.message).toBe(`options must be an object or undefined, received ${received}`);
    }
  });

  it('names an unknown key, lists the known ones, and hints at the nearest', () => {
    const error = refusal(() => requireOptions('options', { timeoutMS: 5 } as never, KNOWN));
    expect(error.argument).toBe('options.timeoutMS');
    expect(error.message).toBe(
      'options.timeoutMS must be one of the known keys (signal, timeoutMs, retryStrategy), received 5: did you mean timeoutMs?',
    );
  });

  /** The hint for `key` among `known`, or undefined. */
  const hint = (key: string, known: readonly string[]) => {
    const message = refusal(() => requireOptions('o', { [key]: 1 } as never, known)).message;
    return /did you mean (\w+)\?$/.exec(message)?.[1];
  };

  it('hints by edit distance, case-insensitive, a prefix either way counting as one edit', () => {
    expect(hint('sginal', KNOWN)).toBe('signal');
    expect(hint('RETRYSTRATEGY', KNOWN)).toBe('retryStrategy');
    expect(hint('timeout', KNOWN)).toBe('timeoutMs');
    expect(hint('retryStrategyFn', KNOWN)).toBe('retryStrategy');
    expect(hint('ret', KNOWN)).toBe('retryStrategy');
    expect(hint('signalOfTheCall', KNOWN)).toBe('signal');
    // A prefix is one edit, not zero: it does not beat a single typo listed before it.
    expect(hint('abc', ['abd', 'abcdef'])).toBe('abd');
    // The closest of several wins; on a tie, the first listed.
    expect(hint('ab', ['xyz', 'ax', 'ay'])).toBe('ax');
    expect(hint('abcd', ['abxy', 'abcx'])).toBe('abcx');
    expect(hint('kitten', ['sitting'])).toBe(undefined);
    expect(hint('kitten', ['mitten', 'sitten'])).toBe('mitten');
  });

  it('hints only within max(2, a third of the key) edits', () => {
    // 'abcdefgh' (8 letters): 2 edits allowed.
    expect(hint('abcdefgh', ['abcdefXY'])).toBe('abcdefXY');
    expect(hint('abcdefgh', ['abcdeXYZ'])).toBe(undefined);
    // 'abcdefghi' (9 letters): 3 edits allowed.
    expect(hint('abcdefghi', ['abcdefXYZ'])).toBe('abcdefXYZ');
    expect(hint('abcdefghi', ['abcdeWXYZ'])).toBe(undefined);
    // Insertions and deletions count one each.
    expect(hint('abcdefgh', ['abcdefghXY'])).toBe('abcdefghXY');
    expect(hint('abXYcdef', ['abcdef'])).toBe('abcdef');
    expect(hint('abXYZcde', ['abcde'])).toBe(undefined);
    expect(hint('z', ['abc'])).toBe(undefined);
  });
});

describe('requireInteger and requireNumber', () => {
  it('requireInteger takes an integer within [min, max], bounds included', () => {
    for (const ok of [0, 1, 10]) expect(() => requireInteger('n', ok, 0, 10)).not.toThrow();
    for (const [bad, received] of [
      [-1, '-1'],
      [11, '11'],
      [1.5, '1.5'],
      [Number.NaN, 'NaN'],
      ['5', '"5"'],
      [undefined, 'undefined'],
    ] as const) {
      const error = refusal(() => requireInteger('n', bad, 0, 10));
      expect(error.argument).toBe('n');
      expect(error.expected).toBe('an integer in [0, 10]');
      expect(error.message).toBe(`n must be an integer in [0, 10], received ${received}`);
    }
  });

  it('requireNumber takes a finite number within [min, max], bounds included, with a hint', () => {
    for (const ok of [0, 0.5, 1]) expect(() => requireNumber('f', ok, 0, 1)).not.toThrow();
    for (const bad of [-0.1, 1.1, Number.NaN, Number.POSITIVE_INFINITY, '0.5', null]) {
      const error = refusal(() => requireNumber('f', bad, 0, 1, 'a fraction'));
      expect(error.argument).toBe('f');
      expect(error.expected).toBe('a finite number in [0, 1]');
      expect(error.message).toMatch(/^f must be a finite number in \[0, 1\], received .+: a fraction$/);
    }
    expect(refusal(() => requireNumber('f', 2, 0, 1)).message).toBe(
      'f must be a finite number in [0, 1], received 2',
    );
  });
});

describe('requireFunction and requireSignal', () => {
  it('requireFunction takes a function only', () => {
    expect(() => requireFunction('cb', () => 1, 'a callback')).not.toThrow();
    const error = refusal(() => requireFunction('cb', {}, 'a callback'));
    expect(error.message).toBe('cb must be a callback, received an object');
  });

  it('requireSignal takes an AbortSignal or undefined only', () => {
    expect(() => requireSignal('signal', undefined)).not.toThrow();
    expect(() => requireSignal('signal', new AbortController().signal)).not.toThrow();
    const error = refusal(() => requireSignal('signal', new EventTarget()));
    expect(error.message).toBe(
      'signal must be an AbortSignal or undefined, received an instance of EventTarget',
    );
    expect(refusal(() => requireSignal('signal', null)).argument).toBe('signal');
  });
});
