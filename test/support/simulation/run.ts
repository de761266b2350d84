import type { RedisClient } from '../../../src/adapter.js';
import type { Clock } from '../../../src/clock.js';
import type { Redlock } from '../../../src/redlock.js';
import type { VirtualTime } from '../virtual-time.js';
import {
  interferenceViolations,
  keyAfterReleaseViolations,
  leaseViolations,
  leftoverKeyViolations,
  releaseCoverageViolations,
  renewAfterReleaseViolations,
  resourceViolations,
  timerViolations,
} from './checks.js';
import { scheduleFault } from './faults.js';
import type { Carrier, SimLink } from './link.js';
import type { SimProcess } from './process.js';
import { type Violation, WorkloadRecord } from './record.js';
import { maxTtl, RESOURCES, type Scenario } from './scenario.js';
import { runClient, type ToTrue } from './workload.js';
import { deriveSeed, SimWorld } from './world.js';

/** A deliberately broken piece swapped into the world (without touching src/). */
export interface Variant {
  readonly name: string;
  /**
   * Patch the core through a prototype seam for the duration of one run; returns the undo.
   * Runs never overlap (runScenario refuses to), so no other run sees the patch.
   */
  install?(): () => void;
  /** Patch one client's Redlock instance once the world is built. */
  redlock?(redlock: Redlock, process: SimProcess, client: number): void;
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
  if (running) throw new Error('runScenario: runs must not overlap (variants patch prototypes)');
  running = true;
  const undo = options.variant?.install?.();
  try {
    return await runPatched(scenario, options);
  } finally {
    undo?.();
    running = false;
  }
}

let running = false;

async function runPatched(scenario: Scenario, options: RunOptions): Promise<RunResult> {
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
  for (const [c, redlock] of world.redlocks.entries()) variant?.redlock?.(redlock, world.processes[c]!, c);
  const record = new WorkloadRecord();
  for (const fault of scenario.faults) {
    scheduleFault(world, fault, RESOURCES);
    if (fault.kind !== 'pause' || fault.atCheck || fault.atClaim) continue;
    // The moment the process resumes, before any of its delayed timers: read its claims.
    const c = fault.client % scenario.clients.length;
    world.at(fault.at + fault.durationMs, 'checker', `c${c} resumes: claims read`, () => record.resumed(c));
  }

  const toTrue = (c: number): ToTrue => {
    const clock = clocks[c];
    return clock?.toTrue ? (ms) => clock.toTrue!(ms) : (ms) => ms;
  };
  const clients = scenario.clients.map((plan, c) => runClient(world, scenario, c, plan, record, toTrue(c)));
  await world.runClients(Promise.all(clients));
  const timers = timerViolations(world);
  const virtualMs = world.time.now();
  // Let every fault and deadline check play out, then every TTL run out on every node's clock.
  await world.time.drain(1_000_000);
  const keptAfterRelease = keyAfterReleaseViolations(world, record);
  world.time.jump(hygieneWaitMs(scenario));
  const violations: Violation[] = [
    ...record.violations,
    ...leaseViolations(record),
    ...resourceViolations(record),
    ...interferenceViolations(world),
    ...releaseCoverageViolations(world, record),
    ...timers,
    ...keptAfterRelease,
    ...leftoverKeyViolations(world),
    ...renewAfterReleaseViolations(world),
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
