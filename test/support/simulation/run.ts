import type { RedisClient } from '../../../src/adapter.js';
import type { Clock } from '../../../src/clock.js';
import type { VirtualTime } from '../virtual-time.js';
import {
  interferenceViolations,
  leaseViolations,
  leftoverKeyViolations,
  releaseCoverageViolations,
  resourceViolations,
  timerViolations,
} from './checks.js';
import type { Carrier, SimLink } from './link.js';
import type { SimProcess } from './process.js';
import { type Fault, maxTtl, RESOURCES, type Scenario } from './scenario.js';
import { runClient, type ToTrue, type Violation, WorkloadRecord } from './workload.js';
import { deriveSeed, SimWorld } from './world.js';

/** A deliberately broken piece swapped into the world (without touching src/). */
export interface Variant {
  readonly name: string;
  /** A clock for a client; `toTrue` maps its readings back to true time for the lease windows. */
  clock?(time: VirtualTime, process: SimProcess, client: number): Clock & { toTrue?: ToTrue };
  wrap?(time: VirtualTime, links: readonly SimLink[], client: number): RedisClient[];
}

export interface RunOptions {
  readonly variant?: Variant;
  readonly carrier?: (time: VirtualTime) => Carrier;
}

export interface RunStats {
  /** acquire, renew and release calls made by the clients. */
  readonly operations: number;
  readonly acquired: number;
  /** Calls the links carried to nodes. */
  readonly nodeCalls: number;
  readonly virtualMs: number;
}

export interface RunResult {
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly stats: RunStats;
  readonly world: SimWorld;
}

/**
 * Build the world a scenario describes, run every client's plan through the real Redlock on
 * virtual time with the scenario's faults, then check S1, S3, S4, the guarded resource, release
 * coverage (L3) and hygiene (H). Deterministic: the same scenario gives the same history.
 */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  const { variant } = options;
  const n = scenario.nodes;
  const clocks: Array<Clock & { toTrue?: ToTrue }> = [];
  const world = new SimWorld({
    nodes: n,
    clients: scenario.clients.length,
    seed: scenario.seed,
    maxDelayMs: scenario.maxDelayMs,
    nodeClocks: Array.from({ length: n }, (_, i) => ({
      offsetMs: deriveSeed(scenario.seed, 3, i) % 100_000,
    })),
    redlock: (c) => {
      const plan = scenario.clients[c]!;
      return {
        driftFactor: scenario.driftFactor,
        retryCount: plan.retryCount,
        retryDelay: plan.retryDelay,
        retryJitter: Math.min(plan.retryJitter, plan.retryDelay),
        ...(scenario.nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs: scenario.nodeTimeoutMs }),
        ...(scenario.minNodeUptimeMs > 0 ? { minNodeUptimeMs: scenario.minNodeUptimeMs } : {}),
      };
    },
    ...(options.carrier ? { carrier: options.carrier } : {}),
    ...(variant?.clock
      ? {
          clock: (process: SimProcess, c: number) => {
            const clock = variant.clock!(process.time, process, c);
            clocks[c] = clock;
            return clock;
          },
        }
      : {}),
    ...(variant?.wrap
      ? { wrap: (links: readonly SimLink[], c: number) => variant.wrap!(links[0]!.process.time, links, c) }
      : {}),
  });
  for (const fault of scenario.faults) schedule(world, scenario, fault);

  const record = new WorkloadRecord();
  const toTrue = (c: number): ToTrue => {
    const clock = clocks[c];
    return clock?.toTrue ? (ms) => clock.toTrue!(ms) : (ms) => ms;
  };
  const clients = scenario.clients.map((plan, c) => runClient(world, scenario, c, plan, record, toTrue(c)));
  await world.time.run(Promise.all(clients), 1_000_000);
  await world.time.run(Promise.all(world.redlocks.map((r) => r.idle())), 1_000_000);
  const timers = timerViolations(world);
  const virtualMs = world.time.now();
  // Let every fault and deadline check play out, then every TTL run out on every node's clock.
  await world.time.drain(1_000_000);
  world.time.jump(hygieneWaitMs(scenario));
  const violations: Violation[] = [
    ...record.violations,
    ...leaseViolations(record),
    ...resourceViolations(record),
    ...interferenceViolations(world),
    ...releaseCoverageViolations(world, record),
    ...timers,
    ...leftoverKeyViolations(world),
  ];
  if (world.time.pendingTimers > 0) {
    violations.push({ kind: 'H', detail: `${world.time.pendingTimers} timers left after drain` });
  }
  return {
    scenario,
    violations,
    stats: {
      operations: record.operations,
      acquired: record.acquired,
      nodeCalls: world.nodeCalls,
      virtualMs,
    },
    world,
  };
}

/** Long enough for the longest TTL to run out on the slowest node clock, after any backward step. */
function hygieneWaitMs(scenario: Scenario): number {
  let back = 0;
  let slowest = 1;
  for (const f of scenario.faults) {
    if (f.kind === 'clock-jump' && f.deltaMs < 0) back -= f.deltaMs;
    if (f.kind === 'clock-rate') slowest = Math.min(slowest, f.rate);
  }
  return Math.ceil((maxTtl(scenario) + back) / slowest) + 1;
}

function schedule(world: SimWorld, scenario: Scenario, fault: Fault): void {
  const clients = scenario.clients.length;
  switch (fault.kind) {
    case 'partition':
    case 'drop-replies':
    case 'refuse':
    case 'slow': {
      const c = fault.client % clients;
      const link = world.links[c]![fault.node % scenario.nodes]!;
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
    case 'crash': {
      const node = world.nodes[fault.node % scenario.nodes]!;
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
      const node = world.nodes[fault.node % scenario.nodes]!;
      world.at(fault.at, node.name, `CLOCK RATE ×${fault.rate}`, () => node.clock.setRate(fault.rate));
      return;
    }
    case 'clock-jump': {
      const node = world.nodes[fault.node % scenario.nodes]!;
      world.at(fault.at, node.name, `CLOCK JUMP ${fault.deltaMs > 0 ? '+' : ''}${fault.deltaMs} ms`, () =>
        node.clock.jump(fault.deltaMs),
      );
      return;
    }
    case 'evict': {
      const node = world.nodes[fault.node % scenario.nodes]!;
      const key = RESOURCES[fault.resource % RESOURCES.length]!;
      world.at(fault.at, 'world', `evict ${key} on ${node.name}`, () => node.evict(key));
      return;
    }
    case 'pause': {
      const process = world.processes[fault.client % clients]!;
      if (fault.atCheck) {
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

/** Violations not matching a known, reported bug. */
export function unexpected(result: RunResult): Violation[] {
  return result.violations.filter((v) => v.known === undefined);
}

/** A failure report: the violations, the scenario, and the history (who sent what to which node when). */
export function describeRun(result: RunResult, historyLines = 300): string {
  return [
    `${result.violations.length} violation(s):`,
    ...result.violations.map((v) => `  [${v.kind}${v.known ? ` known:${v.known}` : ''}] ${v.detail}`),
    `scenario: ${JSON.stringify(result.scenario)}`,
    'history (true ms, actor, event; node clocks in parentheses):',
    result.world.history.format(historyLines),
  ].join('\n');
}
