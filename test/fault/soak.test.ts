import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { recheckHistory, runSoak, SAFE_FAULTS } from '../support/soak/index.js';

/**
 * Row 44: a short randomised nemesis soak in CI (a long one: `npm run soak:faults -- --minutes N`).
 * On its own 5 nodes it kills and pauses them too; on external nodes (QUORUMLOCK_NODES) it runs
 * the network and key-level faults only. Zero violations are asserted; liveness figures are
 * printed, and only bounded by generous limits.
 */
const SECONDS = Number(process.env.QUORUMLOCK_SOAK_SECONDS ?? 40);
const TTL = 1_500;

describe('randomised nemesis soak (row 44)', () => {
  it(
    `${SECONDS} s of faults within the assumptions: zero violations, every fault kind injected, the lock stays live`,
    async () => {
      const external = inject('externalNodes');
      const outDir = await mkdtemp(join(tmpdir(), 'quorumlock-soak-'));
      try {
        const summary = await runSoak({
          durationMs: SECONDS * 1_000,
          seed: 44,
          ttlMs: TTL,
          outDir,
          ...(external ? { addresses: inject('nodes') } : {}),
        });
        console.log(JSON.stringify({ ...summary, files: undefined }));
        expect(summary.violations.total, JSON.stringify(summary.violations)).toBe(0);
        // The history on disk re-checks to the same verdict.
        expect(await recheckHistory(summary.files!.history)).toEqual(summary.violations);
        for (const kind of SAFE_FAULTS.filter((k) => !external || (k !== 'kill' && k !== 'pause'))) {
          expect(summary.faults.byKind[kind] ?? 0, kind).toBeGreaterThan(0);
        }
        // Liveness, with generous bounds: steady progress, and a crashed holder's lock comes free.
        expect(summary.acquisitions.total).toBeGreaterThan(SECONDS);
        const afterCrash = summary.liveness.afterHolderCrashMs;
        if (afterCrash.p50 !== null) expect(afterCrash.p50).toBeLessThan(5 * (TTL + 1_000));
      } finally {
        await rm(outDir, { recursive: true, force: true });
      }
    },
    60_000 + SECONDS * 2_000,
  );
});
