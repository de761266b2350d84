import type { Assumption, ClientPlan, Fault, OpPlan, Scenario } from './scenario.js';

const TTL = 1_000;

const hold: OpPlan = {
  resources: [0],
  ttl: TTL,
  gapMs: 0,
  workFraction: 0.95,
  renews: 0,
  writeDelayMs: 0,
  abandon: false,
  customRetry: false,
};

function client(startMs: number, retryCount: number, op: Partial<OpPlan> = {}): ClientPlan {
  return { startMs, retryCount, retryDelay: 100, retryJitter: 0, ops: [{ ...hold, ...op }] };
}

const forever = 60_000;
const partition = (c: number, node: number): Fault => ({
  kind: 'partition',
  client: c,
  node,
  at: 0,
  durationMs: forever,
  extraMs: 0,
});

/**
 * Kleppmann's split view on 5 nodes (fault matrix rows 18–25, docs/testing.md): A reaches {0,1,2}, B reaches
 * {2,3,4}. A takes the lock at t≈10 on exactly {0,1,2} and works for most of its validity; at
 * t=200 node 2 loses A's key through `fault`; B tries at t=300 and wins {2,3,4}.
 */
function splitView(fault: Fault, extra: Fault[] = []): Scenario {
  return {
    seed: 1,
    nodes: 5,
    maxDelayMs: 0,
    driftFactor: 0.01,
    nodeTimeoutMs: 50,
    pauseBudgetMs: 0,
    minNodeUptimeMs: 0,
    clients: [client(10, 0), client(300, 0)],
    faults: [partition(0, 3), partition(0, 4), partition(1, 0), partition(1, 1), ...extra, fault],
  };
}

/**
 * One hand-built schedule per broken assumption, each known to violate: CI replays these, so the
 * negative controls do not depend on random discovery (the soak reports how often that happens).
 */
export const BREAKING_SCHEDULES: Record<Assumption, Scenario> = {
  // Row 19: node 2's clock steps forward past A's expiry.
  'clock-jump': splitView({ kind: 'clock-jump', node: 2, at: 200, deltaMs: 2_000 }),
  // Row 21: node 2 is killed and restarts at once, empty.
  'wipe-restart': splitView({ kind: 'crash', node: 2, at: 200, mode: 'wipe', downMs: 0, snapshotAgoMs: 0 }),
  // Row 24: node 2 comes back at once from a snapshot taken before A's acquisition.
  'rollback-restart': splitView({
    kind: 'crash',
    node: 2,
    at: 200,
    mode: 'rollback',
    downMs: 0,
    snapshotAgoMs: 200,
  }),
  // Row 28: node 2's clock runs 4× fast from the start: A's key there lives a quarter of its TTL.
  'clock-rate': splitView({ kind: 'clock-rate', node: 2, at: 0, rate: 4 }),
  // Row 25: node 2 evicts A's key.
  eviction: splitView({ kind: 'evict', node: 2, at: 200, resource: 0 }),
  // Row 13: A passes its validity check, then stalls for 2 s before its write lands; B takes the
  // expired lock meanwhile. A's lease window ends at its deadline, before B's begins: only the
  // guarded resource sees the lost update.
  pause: {
    seed: 1,
    nodes: 5,
    maxDelayMs: 0,
    driftFactor: 0.01,
    nodeTimeoutMs: 50,
    pauseBudgetMs: 0,
    minNodeUptimeMs: 0,
    clients: [client(10, 0, { workFraction: 0.5, writeDelayMs: 1 }), client(100, 20, { workFraction: 0.1 })],
    faults: [{ kind: 'pause', client: 0, at: 0, durationMs: 2_000, atCheck: true }],
  },
};

/**
 * For the "validity not reduced by elapsed time" variant: A's round is slow (every message
 * takes 300 ms more for 700 ms), so its keys, set at t≈310, expire at ≈1310 while its stalled
 * clock puts its deadline near 1600. A walks away holding the lock; B tries from t=1200.
 */
export const SLOW_ROUND: Scenario = {
  seed: 1,
  nodes: 5,
  maxDelayMs: 0,
  driftFactor: 0.01,
  nodeTimeoutMs: 800,
  pauseBudgetMs: 0,
  minNodeUptimeMs: 0,
  clients: [client(10, 0, { abandon: true }), client(1_200, 20, { workFraction: 0.1 })],
  faults: [0, 1, 2, 3, 4].map((node) => ({
    kind: 'slow',
    client: 0,
    node,
    at: 0,
    durationMs: 700,
    extraMs: 300,
  })),
};

/**
 * For the "release only where the acquire answered" variant: node 4 runs A's SET but its reply
 * is lost; A wins with 4 votes and later releases.
 */
export const LOST_REPLY: Scenario = {
  seed: 1,
  nodes: 5,
  maxDelayMs: 0,
  driftFactor: 0.01,
  nodeTimeoutMs: 50,
  pauseBudgetMs: 0,
  minNodeUptimeMs: 0,
  clients: [client(10, 0, { workFraction: 0.1 })],
  faults: [{ kind: 'drop-replies', client: 0, node: 4, at: 0, durationMs: 100, extraMs: 0 }],
};

/**
 * For the "failed renew leaves the deadline" variant (defect 1): one node; A holds for 800 ms
 * and renews with a TTL of 160 ms while the node's replies are lost, so the renew fails after
 * the node ran its PEXPIRE. A trusts `remainingMs()` and goes on working; B tries from t=300.
 */
export const SHORT_RENEW_LOST: Scenario = {
  seed: 1,
  nodes: 1,
  maxDelayMs: 0,
  driftFactor: 0.01,
  nodeTimeoutMs: 50,
  pauseBudgetMs: 0,
  minNodeUptimeMs: 0,
  clients: [
    client(10, 0, {
      ttl: 800,
      workFraction: 0.9,
      renews: 1,
      renewTtlShare: 0.2,
      trustRemaining: true,
      claims: 3,
      mode: 'hold',
    }),
    client(300, 20, { workFraction: 0.1 }),
  ],
  faults: [{ kind: 'drop-replies', client: 0, node: 0, at: 300, durationMs: 200, extraMs: 0 }],
};

/**
 * For the "first INFO error switches vetting off" variant (defect 2): one node, every client
 * with the uptime guard. A holds from t=10; B's first call (t=50) gets BUSY; at t=100 the node
 * restarts at once without its data, admissible only because the guard ignores it for the max
 * TTL; B retries every 100 ms.
 */
export const BUSY_THEN_WIPE: Scenario = {
  seed: 1,
  nodes: 1,
  maxDelayMs: 0,
  driftFactor: 0.01,
  nodeTimeoutMs: 50,
  pauseBudgetMs: 0,
  minNodeUptimeMs: 1_010,
  clients: [client(10, 0), client(50, 20, { workFraction: 0.1 })],
  faults: [
    { kind: 'first-contact', client: 1, node: 0, error: 'busy', calls: 1 },
    { kind: 'crash', node: 0, at: 100, mode: 'wipe', downMs: 0, snapshotAgoMs: 0 },
  ],
};

/**
 * For the "leadership outlives the lock" variant (defect 3): one node; A campaigns from t=10
 * with a 200 ms lease, B from t=20. A's process stalls for 300 ms at t=100 (within its pause
 * budget: A writes nothing), its lease runs out meanwhile and B is elected; the checker reads
 * A's `isLeader` the moment A resumes.
 */
export const LEADER_STALL: Scenario = {
  seed: 1,
  nodes: 1,
  maxDelayMs: 0,
  driftFactor: 0.01,
  nodeTimeoutMs: 50,
  pauseBudgetMs: 300,
  minNodeUptimeMs: 0,
  clients: [
    client(10, 0, { mode: 'lead', ttl: 200, renews: 3, workFraction: 1, claims: 2 }),
    client(20, 0, { mode: 'lead', ttl: 200, renews: 3, workFraction: 1, claims: 2 }),
  ],
  faults: [{ kind: 'pause', client: 0, at: 100, durationMs: 300, atCheck: false }],
};

/**
 * For the "registry looks locks up by ordered list" variant (defect 4): A holds r0 and r1 on
 * one node and releases by value naming them in the other order; its Lock must say released.
 */
export const PERMUTED_RELEASE: Scenario = {
  seed: 1,
  nodes: 1,
  maxDelayMs: 0,
  driftFactor: 0.01,
  nodeTimeoutMs: 50,
  pauseBudgetMs: 0,
  minNodeUptimeMs: 0,
  clients: [client(10, 0, { resources: [0, 1], workFraction: 0.3, mode: 'hold', releaseBy: 'value' })],
  faults: [],
};

/**
 * For the "keeper renews after release" variant (defect 5): A keeps a lock for a while and
 * releases it without stopping its keeper first.
 */
export const KEEPER_RELEASE: Scenario = {
  seed: 1,
  nodes: 1,
  maxDelayMs: 0,
  driftFactor: 0.01,
  nodeTimeoutMs: 50,
  pauseBudgetMs: 0,
  minNodeUptimeMs: 0,
  clients: [client(10, 0, { ttl: 300, workFraction: 0.5, renews: 2, mode: 'keep', claims: 2 })],
  faults: [],
};
