import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quorumOf } from '../../src/validity.js';
import { simParameters } from '../support/simulation/replay.js';
import { scheduledCarrier, settleScheduled } from '../support/simulation/scheduled.js';
import { SimWorld } from '../support/simulation/world.js';

const TTL = 1_000;

/** One client over `nodes` nodes whose messages arrive in the scheduler's order. */
function scheduledWorld(s: fc.Scheduler, nodes: number) {
  return new SimWorld({
    nodes,
    clients: 1,
    seed: 1,
    maxDelayMs: 0,
    redlock: () => ({ retryCount: 0, nodeTimeoutMs: 100 }),
    carrier: scheduledCarrier(s),
  });
}

/** Run `action` when the scheduler decides, among the messages in flight. */
function whenScheduled<T>(s: fc.Scheduler, label: string, action: () => Promise<T>): Promise<T> {
  return s.schedule(Promise.resolve(), label).then(action);
}

const failure = (world: SimWorld, s: fc.Scheduler) =>
  `\nscheduler:\n${s
    .report()
    .map((t) => `  ${t.label} ${t.status}`)
    .join('\n')}\nhistory:\n${world.history.format()}`;

describe('renew racing release (row 36)', () => {
  it('leaves no key and no timer behind, and never renews a released lock, in any interleaving', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom(3, 5),
        fc.nat({ max: 2 }),
        fc.boolean(),
        async (s, nodes, missing, releaseFirst) => {
          const world = scheduledWorld(s, nodes);
          const redlock = world.redlocks[0]!;
          // Nodes the acquire never reached: the renew finds them "absent", so it may repair them.
          const absent = Math.min(missing, nodes - quorumOf(nodes));
          for (let n = 0; n < absent; n++)
            world.links[0]![n]!.addFault({ kind: 'partition', from: 0, until: 1 });
          const lock = await settleScheduled(s, world.time, redlock.acquireLock('r', TTL));
          expect(lock, failure(world, s)).not.toBeNull();
          await settleScheduled(s, world.time, redlock.idle());

          const renewing = releaseFirst ? whenScheduled(s, 'renew()', () => lock!.renew()) : lock!.renew();
          const releasing = releaseFirst
            ? lock!.release()
            : whenScheduled(s, 'release()', () => lock!.release());
          const [renewed] = await settleScheduled(s, world.time, Promise.all([renewing, releasing]));
          await settleScheduled(s, world.time, redlock.idle());

          seen.add(`renewed ${renewed}`);
          const context = failure(world, s);
          // Released before the renew began: refused locally, nothing sent.
          if (releaseFirst) expect(renewed, context).toBe(false);
          expect(lock!.remainingMs(), context).toBe(0);
          expect(world.holders(['r'], lock!.value), `keys left after release${context}`).toEqual([]);
          expect(
            world.nodes.flatMap((n) => n.interference),
            context,
          ).toEqual([]);
          expect(world.processes[0]!.liveTimers, context).toBe(0);
        },
      ),
      simParameters('renew vs release', 150),
    );
    // Not vacuous: the scheduler produced renews that won and renews that lost the race.
    expect([...seen].sort()).toEqual(['renewed false', 'renewed true']);
  });
});

describe('abort racing late replies (rows 10, 40)', () => {
  it('either returns a lock held on a quorum, or rejects with the reason and leaves no key', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom(1, 3, 5),
        fc.nat({ max: 4 }),
        async (s, nodes, dropped) => {
          const world = scheduledWorld(s, nodes);
          const redlock = world.redlocks[0]!;
          // Some nodes run the SET but their reply is lost: only the release can clean them up.
          for (let n = 0; n < Math.min(dropped, nodes); n++) {
            world.links[0]![n]!.addFault({ kind: 'drop-replies', from: 0, until: 1 });
          }
          const controller = new AbortController();
          const reason = new Error('caller gave up');
          const acquiring = redlock.acquireLock('r', TTL, { signal: controller.signal }).then(
            (lock) => ({ lock }),
            (error: unknown) => ({ error }),
          );
          const aborting = whenScheduled(s, 'abort()', async () => controller.abort(reason));
          const [outcome] = await settleScheduled(s, world.time, Promise.all([acquiring, aborting]));
          await settleScheduled(s, world.time, redlock.idle());

          const context = failure(world, s);
          seen.add('error' in outcome ? 'aborted' : 'acquired');
          if ('error' in outcome) {
            expect(outcome.error, context).toBe(reason);
          } else {
            expect(outcome.lock, context).not.toBeNull();
            const holders = world.holders(['r'], outcome.lock!.value);
            expect(holders.length, context).toBeGreaterThanOrEqual(redlock.quorum);
            await settleScheduled(s, world.time, outcome.lock!.release());
            // A lost reply's call may still create the key (creates.ts): idle() waits for it.
            await settleScheduled(s, world.time, redlock.idle());
          }
          expect(world.keys(), `keys left${context}`).toEqual([]);
          expect(world.processes[0]!.liveTimers, context).toBe(0);
        },
      ),
      simParameters('abort vs late reply', 150),
    );
    expect([...seen].sort()).toEqual(['aborted', 'acquired']);
  });
});
