import fc from 'fast-check';
import type { LinkErrorKind } from './link.js';
import type { CrashMode } from './sim-node.js';
import type { SimWorld } from './world.js';

/**
 * Faults, at true virtual times: the one fault vocabulary of every simulation (the lock
 * scenarios, the lost-signal and the fencing properties). Client and node indexes are taken
 * modulo the counts.
 */
export type Fault =
  | {
      readonly kind: 'partition' | 'drop-replies' | 'refuse' | 'slow';
      readonly client: number;
      readonly node: number;
      readonly at: number;
      readonly durationMs: number;
      readonly extraMs: number;
    }
  | {
      readonly kind: 'crash';
      readonly node: number;
      readonly at: number;
      readonly mode: CrashMode;
      readonly downMs: number;
      /** For a rollback: how long before the crash the restored snapshot was taken. */
      readonly snapshotAgoMs: number;
      /**
       * Crash right after a client next reports a lock the node holds, after `at` (the worst
       * moment), instead of at `at`.
       */
      readonly afterLock?: true;
    }
  | { readonly kind: 'clock-rate'; readonly node: number; readonly at: number; readonly rate: number }
  | { readonly kind: 'clock-jump'; readonly node: number; readonly at: number; readonly deltaMs: number }
  | { readonly kind: 'evict'; readonly node: number; readonly at: number; readonly resource: number }
  | {
      readonly kind: 'pause';
      readonly client: number;
      readonly at: number;
      readonly durationMs: number;
      /** Start at the client's first validity check after `at` rather than at `at` itself. */
      readonly atCheck: boolean;
      /**
       * Start at the client's first claim point while it keeps or leads after `at` (a stalled
       * event loop where only its claims matter: admissible at any length).
       */
      readonly atClaim?: true;
    }
  | {
      /** The reply to the client's next renew after `at` on this link is lost, or `extraMs` late. */
      readonly kind: 'renew-reply';
      readonly client: number;
      readonly node: number;
      readonly at: number;
      readonly loss: 'lost' | 'late';
      readonly extraMs: number;
    }
  | {
      /**
       * The client's first `calls` calls to the node get an error instead of running: a BUSY or
       * LOADING reply to every command, or a connection closed under them (first contact).
       */
      readonly kind: 'first-contact';
      readonly client: number;
      readonly node: number;
      readonly error: LinkErrorKind;
      readonly calls: number;
    };

/** Pause intervals [from, to) of client `c`, as scheduled (a pause at a check is not known ahead). */
export function pauseWindows(faults: readonly Fault[], clients: number, c: number): Array<[number, number]> {
  return faults.flatMap((f) =>
    f.kind === 'pause' && !f.atCheck && !f.atClaim && f.client % clients === c
      ? [[f.at, f.at + f.durationMs]]
      : [],
  ) as Array<[number, number]>;
}

/** The mix of faults a property draws: weights of each kind (0 = never) and their ranges. */
export interface FaultMix {
  readonly nodes: number;
  readonly clients: number;
  readonly horizonMs: number;
  readonly link: { readonly weight: number; readonly maxMs: number; readonly maxExtraMs: number };
  readonly crash: {
    readonly weight: number;
    readonly modes: readonly CrashMode[];
    readonly maxDownMs: number;
  };
  readonly evict: number;
  readonly pause: { readonly weight: number; readonly durationMs: fc.Arbitrary<number> };
}

/** Faults of a mix; a restart without data still needs its down time fixed by the caller. */
export function faultArb(mix: FaultMix): fc.Arbitrary<Fault> {
  const at = fc.integer({ min: 0, max: mix.horizonMs });
  const node = fc.nat({ max: mix.nodes - 1 });
  const client = fc.nat({ max: mix.clients - 1 });
  const kinds: Array<fc.WeightedArbitrary<Fault>> = [
    {
      weight: mix.link.weight,
      arbitrary: fc.record({
        kind: fc.constantFrom(
          'partition' as const,
          'drop-replies' as const,
          'refuse' as const,
          'slow' as const,
        ),
        client,
        node,
        at,
        durationMs: fc.integer({ min: 1, max: mix.link.maxMs }),
        extraMs: fc.integer({ min: 0, max: mix.link.maxExtraMs }),
      }),
    },
    {
      weight: mix.crash.weight,
      arbitrary: fc.record({
        kind: fc.constant('crash' as const),
        node,
        at,
        mode: fc.constantFrom(...mix.crash.modes),
        downMs: fc.integer({ min: 0, max: mix.crash.maxDownMs }),
        snapshotAgoMs: fc.constant(0),
      }),
    },
    {
      weight: mix.evict,
      arbitrary: fc.record({ kind: fc.constant('evict' as const), node, at, resource: fc.constant(0) }),
    },
    {
      weight: mix.pause.weight,
      arbitrary: fc.record({
        kind: fc.constant('pause' as const),
        client,
        at,
        durationMs: mix.pause.durationMs,
        atCheck: fc.constant(false),
      }),
    },
  ];
  return fc.oneof(...kinds.filter((k) => k.weight > 0));
}

/**
 * Arm one fault in `world`; `keys` names the resources an eviction picks from. Client and node
 * indexes are taken modulo the world's counts.
 */
export function scheduleFault(world: SimWorld, fault: Fault, keys: readonly string[]): void {
  const clients = world.processes.length;
  const nodes = world.nodes.length;
  switch (fault.kind) {
    case 'partition':
    case 'drop-replies':
    case 'refuse':
    case 'slow': {
      const link = world.links[fault.client % clients]![fault.node % nodes]!;
      const until = fault.at + fault.durationMs;
      link.addFault({ kind: fault.kind, from: fault.at, until, extraMs: fault.extraMs });
      const extra = fault.kind === 'slow' ? ` +${fault.extraMs} ms` : '';
      world.at(
        fault.at,
        'world',
        `${fault.kind.toUpperCase()} ${link.name}${extra} until ${until}`,
        () => {},
      );
      return;
    }
    case 'first-contact': {
      const link = world.links[fault.client % clients]![fault.node % nodes]!;
      link.failFirst(fault.error, fault.calls);
      return;
    }
    case 'renew-reply': {
      const link = world.links[fault.client % clients]![fault.node % nodes]!;
      world.at(fault.at, 'world', `${link.name}: the next renew's reply will be ${fault.loss}`, () =>
        link.failNextRenew(fault.loss, fault.extraMs),
      );
      return;
    }
    case 'crash': {
      const node = world.nodes[fault.node % nodes]!;
      if (fault.afterLock) {
        world.at(
          fault.at,
          'world',
          `${node.name} will crash (${fault.mode}) right after its next lock`,
          () => {
            node.afterLock = () => {
              world.history.add('world', `crash ${node.name} right after a lock`);
              node.crash(fault.mode, fault.downMs);
              world.at(world.time.now() + fault.downMs, 'world', `restart ${node.name} if due`, () =>
                node.restartIfDue(),
              );
            };
          },
        );
        return;
      }
      if (fault.mode === 'rollback') {
        world.at(Math.max(0, fault.at - fault.snapshotAgoMs), node.name, 'takes a snapshot', () =>
          node.takeSnapshot(),
        );
      }
      world.at(fault.at, 'world', `crash ${node.name}`, () => node.crash(fault.mode, fault.downMs));
      world.at(fault.at + fault.downMs, 'world', `restart ${node.name} if due`, () => node.restartIfDue());
      return;
    }
    case 'clock-rate': {
      const node = world.nodes[fault.node % nodes]!;
      world.at(fault.at, node.name, `CLOCK RATE ×${fault.rate}`, () => node.clock.setRate(fault.rate));
      return;
    }
    case 'clock-jump': {
      const node = world.nodes[fault.node % nodes]!;
      world.at(fault.at, node.name, `CLOCK JUMP ${fault.deltaMs > 0 ? '+' : ''}${fault.deltaMs} ms`, () =>
        node.clock.jump(fault.deltaMs),
      );
      return;
    }
    case 'evict': {
      const node = world.nodes[fault.node % nodes]!;
      const key = keys[fault.resource % keys.length]!;
      world.at(fault.at, 'world', `evict ${key} on ${node.name}`, () => node.evict(key));
      return;
    }
    case 'pause': {
      const process = world.processes[fault.client % clients]!;
      if (fault.atClaim) {
        world.at(fault.at, process.name, `will stall for ${fault.durationMs} ms at its next claim`, () =>
          process.stallAtClaim(fault.durationMs),
        );
      } else if (fault.atCheck) {
        world.at(fault.at, process.name, `will pause for ${fault.durationMs} ms at its next check`, () =>
          process.pauseAtCheckpoint(fault.durationMs),
        );
      } else {
        world.at(fault.at, process.name, `PAUSED for ${fault.durationMs} ms`, () =>
          process.pause(fault.durationMs),
        );
      }
      return;
    }
  }
}
