import { describe, expect, it } from 'vitest';
import { findOverlaps, GuardedCounter, type LeaseWindow } from '../../support/checkers.js';

const w = (holder: string, start: number, end: number, resource = 'r'): LeaseWindow => ({
  holder,
  resource,
  start,
  end,
});

describe('lease-window checker', () => {
  it('accepts disjoint and touching windows', () => {
    expect(findOverlaps([w('a', 0, 10), w('b', 10, 20), w('c', 25, 30)])).toEqual([]);
  });

  it('finds every overlapping pair, whatever the input order', () => {
    const found = findOverlaps([w('c', 15, 40), w('a', 0, 10), w('b', 5, 20)]);
    expect(found.map((o) => `${o.first.holder}<${o.second.holder}`).sort()).toEqual(['a<b', 'b<c']);
  });

  it('finds a window nested inside a long one', () => {
    expect(findOverlaps([w('a', 0, 100), w('b', 10, 20), w('c', 50, 60)])).toHaveLength(2);
  });

  it('only compares windows on the same resource', () => {
    expect(findOverlaps([w('a', 0, 10, 'x'), w('b', 5, 15, 'y')])).toEqual([]);
  });

  it('refuses a window that ends before it starts', () => {
    expect(() => findOverlaps([w('a', 5, 1)])).toThrow(/ends before it starts/);
  });
});

describe('guarded counter', () => {
  it('loses an update when two holders overlap, and none when they take turns', async () => {
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
    const serial = new GuardedCounter();
    await serial.increment(tick);
    await serial.increment(tick);
    expect(serial.lostUpdates).toBe(0);
    const racing = new GuardedCounter();
    await Promise.all([racing.increment(tick), racing.increment(tick)]);
    expect(racing.value).toBe(1);
    expect(racing.lostUpdates).toBe(1);
  });
});
