import { describe, expect, it } from 'vitest';
import type { AttemptReport } from '../../src/errors.js';
import { Lease } from '../../src/lease.js';
import { Lock, type LockOwner, leaseOf } from '../../src/lock.js';
import type { ReleaseResult } from '../../src/release.js';
import type { RenewResult } from '../../src/renew.js';
import { VirtualTime } from '../support/virtual-time.js';

/** The Lock handle: what it reads from its lease and what it asks its owner. */
function setup() {
  const time = new VirtualTime(1_000);
  const lease = new Lease(time, { now: () => 50_000 + time.now() }, 3_000, 9_000);
  const asked: string[] = [];
  const owner: LockOwner = {
    release: async (_lock, options) => {
      asked.push(`release ${options?.signal ? 'with' : 'without'} signal`);
      return {} as ReleaseResult;
    },
    renew: async (_lock, ttl, options) => {
      asked.push(`renew ${ttl} ${options?.signal ? 'with' : 'without'} signal`);
      return { renewed: ttl > 1_000 } as RenewResult;
    },
  };
  const lock = new Lock({
    resource: 'r',
    resources: ['r'],
    value: 'secret',
    ttl: 2_000,
    attempts: 2,
    report: {} as AttemptReport,
    fencingToken: 7,
    lease,
    owner,
  });
  return { time, lease, lock, asked };
}

describe('Lock', () => {
  it('reads validity, deadline, expiry and release from its lease', () => {
    const { time, lease, lock } = setup();
    expect([lock.validityMs, lock.deadlineMs, lock.expiresAt, lock.released]).toEqual([
      2_000,
      3_000,
      53_000,
      false,
    ]);
    time.jump(500);
    expect(lock.remainingMs()).toBe(1_500);
    lease.markReleased();
    expect(lock.released).toBe(true);
    expect(lock.remainingMs()).toBe(0);
  });

  it('renews with its own TTL by default, passes options on, and answers the owner’s verdict', async () => {
    const { lock, asked } = setup();
    const signal = new AbortController().signal;
    expect(await lock.renew()).toBe(true);
    expect(await lock.renew(500, { signal })).toBe(false);
    await lock.release({ signal });
    await lock[Symbol.asyncDispose]();
    expect(asked).toEqual([
      'renew 2000 without signal',
      'renew 500 with signal',
      'release with signal',
      'release without signal',
    ]);
  });

  it('serialises without its value', () => {
    const { time, lock } = setup();
    time.jump(400);
    expect(JSON.parse(JSON.stringify(lock))).toStrictEqual({
      resources: ['r'],
      validityMs: 2_000,
      remainingMs: 1_600,
      expiresAt: 53_000,
      attempts: 2,
      fencingToken: 7,
      released: false,
    });
  });

  it('leaseOf refuses an object no Redlock made', () => {
    expect(() => leaseOf({} as Lock)).toThrow(new TypeError('not a Lock made by a Redlock'));
  });
});
