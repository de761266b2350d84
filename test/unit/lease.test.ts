import { describe, expect, it } from 'vitest';
import { Lease, type LeaseWatcher } from '../../src/lease.js';
import { VirtualTime } from '../support/virtual-time.js';

/**
 * The Lease rule (R7, R16): a renew sent with TTL t bounds the deadline to its own at once,
 * whatever its outcome; a success sets the deadline to its own, bounded by every renew sent
 * after it. Start 1000 on the monotonic clock, the wall clock 1_700_000_000_000 ahead of it.
 */
const WALL = 1_700_000_000_000;

function setup(deadline = 4_000) {
  const time = new VirtualTime(1_000);
  const wall = { now: () => WALL + time.now() };
  const lease = new Lease(time, wall, deadline, 7_000);
  const events: string[] = [];
  const watcher: LeaseWatcher = { moved: () => events.push('moved'), halt: () => events.push('halt') };
  lease.keepers.add(watcher);
  return { time, lease, events };
}

describe('Lease', () => {
  it('starts with the validity left to its deadline, and the wall-clock time it ends', () => {
    const { lease } = setup();
    expect(lease).toMatchObject({ deadlineMs: 4_000, validityMs: 3_000, expiresAt: WALL + 4_000 });
    expect(lease.forgetAfterMs).toBe(7_000);
    expect(lease.released).toBe(false);
  });

  it('a renew sent with a closer deadline brings it closer at once and tells the keepers', () => {
    const { time, lease, events } = setup();
    time.jump(500);
    lease.renewSent(2_500, 9_000);
    expect(lease).toMatchObject({ deadlineMs: 2_500, validityMs: 1_000, expiresAt: WALL + 2_500 });
    expect(lease.forgetAfterMs).toBe(9_000);
    expect(events).toEqual(['moved']);
  });

  it('a renew sent with the same or a later deadline changes nothing yet', () => {
    const { time, lease, events } = setup();
    time.jump(500);
    lease.renewSent(4_000, 5_000);
    lease.renewSent(6_000, 6_000);
    expect(lease).toMatchObject({ deadlineMs: 4_000, validityMs: 3_000, expiresAt: WALL + 4_000 });
    expect(lease.forgetAfterMs).toBe(7_000);
    expect(events).toEqual([]);
  });

  it('a success sets its own deadline, bounded by the renews sent after it', () => {
    const { time, lease } = setup();
    const first = lease.renewSent(6_000, 0);
    time.jump(100);
    const second = lease.renewSent(5_500, 0);
    const third = lease.renewSent(5_800, 0);
    lease.renewSettled(first, 6_000);
    expect(lease.deadlineMs).toBe(5_500);
    expect(lease.validityMs).toBe(4_400);
    lease.renewSettled(second);
    lease.renewSettled(third, 5_800);
    expect(lease.deadlineMs).toBe(5_800);
  });

  it('a success is not capped by its own bound: its deadline counts from its round’s start', () => {
    const { lease } = setup();
    const seq = lease.renewSent(5_000, 0);
    lease.renewSettled(seq, 5_003);
    expect(lease.deadlineMs).toBe(5_003);
  });

  it('a renew sent before the one that succeeded does not bound it', () => {
    const { lease } = setup();
    const earlier = lease.renewSent(4_500, 0);
    const later = lease.renewSent(6_000, 0);
    lease.renewSettled(later, 6_000);
    expect(lease.deadlineMs).toBe(6_000);
    lease.renewSettled(earlier);
    expect(lease.deadlineMs).toBe(6_000);
  });

  it('bounds a success only by renews sent after it, across rounds of renews', () => {
    const { lease } = setup();
    const a = lease.renewSent(5_000, 0);
    lease.renewSettled(a);
    const b = lease.renewSent(9_000, 0);
    lease.renewSettled(b, 9_000);
    expect(lease.deadlineMs).toBe(9_000);
    // With one in flight, the bound of a later renew applies; after both settle, nothing is left over.
    const c = lease.renewSent(9_500, 0);
    const d = lease.renewSent(9_200, 0);
    lease.renewSettled(d);
    lease.renewSettled(c, 9_500);
    expect(lease.deadlineMs).toBe(9_200);
    const e = lease.renewSent(9_900, 0);
    lease.renewSettled(e, 9_900);
    expect(lease.deadlineMs).toBe(9_900);
  });

  it('a success that settles after the release moves nothing', () => {
    const { lease, events } = setup();
    const seq = lease.renewSent(6_000, 0);
    lease.markReleased();
    lease.renewSettled(seq, 6_000);
    expect(lease.deadlineMs).toBe(4_000);
    expect(events).toEqual(['halt']);
    expect(lease.keepers.size).toBe(0);
  });

  it('remainingMs: to the deadline, never negative, 0 once released', () => {
    const { time, lease } = setup();
    time.jump(1_000);
    expect(lease.remainingMs()).toBe(2_000);
    time.jump(5_000);
    expect(lease.remainingMs()).toBe(0);
    const other = setup().lease;
    other.markReleased();
    expect(other.released).toBe(true);
    expect(other.remainingMs()).toBe(0);
  });

  it('a deadline already past leaves a validity of 0, not a negative one', () => {
    const { time, lease } = setup();
    time.jump(3_000);
    lease.renewSent(3_500, 0);
    expect(lease.validityMs).toBe(0);
    expect(lease.expiresAt).toBe(WALL + 4_000);
  });
});
