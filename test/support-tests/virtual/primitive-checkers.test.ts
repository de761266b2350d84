import { describe, expect, it } from 'vitest';
import { findExcess, findWriterOverlaps, type HolderWindow } from '../../support/primitive-checkers.js';

const w = (holder: string, start: number, end: number, extra: Partial<HolderWindow> = {}): HolderWindow => ({
  holder,
  resource: 'r',
  start,
  end,
  ...extra,
});

describe('primitive checkers', () => {
  it('findExcess counts permits held at once; shared endpoints do not overlap', () => {
    const windows = [w('a', 0, 10), w('b', 5, 15), w('c', 10, 20)];
    expect(findExcess(windows, 2)).toEqual([]);
    expect(findExcess([...windows, w('d', 6, 7)], 2)).toMatchObject([{ at: 6, weight: 3 }]);
    expect(findExcess([w('a', 0, 10, { weight: 2 }), w('b', 9, 12)], 2)).toMatchObject([
      { at: 9, weight: 3 },
    ]);
  });

  it('findWriterOverlaps: readers may overlap each other, a writer nobody', () => {
    const readers = [w('r1', 0, 10, { kind: 'read' }), w('r2', 5, 15, { kind: 'read' })];
    expect(findWriterOverlaps([...readers, w('w1', 15, 20, { kind: 'write' })])).toEqual([]);
    expect(findWriterOverlaps([...readers, w('w1', 14, 20, { kind: 'write' })])).toHaveLength(1);
    expect(
      findWriterOverlaps([w('w1', 0, 10, { kind: 'write' }), w('w2', 9, 12, { kind: 'write' })]),
    ).toHaveLength(1);
  });
});
