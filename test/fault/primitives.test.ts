import { describe, expect, inject, it } from 'vitest';
import { LockAcquireError } from '../../src/errors.js';
import { ONCE, useFaults } from '../support/fault-hooks.js';

/**
 * The semaphore and the read-write lock under a subset of the fault matrix (docs/testing.md):
 * a paused node, a partition, a restart with persistence. Assertions are on who holds, never on
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
});
