import fc from 'fast-check';
import type { Fault } from './faults.js';
import type { Draft, Profile } from './profile.js';
import { maxTtl, safeQuarantineMs, writes } from './scenario.js';

/**
 * The wider workload (issue 9, "make the simulation find this class"): 1–4 clients on 1, 2, 3 or 5 nodes
 * that hold, keep and lead; renews with TTLs shorter and longer than the lock's, by value with
 * permuted lists and through another instance; claims read anywhere and right after a stall;
 * error replies on first contact, with restarts without data under the uptime guard.
 */
export const WIDE: Profile = {
  minClients: 1,
  maxClients: 4,
  minNodes: 1,
  maxNodes: 5,
  maxFaults: 6,
  horizonMs: 1_500,
  minWorkFraction: 0.3,
  minRetryCount: 2,
  wide: true,
  // Small clusters most often: one lost reply, one restarted node or one stall decides more.
  nodeCounts: [1, 1, 2, 3, 3, 5],
};

/** The wider workload's part of an op. */
export const wideOpArb = fc.record({
  mode: fc.constantFrom('hold' as const, 'hold' as const, 'keep' as const, 'lead' as const),
  // Shorter and longer than the lock's own TTL, or the lock's own.
  renewTtlShare: fc.option(
    fc.oneof(fc.double({ min: 0.05, max: 0.5, noNaN: true }), fc.double({ min: 1.1, max: 2, noNaN: true })),
    { nil: undefined, freq: 3 },
  ),
  renewBy: fc.constantFrom('lock' as const, 'value' as const, 'other' as const),
  releaseBy: fc.constantFrom('lock' as const, 'value' as const, 'other' as const),
  claims: fc.integer({ min: 1, max: 4 }),
  trustRemaining: fc.constantFrom(true, true, false),
});

const firstContact = fc.record({
  client: fc.nat({ max: 4 }),
  node: fc.nat({ max: 6 }),
  error: fc.constantFrom('busy' as const, 'loading' as const, 'closed' as const),
  calls: fc.integer({ min: 1, max: 2 }),
});

/**
 * The wider faults, all within the assumptions: an error on a client's first contact with a
 * node, alone, or on every client's (a busy or loading node) followed by that node restarting
 * without its data (at once when the uptime
 * guard covers it, else after the max TTL), right after it took a lock; the replies to one
 * client's next renew lost or late on every node, or all but one (its PEXPIRE landed, its
 * answers did not); lost, late or cut replies on every link of one client for a while; and a
 * stall of a client that writes nothing (a keeper or a leader: only its claims matter, so any
 * length is admissible), or within the budget for one that writes.
 */
export function wideDraft(p: Profile): fc.Arbitrary<Draft> {
  const at = fc.integer({ min: 0, max: p.horizonMs });
  return fc.oneof(
    {
      weight: 1,
      arbitrary: firstContact.map(
        (f): Draft =>
          () => ({ kind: 'first-contact', ...f }),
      ),
    },
    {
      weight: 2,
      // The restart lands right after a client took a lock on the node.
      arbitrary: fc
        .record({
          contact: firstContact,
          at: fc.integer({ min: 0, max: 700 }),
          extraMs: fc.integer({ min: 0, max: 100 }),
        })
        .map(
          ({ contact, at, extraMs }): Draft =>
            (s) => [
              // A node busy (or loading) is so for every client that contacts it.
              ...Array.from(
                { length: s.clients.length },
                (_, client): Fault => ({
                  kind: 'first-contact',
                  ...contact,
                  client,
                  error: contact.error === 'closed' ? 'busy' : contact.error,
                }),
              ),
              {
                kind: 'crash',
                node: contact.node,
                at,
                afterLock: true,
                mode: 'wipe',
                downMs: s.minNodeUptimeMs >= safeQuarantineMs(s) ? extraMs : maxTtl(s) + extraMs,
                snapshotAgoMs: 0,
              },
            ],
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          client: fc.nat({ max: 4 }),
          at: fc.integer({ min: 0, max: 700 }),
          loss: fc.constantFrom('lost' as const, 'late' as const),
          extraMs: fc.integer({ min: 20, max: 600 }),
          // Nodes whose reply is affected: all, or all but one.
          spared: fc.nat({ max: 6 }),
          spare: fc.boolean(),
        })
        .map(
          ({ spared, spare, ...f }): Draft =>
            (s) =>
              Array.from(
                { length: s.nodes },
                (_, node): Fault => ({ kind: 'renew-reply', ...f, node }),
              ).filter((_, node) => !spare || s.nodes === 1 || node !== spared % s.nodes),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          kind: fc.constantFrom('drop-replies' as const, 'slow' as const, 'partition' as const),
          client: fc.nat({ max: 4 }),
          at,
          durationMs: fc.integer({ min: 1, max: 400 }),
          extraMs: fc.integer({ min: 0, max: 150 }),
        })
        .map(
          (f): Draft =>
            (s) =>
              Array.from({ length: s.nodes }, (_, node): Fault => ({ ...f, node })),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          client: fc.nat({ max: 4 }),
          at,
          stallMs: fc.integer({ min: 20, max: 800 }),
          share: fc.double({ min: 0, max: 1, noNaN: true }),
        })
        .map(
          ({ stallMs, share, ...f }): Draft =>
            (s, pauses) =>
              writes(s.clients[f.client % s.clients.length]!)
                ? [
                    {
                      kind: 'pause',
                      ...f,
                      atCheck: false,
                      durationMs: Math.floor((share * s.pauseBudgetMs) / pauses),
                    },
                    {
                      kind: 'pause',
                      ...f,
                      at: f.at % 300,
                      atCheck: false,
                      atClaim: true,
                      durationMs: stallMs,
                    },
                  ]
                : { kind: 'pause', ...f, at: f.at % 300, atCheck: false, atClaim: true, durationMs: stallMs },
        ),
    },
  );
}
