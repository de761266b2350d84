import { describeOverlaps, findOverlaps } from '../checkers.js';
import { shortValue } from './history.js';
import type { Violation, WorkloadRecord } from './record.js';
import type { SimWorld } from './world.js';

/** S1: lease windows of distinct values on one resource never overlap. */
export function leaseViolations(record: WorkloadRecord): Violation[] {
  const overlaps = findOverlaps(record.windows);
  return overlaps.length === 0 ? [] : [{ kind: 'S1', detail: describeOverlaps(overlaps) }];
}

/** S3: no script changed or prolonged a key holding another value (checked by every node). */
export function interferenceViolations(world: SimWorld): Violation[] {
  return world.nodes.flatMap((node) =>
    node.interference.map((i) => ({
      kind: 'S3' as const,
      detail: `n${i.node} at ${i.at}: ${i.carried} changed ${i.key} from ${shortValue(i.before.value)} (pttl ${i.before.pttl}) to ${shortValue(i.after.value)} (pttl ${i.after.pttl})`,
    })),
  );
}

/** The guarded resource: every committed read-modify-write of a counter survived. */
export function resourceViolations(record: WorkloadRecord): Violation[] {
  return [...record.counters].flatMap(([resource, counter]) =>
    counter.lostUpdates > 0
      ? [
          {
            kind: 'resource' as const,
            detail: `${resource}: ${counter.lostUpdates} of ${counter.increments} updates lost (value ${counter.value})`,
          },
        ]
      : [],
  );
}

/**
 * L3 and R5/R6, as the links saw it: every value that is not held by a holder who walked away
 * (failed attempts and released locks alike) was sent a release on every node, including nodes
 * that never answered its acquire; only a node whose "held" answer reached the client (so it
 * wrote nothing) may be skipped.
 */
export function releaseCoverageViolations(world: SimWorld, record: WorkloadRecord): Violation[] {
  const violations: Violation[] = [];
  for (const [value, traffic] of world.traffic) {
    if (record.abandoned.has(value) || traffic.acquiredOn.size === 0) continue;
    const missing = world.nodes
      .filter((n) => !traffic.releasedOn.has(n.index) && !traffic.refusedOn.has(n.index))
      .map((n) => n.index);
    if (missing.length > 0) {
      violations.push({
        kind: 'L3',
        detail: `c${traffic.client} v=${shortValue(value)} on ${traffic.keys.join(',')}: acquire sent to [${[...traffic.acquiredOn].join(',')}], no release ever sent to [${missing.join(',')}]`,
      });
    }
  }
  return violations;
}

/** H: the moment a client's Redlocks are idle, none of its timers is left. */
export function timerViolations(world: SimWorld): Violation[] {
  return world.processes.flatMap((p, c) => {
    const live = world.timersAtIdle[c] ?? p.liveTimers;
    return live > 0 ? [{ kind: 'H' as const, detail: `${p.name} left ${live} timers after idle()` }] : [];
  });
}

/**
 * H (R6): once every client is idle, no node holds a key of a value whose release already ran on
 * that node (nothing re-created it: not a repair, not an acquire that a NOSCRIPT answer sent
 * again as EVAL behind the release). Holders who walked away are exempt: they never released;
 * so is a node that crashed since (a rollback may bring back a key deleted before it).
 */
export function keyAfterReleaseViolations(world: SimWorld, record: WorkloadRecord): Violation[] {
  const out: Violation[] = [];
  for (const node of world.nodes) {
    for (const key of node.keys()) {
      const value = node.get(key);
      if (value === null || record.abandoned.has(value)) continue;
      const crashes = world.traffic.get(value)?.releaseRanOn.get(node.index);
      if (crashes !== undefined && crashes === node.crashes) {
        out.push({
          kind: 'H',
          detail: `n${node.index} ${key}=${shortValue(value)} outlived its release there`,
        });
      }
    }
  }
  return out;
}

/** H: after the longest TTL has run out on every node's clock, no key is left anywhere. */
export function leftoverKeyViolations(world: SimWorld): Violation[] {
  const keys = world.keys();
  return keys.length === 0
    ? []
    : [{ kind: 'H', detail: `keys left after every TTL ran out: ${keys.join(' ')}` }];
}

/** H (R20): no extend or repair of a value is sent once a release of it was. */
export function renewAfterReleaseViolations(world: SimWorld): Violation[] {
  return world.renewsAfterRelease.map((detail) => ({
    kind: 'H' as const,
    detail: `renewed after release: ${detail}`,
  }));
}
