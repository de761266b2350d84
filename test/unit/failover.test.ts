import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/adapter.js';
import { Redlock } from '../../src/redlock.js';
import { MemoryNode, memoryAdapter } from '../../src/testing/memory.js';
import { describeOverlaps, findOverlaps, type LeaseWindow } from '../support/checkers.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';
import { warningsDuring } from '../support/warnings.js';

const TTL = 10_000;

/**
 * One node whose master changes under it, as a Sentinel failover does: the endpoint stays, the
 * server behind it becomes the replica, which was running all along and lacks the lock key
 * (replication is asynchronous).
 */
function failoverScenario(minNodeUptimeMs: number) {
  const time = new VirtualTime();
  const master = new MemoryNode({ clock: time });
  const replica = new MemoryNode({ clock: time });
  let current = memoryAdapter(master);
  const node: RedisClient = { endpoint: 'sentinel:mymaster', exec: (commands) => current.exec(commands) };
  time.jump(2 * TTL);
  const options = { retryCount: 0, minNodeUptimeMs, runtime: virtualRuntime(time) };
  return {
    time,
    a: new Redlock([node], options),
    b: new Redlock([node], options),
    failover() {
      current = memoryAdapter(replica);
    },
  };
}

async function holdThenFailover(minNodeUptimeMs: number) {
  const { time, a, b, failover } = failoverScenario(minNodeUptimeMs);
  // B has talked to the old master before (it knows its run_id).
  await time.run(b.acquire('warm-up', TTL).then((l) => l.release()));
  const lockA = await time.run(a.acquire('r', TTL));
  const windows: LeaseWindow[] = [{ holder: 'A', resource: 'r', start: time.now(), end: lockA.deadlineMs }];
  failover();
  const lockB = await time.run(b.acquireLock('r', TTL));
  if (lockB) windows.push({ holder: 'B', resource: 'r', start: time.now(), end: lockB.deadlineMs });
  return { lockB, overlaps: findOverlaps(windows), time, b };
}

describe('a failover is a restart without persistence (R14)', () => {
  it('without the uptime guard, the promoted replica lets a second holder in (negative control)', async () => {
    const { lockB, overlaps } = await holdThenFailover(0);
    expect(lockB).not.toBeNull();
    expect(overlaps, describeOverlaps(overlaps)).toHaveLength(1);
  });

  it('with it, the new server does not vote for minNodeUptimeMs from when the change was seen', async () => {
    const { lockB, overlaps, time, b } = await holdThenFailover(TTL);
    expect(lockB).toBeNull();
    expect(overlaps).toEqual([]);
    const refused = await time.run(b.acquire('r', TTL).catch((e: unknown) => e));
    expect((refused as { nodes: Array<{ outcome: string }> }).nodes.map((n) => n.outcome)).toEqual([
      'quarantined',
    ]);
    time.jump(TTL + 1);
    const later = await time.run(b.acquire('r', TTL));
    expect(later.report.nodes.map((n) => n.outcome)).toEqual(['acquired']);
  });

  it('warns once with QUORUMLOCK_FAILOVER', async () => {
    const seen = await warningsDuring(() => holdThenFailover(TTL));
    expect(seen.filter((w) => w.startsWith('QUORUMLOCK_FAILOVER'))).toEqual([
      expect.stringMatching(/now answers from another server .*its votes do not count for minNodeUptimeMs/),
    ]);
  });
});

describe('quorumlock doctor reports a promoted master', () => {
  it('warns on a master whose INFO shows a promotion (second_repl_offset set)', async () => {
    const { diagnose } = await import('../../src/cli/doctor.js');
    const info = (offset: number) =>
      `run_id:${'a'.repeat(40)}\r\nuptime_in_seconds:999\r\nmaxmemory_policy:noeviction\r\naof_enabled:1\r\nrole:master\r\nsecond_repl_offset:${offset}\r\n`;
    const promoted = diagnose([{ address: 'm:1', info: info(1234), appendfsync: 'always' }]);
    expect(promoted.findings.filter((f) => f.check === 'failover')).toEqual([
      expect.objectContaining({
        level: 'warn',
        detail: expect.stringMatching(/^a replica promoted to master/),
      }),
    ]);
    const never = diagnose([{ address: 'm:1', info: info(-1), appendfsync: 'always' }]);
    expect(never.findings.filter((f) => f.check === 'failover')).toEqual([]);
  });
});
