/**
 * A randomised nemesis soak (fault matrix row 44, docs/testing.md): contenders, each a
 * separate Redlock with its own connections through its own proxies, take locks on a few
 * resources (some fenced) while a nemesis injects faults within the assumptions on a seeded
 * schedule: kill -9 and restart with AOF `appendfsync always`, SIGSTOP/SIGCONT, client-specific
 * partitions (black hole, refused, replies dropped), latency, cut connections, script cache
 * flushes, backward clock jumps, holder crashes. Bounded by a duration; writes the history as
 * JSON and a summary (acquisitions, violations per checker, faults injected, liveness).
 *
 * With `unsafe`, forward clock jumps and restarts without persistence join the schedule: the
 * checkers then may (and should, given time) report violations; those runs measure how often
 * random search finds them and are never asserted on.
 */
import { Redlock } from '../../../src/redlock.js';
import { ClientNetwork } from '../network.js';

export interface SoakOptions {
  /** How long the contenders run (faults stop a little before). */
  readonly durationMs: number;
  /** Seeds every random choice (the timing of real sockets still varies). @default 1 */
  readonly seed?: number;
  /** @default 6 */
  readonly contenders?: number;
  /** @default 3 */
  readonly resources?: number;
  /** How many of the resources are acquired with fencing on. @default 2 */
  readonly fenced?: number;
  /** @default 1500 */
  readonly ttlMs?: number;
  /** Mean time between two fault injections. @default 600 */
  readonly faultEveryMs?: number;
  /** Add known-unsafe faults (forward jumps, restarts without persistence). @default false */
  readonly unsafe?: boolean;
  /** Existing nodes: no process faults then (no kill, no pause). @default 5 nodes started here */
  readonly addresses?: readonly string[];
  /** Write `history.json` and `summary.json` here. @default nothing written */
  readonly outDir?: string;
  /** Progress lines. @default silent */
  readonly log?: (line: string) => void;
}

export const SAFE_FAULTS = [
  'kill',
  'pause',
  'partition',
  'latency',
  'cut',
  'script-flush',
  'clock-back',
  'holder-crash',
] as const;
export const UNSAFE_FAULTS = ['clock-forward', 'restart-empty'] as const;
export type FaultKind = (typeof SAFE_FAULTS)[number] | (typeof UNSAFE_FAULTS)[number];

/** One injected fault. */
export interface FaultEvent {
  readonly kind: FaultKind;
  readonly target: string;
  readonly at: number;
  /** When it was undone (undefined for instantaneous faults). */
  until?: number;
  readonly detail?: string;
}

export interface Stats {
  attempts: number;
  failures: Record<string, number>;
  renewals: { ok: number; failed: number };
  lost: number;
  crashes: number;
  lateWrites: number;
  acquireLatencies: number[];
  afterCrash: number[];
}

/** Percentiles of a list of durations, in ms. */
export interface Spread {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max: number | null;
}

export interface SoakSummary {
  readonly seed: number;
  readonly durationMs: number;
  readonly nodes: 'started' | 'external';
  readonly contenders: number;
  readonly resources: number;
  readonly fencedResources: number;
  readonly ttlMs: number;
  readonly unsafe: boolean;
  readonly acquisitions: {
    readonly total: number;
    readonly byResource: Record<string, number>;
    readonly attempts: number;
    readonly failures: Record<string, number>;
    readonly renewals: { ok: number; failed: number };
    readonly lostSignals: number;
    readonly holderCrashes: number;
  };
  readonly violations: {
    readonly leaseOverlaps: number;
    readonly lostUpdates: number;
    readonly tokenOrder: number;
    readonly falseSuccess: number;
    readonly fencedWhileValid: number;
    readonly total: number;
  };
  /** Writes that landed after their lock's deadline because this process stalled (not a lock violation). */
  readonly lateWrites: number;
  readonly fencedWrites: { readonly accepted: number; readonly rejected: number };
  readonly faults: {
    readonly total: number;
    readonly skipped: number;
    readonly byKind: Record<string, number>;
  };
  readonly liveness: {
    /** From calling acquire to holding the lock, successful acquisitions only. */
    readonly acquireMs: Spread;
    /** From a holder's crash (no release) to the next acquisition of that resource by anyone. */
    readonly afterHolderCrashMs: Spread & { readonly unresolved: number };
  };
  readonly files?: { readonly history: string; readonly summary: string };
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { count: 0, p50: null, p95: null, max: null };
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), max: Math.round(sorted[sorted.length - 1]!) };
}

/** One contender: a client process with its own network; a crash replaces both. */
export class Contender {
  net!: ClientNetwork;
  plain!: Redlock;
  fenced!: Redlock;
  crashRequested = false;
  holding: string | undefined;

  constructor(
    readonly name: string,
    private readonly addresses: readonly string[],
    private readonly all: Redlock[],
  ) {}

  /** Connect once no node is down (a client cannot finish connecting to a dead node). */
  async connect(nodesUp: () => Promise<void>, guard: (delta: 1 | -1) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await nodesUp();
      guard(1);
      try {
        this.net = await ClientNetwork.start(this.addresses);
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
      } finally {
        guard(-1);
      }
    }
    const options = { retryCount: 4, retryDelay: 100, retryJitter: 50 };
    this.plain = new Redlock(this.net.clients, options);
    this.fenced = new Redlock(this.net.clients, { ...options, fencing: true });
    this.all.push(this.plain, this.fenced);
  }
}

/** Seeded choices for a soak: one PRNG, so a seed replays the schedule. */
export function dice(rng: () => number) {
  return {
    rng,
    pick: <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)]!,
    between: (low: number, high: number) => low + rng() * (high - low),
  };
}
export type Dice = ReturnType<typeof dice>;
