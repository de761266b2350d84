import { describe, expect, it } from 'vitest';
import { systemClock, systemTimers, wallClock } from '../../src/clock.js';
import {
  DEFAULTS,
  MAX_DELAY_MS,
  MAX_RESOURCES,
  requireResource,
  requireResources,
  requireTtl,
  requireValue,
  resolveOptions,
  retryDelayOf,
} from '../../src/options.js';
import { MAX_DRIFT_FACTOR, MAX_TTL_MS } from '../../src/validity.js';
import { refusal } from '../support/refusal.js';

/**
 * src/options.ts on its own: the defaults, each option's accepted range at its bounds, and the
 * typed error naming the argument, the range and what was received.
 */
const resolve = (options: object | undefined) => resolveOptions(options as never).options;
const DRIFT_RANGE = `a finite number in [0, ${MAX_DRIFT_FACTOR}]`;
const refused = (options: object) => refusal(() => resolveOptions(options as never));

describe('resolveOptions', () => {
  it('fills every default, and the system runtime', () => {
    const { options, runtime } = resolveOptions(undefined);
    expect(options).toEqual({
      retryCount: 3,
      retryDelay: 200,
      retryJitter: 100,
      driftFactor: 0.01,
      nodeTimeoutMs: undefined,
      keyPrefix: '',
      fencing: false,
      minNodeUptimeMs: 0,
      coalesce: true,
    });
    expect(Object.isFrozen(options)).toBe(true);
    expect(runtime.clock).toBe(systemClock);
    expect(runtime.timers).toBe(systemTimers);
    expect(runtime.wallClock).toBe(wallClock);
    expect(DEFAULTS).toMatchObject({ releaseNodeTimeoutMs: 500, maxClaimRounds: 5 });
  });

  it('keeps what is given, and a jitter no larger than a short retryDelay by default', () => {
    const given = {
      retryCount: 0,
      retryDelay: 50,
      driftFactor: 0,
      nodeTimeoutMs: 1,
      keyPrefix: 'p:',
      fencing: true,
      minNodeUptimeMs: 5,
      coalesce: false,
    };
    expect(resolve(given)).toEqual({ ...given, retryJitter: 50 });
    expect(resolve({ retryDelay: 0 }).retryJitter).toBe(0);
    expect(resolve({ retryDelay: 300 }).retryJitter).toBe(100);
  });

  it('takes each number at the bounds of its range', () => {
    expect(resolve({ retryCount: 1_000_000 }).retryCount).toBe(1_000_000);
    expect(resolve({ retryDelay: MAX_DELAY_MS, retryJitter: 0 }).retryDelay).toBe(MAX_DELAY_MS);
    expect(resolve({ retryDelay: 100, retryJitter: 100 }).retryJitter).toBe(100);
    expect(resolve({ driftFactor: MAX_DRIFT_FACTOR }).driftFactor).toBe(MAX_DRIFT_FACTOR);
    expect(resolve({ nodeTimeoutMs: MAX_TTL_MS }).nodeTimeoutMs).toBe(MAX_TTL_MS);
    expect(resolve({ minNodeUptimeMs: MAX_TTL_MS }).minNodeUptimeMs).toBe(MAX_TTL_MS);
  });

  it('refuses each number out of its range, naming the option and the range', () => {
    const cases: Array<[object, string, string]> = [
      [{ retryCount: -1 }, 'options.retryCount', 'an integer in [0, 1000000]'],
      [{ retryCount: 1_000_001 }, 'options.retryCount', 'an integer in [0, 1000000]'],
      [{ retryCount: 1.5 }, 'options.retryCount', 'an integer in [0, 1000000]'],
      [{ retryDelay: -1 }, 'options.retryDelay', `a finite number in [0, ${MAX_DELAY_MS}]`],
      [{ retryDelay: MAX_DELAY_MS + 1 }, 'options.retryDelay', `a finite number in [0, ${MAX_DELAY_MS}]`],
      [{ retryDelay: 10, retryJitter: 11 }, 'options.retryJitter', 'a finite number in [0, 10]'],
      [{ retryJitter: -1 }, 'options.retryJitter', 'a finite number in [0, 200]'],
      [{ driftFactor: 1 }, 'options.driftFactor', DRIFT_RANGE],
      [{ driftFactor: 0.991 }, 'options.driftFactor', DRIFT_RANGE],
      [{ driftFactor: 1 - 1e-10 }, 'options.driftFactor', DRIFT_RANGE],
      [{ driftFactor: -0.01 }, 'options.driftFactor', DRIFT_RANGE],
      [{ driftFactor: Number.NaN }, 'options.driftFactor', DRIFT_RANGE],
      [{ driftFactor: '0.1' }, 'options.driftFactor', DRIFT_RANGE],
      [{ nodeTimeoutMs: 0 }, 'options.nodeTimeoutMs', `an integer in [1, ${MAX_TTL_MS}]`],
      [{ nodeTimeoutMs: MAX_TTL_MS + 1 }, 'options.nodeTimeoutMs', `an integer in [1, ${MAX_TTL_MS}]`],
      [{ minNodeUptimeMs: -1 }, 'options.minNodeUptimeMs', `an integer in [0, ${MAX_TTL_MS}]`],
      [{ keyPrefix: 5 }, 'options.keyPrefix', 'a string without NUL characters'],
      [{ keyPrefix: 'a\u0000' }, 'options.keyPrefix', 'a string without NUL characters'],
      [{ fencing: 'yes' }, 'options.fencing', 'a boolean'],
      [{ coalesce: 1 }, 'options.coalesce', 'a boolean'],
    ];
    for (const [options, argument, expected] of cases) {
      const error = refused(options);
      expect([error.argument, error.expected]).toEqual([argument, expected]);
    }
    expect(refused({ retryDelay: 10, retryJitter: 11 }).message).toMatch(
      /: retryJitter may not exceed retryDelay$/,
    );
  });

  it('refuses a retryDelay and retryJitter that add up past what a timer can wait', () => {
    expect(resolve({ retryDelay: MAX_DELAY_MS - 5, retryJitter: 5 }).retryJitter).toBe(5);
    const error = refused({ retryDelay: MAX_DELAY_MS - 5, retryJitter: 6 });
    expect(error.argument).toBe('options.retryJitter');
    expect(error.message).toBe(
      `options.retryJitter must be a number with retryDelay + retryJitter ≤ ${MAX_DELAY_MS} ms (the longest a timer can wait), received 6`,
    );
  });

  it('merges a partial runtime over the system one, ignoring undefined parts, and checks every method', () => {
    const clock = { now: () => 5 };
    const { runtime } = resolveOptions({ runtime: { clock, timers: undefined } } as never);
    expect(runtime.clock).toBe(clock);
    expect(runtime.timers).toBe(systemTimers);
    const fn = () => 0;
    const valid = {
      clock: { now: fn },
      timers: { setTimeout: fn, clearTimeout: fn },
      random: { fill: fn, float: fn },
      wallClock: { now: fn },
    };
    for (const [part, method] of [
      ['clock', 'now'],
      ['timers', 'setTimeout'],
      ['timers', 'clearTimeout'],
      ['random', 'fill'],
      ['random', 'float'],
      ['wallClock', 'now'],
    ] as const) {
      const broken = { ...valid[part], [method]: 1 };
      const error = refused({ runtime: { [part]: broken } });
      expect(error.argument).toBe(`options.runtime.${part}.${method}`);
      expect(error.message).toBe(`options.runtime.${part}.${method} must be a function, received 1`);
    }
    expect(refused({ runtime: { clock: null } }).message).toBe(
      'options.runtime.clock.now must be a function, received undefined',
    );
  });
});

describe('requireTtl', () => {
  it('takes an integer from the least TTL leaving 10 ms of validity up to the largest timer delay', () => {
    expect(() => requireTtl('ttl', 12, 0.01)).not.toThrow();
    expect(() => requireTtl('ttl', MAX_TTL_MS, 0.01)).not.toThrow();
    for (const bad of [11, MAX_TTL_MS + 1, 100.5, '100', Number.NaN]) {
      const error = refusal(() => requireTtl('ttl', bad, 0.01));
      expect(error.argument).toBe('ttl');
      expect(error.expected).toBe(
        `an integer in [12, ${MAX_TTL_MS}] ms (MIN_TTL: ttl − drift, drift = floor(ttl × 0.01) + 2 ms, must leave 10 ms for a round trip)`,
      );
    }
  });
});

describe('resources and values', () => {
  it('requireResource: a non-empty string without NUL', () => {
    expect(requireResource('r', 'a')).toBe('a');
    for (const bad of ['', 'a\u0000b', 5, undefined]) {
      expect(refusal(() => requireResource('r', bad)).expected).toBe(
        'a non-empty string without NUL characters',
      );
    }
  });

  it('requireResources: a string, or a frozen copy of 1 to 1024 distinct ones', () => {
    expect(requireResources('r', 'a')).toEqual(['a']);
    const list = ['a', 'b'];
    const out = requireResources('r', list);
    expect(out).toEqual(list);
    expect(out).not.toBe(list);
    expect(Object.isFrozen(out)).toBe(true);
    expect(
      requireResources(
        'r',
        Array.from({ length: MAX_RESOURCES }, (_, i) => `k${i}`),
      ),
    ).toHaveLength(1024);
    expect(refusal(() => requireResources('r', '')).expected).toBe(
      'a non-empty string without NUL characters, or an array of them',
    );
    expect(refusal(() => requireResources('r', 'a\u0000')).argument).toBe('r');
    for (const bad of [[], Array.from({ length: MAX_RESOURCES + 1 }, (_, i) => `k${i}`), 5, null]) {
      expect(refusal(() => requireResources('r', bad)).expected).toBe(
        'a non-empty string or an array of 1 to 1024 of them',
      );
    }
    for (const bad of [
      ['a', ''],
      ['a', 'b\u0000'],
      ['a', 7],
    ]) {
      const error = refusal(() => requireResources('r', bad));
      expect([error.argument, error.expected]).toEqual(['r[1]', 'a non-empty string without NUL characters']);
    }
    const twice = refusal(() => requireResources('r', ['a', 'b', 'a']));
    expect([twice.argument, twice.expected]).toEqual(['r[2]', 'a resource not already in the list']);
  });

  it('requireValue: a non-empty string', () => {
    expect(() => requireValue('value', 'v')).not.toThrow();
    for (const bad of ['', 5, null]) {
      expect(refusal(() => requireValue('value', bad)).expected).toBe('a non-empty string (the lock value)');
    }
  });
});

describe('retryDelayOf', () => {
  it('a delay in [0, the largest timer delay], or null to stop (null or negative)', () => {
    expect(retryDelayOf(0)).toBe(0);
    expect(retryDelayOf(MAX_DELAY_MS)).toBe(MAX_DELAY_MS);
    expect(retryDelayOf(null)).toBeNull();
    expect(retryDelayOf(-1)).toBeNull();
    expect(retryDelayOf(-0.5)).toBeNull();
    for (const bad of [MAX_DELAY_MS + 1, Number.NaN, Number.POSITIVE_INFINITY, '10', undefined]) {
      const error = refusal(() => retryDelayOf(bad));
      expect(error.argument).toBe('retryStrategy(attempt, context)');
      expect(error.expected).toBe(`a number of ms in [0, ${MAX_DELAY_MS}] (negative or null to stop)`);
    }
  });
});
