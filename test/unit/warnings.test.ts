import { afterEach, describe, expect, it, vi } from 'vitest';
import { forgetWarnings, warnOnce } from '../../src/warnings.js';

/** src/warnings.ts: a warning once per process for what it is about, and the tests' reset. */
describe('warnOnce', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('emits a key once, with its code, until the warnings are forgotten', () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    warnOnce('EVICTION|a', 'QUORUMLOCK_EVICTION_POLICY', 'node 0 may evict');
    warnOnce('EVICTION|a', 'QUORUMLOCK_EVICTION_POLICY', 'node 0 may evict');
    warnOnce('EVICTION|b', 'QUORUMLOCK_EVICTION_POLICY', 'node 1 may evict');
    expect(emit.mock.calls).toEqual([
      ['node 0 may evict', { code: 'QUORUMLOCK_EVICTION_POLICY' }],
      ['node 1 may evict', { code: 'QUORUMLOCK_EVICTION_POLICY' }],
    ]);
    forgetWarnings();
    warnOnce('EVICTION|a', 'QUORUMLOCK_EVICTION_POLICY', 'node 0 may evict');
    expect(emit).toHaveBeenCalledTimes(3);
  });
});
