import { describe, expect, it } from 'vitest';
import type { AttemptReport } from '../../src/errors.js';
import { fenceKeyOf, keysOf, RESERVED, resourceId, sameSet } from '../../src/keys.js';
import { Lease } from '../../src/lease.js';
import { Lock, type LockOwner } from '../../src/lock.js';
import { Registry } from '../../src/registry.js';
import { VirtualTime } from '../support/virtual-time.js';

/** The registry of live locks by value (R7, R19), and the key layout. */
function lockOf(time: VirtualTime, value: string, resources: readonly string[], forgetAfterMs: number): Lock {
  return new Lock({
    resource: resources.length === 1 ? resources[0]! : resources,
    resources,
    value,
    ttl: 1_000,
    attempts: 1,
    report: {} as AttemptReport,
    fencingToken: null,
    lease: new Lease(time, time, time.now() + 900, forgetAfterMs),
    owner: {} as LockOwner,
  });
}

describe('Registry', () => {
  it('finds a lock by value when it covers any of the resources named, in any order', () => {
    const time = new VirtualTime();
    const registry = new Registry(time);
    const lock = lockOf(time, 'v', ['a', 'b'], 10_000);
    registry.add(lock);
    expect(registry.held('v', ['b'])).toBe(lock);
    expect(registry.held('v', ['c', 'a'])).toBe(lock);
    expect(registry.held('v', ['c'])).toBeUndefined();
    expect(registry.held('w', ['a'])).toBeUndefined();
    registry.delete(lock);
    expect(registry.held('v', ['a'])).toBeUndefined();
  });

  it('sweeps at its 1024th live lock, forgetting exactly those no node can still hold', () => {
    const time = new VirtualTime(5_000);
    const registry = new Registry(time);
    const due = lockOf(time, 'due', ['r'], 5_000);
    const later = lockOf(time, 'later', ['r'], 5_001);
    registry.add(due);
    registry.add(later);
    for (let i = 2; i < 1_023; i++) registry.add(lockOf(time, `x${i}`, ['r'], 1_000_000));
    expect(registry.held('due', ['r'])).toBe(due);
    registry.add(lockOf(time, 'x1023', ['r'], 1_000_000));
    expect(registry.held('due', ['r'])).toBeUndefined();
    expect(registry.held('later', ['r'])).toBe(later);
  });

  it('after a sweep, waits for twice the locks that remained before the next', () => {
    const time = new VirtualTime(5_000);
    const registry = new Registry(time);
    for (let i = 0; i < 1_024; i++) registry.add(lockOf(time, `x${i}`, ['r'], 6_000));
    // Nothing was forgettable: 1024 remain, the next sweep comes at 2048.
    time.jump(10_000);
    registry.add(lockOf(time, 'y', ['r'], 100_000));
    expect(registry.held('x0', ['r'])).toBeDefined();
    for (let i = 1_025; i < 2_047; i++) registry.add(lockOf(time, `z${i}`, ['r'], 100_000));
    expect(registry.held('x0', ['r'])).toBeDefined();
    registry.add(lockOf(time, 'last', ['r'], 100_000));
    expect(registry.held('x0', ['r'])).toBeUndefined();
    expect(registry.held('y', ['r'])).toBeDefined();
  });
});

describe('key layout', () => {
  it('prefixes each resource', () => {
    expect(keysOf('app:', ['a', 'b'])).toEqual(['app:a', 'app:b']);
    expect(keysOf('', ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('a fencing counter key is the lock key, NUL, then fence', () => {
    expect(fenceKeyOf('app:a')).toBe(`app:a${RESERVED}fence`);
    expect(RESERVED).toBe('\u0000');
  });

  it('names a set of keys whatever their order, and one key by itself', () => {
    expect(resourceId('n', ['k'])).toBe('n|k');
    expect(resourceId('n', ['b', 'a'])).toBe(`n|a${RESERVED}b`);
    expect(resourceId('n', ['a', 'b'])).toBe(resourceId('n', ['b', 'a']));
  });

  it('sameSet: the same resources in any order, nothing more or less', () => {
    expect(sameSet(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(sameSet(['a', 'b'], ['a'])).toBe(false);
    expect(sameSet(['a'], ['a', 'b'])).toBe(false);
    expect(sameSet(['a', 'b'], ['a', 'c'])).toBe(false);
  });
});
