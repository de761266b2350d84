import { describe, expect, inject, it } from 'vitest';
import { LockAcquireError } from '../../src/errors.js';
import { acquireFailure, eventually, ONCE, useFaults, waitForUptime } from '../support/fault-hooks.js';

/**
 * The semaphore and the read-write lock under a subset of the fault matrix (docs/testing.md):
 * a paused node, a partition, a restart with persistence, and a restart without it (a negative
 * control, and the uptime quarantine that closes it). Assertions are on who holds, never on
 * timing. Needs process control: skipped on external nodes (QUORUMLOCK_NODES).
 */
const faults = useFaults();

describe.skipIf(inject('externalNodes'))('semaphore and read-write lock under faults', () => {
  const own = faults.ownNodes(5);
  const redlock = faults.redlock;

  it('pause: with a node stopped, 2 permits of 5 nodes still grant on the other four, and a third holder is refused', async () => {
    const net = await faults.network(own.set.addresses);
    const sem = redlock(net.clients).semaphore('pause', { permits: 2 });
    await (await sem.acquire(5_000)).release(); // warm-up: scripts cached everywhere
    faults.scope.pause(own.set.nodes[4]!);
    const a = await sem.acquire(5_000);
    const b = await sem.acquire(5_000);
    expect(a.report.nodes[4]!.outcome).not.toBe('acquired');
    const third = await sem.acquire(5_000, ONCE).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(LockAcquireError);
    // A second stopped node leaves three: short of the four votes two permits need.
    faults.scope.pause(own.set.nodes[3]!);
    await a.release();
    const c = await sem.acquire(5_000, ONCE).catch((e: unknown) => e);
    expect((c as LockAcquireError).reason).toBe('unavailable');
    faults.scope.resume(own.set.nodes[3]!);
    faults.scope.resume(own.set.nodes[4]!);
    await b.release();
  });

  it('partition: two clients each reaching a different majority never both hold; the semaphore needs more than a majority', async () => {
    const left = await faults.network(own.set.addresses);
    const right = await faults.network(own.set.addresses);
    left.reachOnly([0, 1, 2]);
    right.reachOnly([2, 3, 4]);
    // Read-write lock: majorities {0,1,2} and {2,3,4} meet on node 2, which refuses one of them.
    const writer = await redlock(left.clients).readWrite('partition:rw').write(5_000);
    const reader = await redlock(right.clients)
      .readWrite('partition:rw')
      .read(5_000, ONCE)
      .catch((e: unknown) => e);
    expect(reader).toBeInstanceOf(LockAcquireError);
    expect((reader as LockAcquireError).nodes[2]!.outcome).toBe('held');
    await writer.release();
    // Semaphore of 2: a majority of three nodes is not enough to grant (four are needed), so a
    // client cut off from two nodes is refused rather than risk a third holder.
    const permit = await redlock(left.clients)
      .semaphore('partition:sem', { permits: 2 })
      .acquire(5_000, ONCE)
      .catch((e: unknown) => e);
    expect(permit).toBeInstanceOf(LockAcquireError);
    expect((permit as LockAcquireError).attempts[0]!.quorum).toBe(4);
  });

  it('restart with persistence: leases survive a node restart; the count stays bounded', async () => {
    const net = await faults.network(own.set.addresses);
    const sem = redlock(net.clients).semaphore('restart', { permits: 1 });
    const rw = redlock(net.clients).readWrite('restart:rw');
    const holder = await sem.acquire(30_000);
    const reader = await rw.read(30_000);
    await faults.scope.crash(own.set.nodes[0]!, { persistence: 'aof-always' });
    expect(Number(await own.set.nodes[0]!.command('ZCARD', 'restart'))).toBe(1);
    const second = await sem.acquire(30_000, ONCE).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(LockAcquireError);
    const writer = await rw.write(30_000, ONCE).catch((e: unknown) => e);
    expect(writer).toBeInstanceOf(LockAcquireError);
    expect(await holder.renew()).toBe(true);
    expect(await reader.renew()).toBe(true);
    await holder.release();
    await reader.release();
  });

  /** Restarted nodes' votes count only after this long up (R14): the longest TTL plus Redis's 1 s rounding. */
  const TTL = 2_000;
  const QUARANTINE = TTL + 1_000;

  it('restart without persistence (negative control): a permit and a write lease lost on node 2 let a second holder in; the uptime quarantine keeps it out', async () => {
    // B reaches {2,3,4}; nodes 3 and 4 must be past the quarantine, so only node 2's vote is in question.
    expect(await waitForUptime([own.set.nodes[3]!, own.set.nodes[4]!], QUARANTINE / 1_000)).toBe(true);
    const netA = await faults.network(own.set.addresses);
    const netB = await faults.network(own.set.addresses);
    netA.reachOnly([0, 1, 2]);
    netB.reachOnly([2, 3, 4]);
    const permitA = await redlock(netA.clients).semaphore('wipe:sem', { permits: 1 }).acquire(30_000);
    const writerA = await redlock(netA.clients).readWrite('wipe:rw').write(30_000);
    await faults.scope.crash(own.set.nodes[2]!, { persistence: 'none' });
    expect(await own.set.nodes[2]!.command('EXISTS', 'wipe:sem')).toBe(0);

    // Outside the assumptions: B's majority {2,3,4} meets A's only on node 2, which forgot A.
    // The ioredis adapter fails a call at once while its client reconnects: wait for B's link to node 2.
    const reconnected = () =>
      netB.clients[2]!.exec([{ type: 'info', sections: ['server'] }]).then(
        () => true,
        () => false,
      );
    expect(await eventually(reconnected, 20_000)).toBe(true);
    const permitB = await redlock(netB.clients).semaphore('wipe:sem', { permits: 1 }).acquire(TTL, ONCE);
    const readerB = await redlock(netB.clients).readWrite('wipe:rw').read(TTL, ONCE);
    expect(permitB.value).not.toBe(permitA.value);
    expect(permitA.remainingMs()).toBeGreaterThan(0); // two holders of the one permit at once
    expect(writerA.remainingMs()).toBeGreaterThan(0); // a writer and a reader at once
    await permitB.release();
    await readerB.release();

    // With minNodeUptimeMs at the longest TTL, node 2's vote does not count: B is refused.
    const guarded = redlock(netB.clients, { minNodeUptimeMs: QUARANTINE });
    const refusedPermit = await acquireFailure(
      guarded.semaphore('wipe:sem', { permits: 1 }).acquire(TTL, ONCE),
    );
    expect(refusedPermit.reason).toBe('unavailable');
    expect(refusedPermit.nodes[2]!.outcome).toBe('quarantined');
    const refusedReader = await acquireFailure(guarded.readWrite('wipe:rw').read(TTL, ONCE));
    expect(refusedReader.reason).toBe('unavailable');
    expect(refusedReader.nodes[2]!.outcome).toBe('quarantined');
    await permitA.release();
    await writerA.release();
  });
});
