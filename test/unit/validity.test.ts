import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import {
  deadlineMs,
  driftMs,
  MAX_DRIFT_FACTOR,
  MAX_TTL_MS,
  MIN_VALIDITY_MS,
  minTtlMs,
  nodeTimeoutMs,
  quorumOf,
} from '../../src/validity.js';

describe('quorum', () => {
  it('is floor(N/2) + 1', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumOf)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });
});

describe('drift and validity (R4)', () => {
  it('drift is floor(ttl × driftFactor) + 2 ms', () => {
    expect(driftMs(10_000, 0.01)).toBe(102);
    expect(driftMs(1_999, 0.01)).toBe(21);
    expect(driftMs(100, 0)).toBe(2);
    expect(driftMs(1_000, 0.5)).toBe(502);
  });

  it('the deadline is start + ttl − drift', () => {
    expect(deadlineMs(5_000, 10_000, 0.01)).toBe(5_000 + 10_000 - 102);
  });

  it('the smallest TTL leaves at least MIN_VALIDITY_MS of validity', () => {
    for (const f of [0, 0.01, 0.1, 0.5, 0.9]) {
      const min = minTtlMs(f);
      expect(min - driftMs(min, f)).toBeGreaterThanOrEqual(MIN_VALIDITY_MS);
      expect(min - 1 - driftMs(min - 1, f)).toBeLessThan(MIN_VALIDITY_MS);
    }
    expect(minTtlMs(0.01)).toBe(12);
  });

  it('every driftFactor the options accept leaves MIN_VALIDITY_MS at some TTL up to MAX_TTL_MS', () => {
    // A driftFactor within 1e-8 of 1 was accepted, and minTtlMs then stepped through 2^31 TTLs to
    // return MAX_TTL_MS, whose validity is below zero: every TTL the options took was unusable.
    const accepted = [0.5, 0.9, MAX_DRIFT_FACTOR, 0.999, 1 - 1e-6, 1 - 1e-10].filter((f) => {
      try {
        resolveOptions({ driftFactor: f });
        return true;
      } catch {
        return false;
      }
    });
    expect(accepted).toEqual([0.5, 0.9, MAX_DRIFT_FACTOR]);
    for (const f of accepted) {
      const min = minTtlMs(f);
      expect(min).toBeLessThanOrEqual(MAX_TTL_MS);
      expect(min - driftMs(min, f)).toBeGreaterThanOrEqual(MIN_VALIDITY_MS);
    }
    expect(minTtlMs(MAX_DRIFT_FACTOR)).toBe(1_101);
  });

  it('minTtlMs is the least TTL with enough validity for every accepted driftFactor', () => {
    // The reference: step up from the least conceivable TTL (at most 1,101 steps up to 0.99).
    const stepping = (f: number) => {
      let ttl = MIN_VALIDITY_MS + 2;
      while (ttl - driftMs(ttl, f) < MIN_VALIDITY_MS) ttl++;
      return ttl;
    };
    const factors = [0, 1e-9, 0.01, 0.0834, 0.0835, 0.1, 0.5, 0.75, 0.9, 0.98, 0.985, MAX_DRIFT_FACTOR];
    for (let i = 0; i <= 2_000; i++) factors.push((i / 2_000) * MAX_DRIFT_FACTOR);
    for (const f of factors) expect([f, minTtlMs(f)]).toEqual([f, stepping(f)]);
  });

  it('the per-node timeout defaults to max(50, 5% of ttl) and never exceeds ttl − drift', () => {
    expect(nodeTimeoutMs(10_000, 0.01, undefined)).toBe(500);
    expect(nodeTimeoutMs(200, 0.01, undefined)).toBe(50);
    expect(nodeTimeoutMs(40, 0.01, undefined)).toBe(40 - 2);
    expect(nodeTimeoutMs(10_000, 0.01, 20)).toBe(20);
    expect(nodeTimeoutMs(1_000, 0.01, 5_000)).toBe(1_000 - 12);
    expect(nodeTimeoutMs(MAX_TTL_MS, 0.01, undefined)).toBe(Math.floor(MAX_TTL_MS * 0.05));
  });
});
