import type { Fault, Scenario } from './scenario.js';

/** The shape of generated worlds. */
export interface Profile {
  readonly minClients: number;
  readonly maxClients: number;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly maxFaults: number;
  /** Faults happen in [0, horizonMs] of true time. */
  readonly horizonMs: number;
  /** Holders spend at least this share of their usable validity working. */
  readonly minWorkFraction: number;
  readonly minRetryCount: number;
  /**
   * The wider workload (keepers, leaders, renews with other TTLs, calls by value with permuted
   * lists and through another instance, claims read at any point) and first-contact errors.
   */
  readonly wide?: boolean;
  /** Node counts to draw from, instead of every count in [minNodes, maxNodes]. */
  readonly nodeCounts?: readonly number[];
}

/** A fault whose amounts depend on the scenario it lands in (max TTL, drift factor, pause budget). */
export type Draft = (scenario: Omit<Scenario, 'faults'>, pauses: number) => Fault | readonly Fault[];
