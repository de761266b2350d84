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
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LockAcquireError, LockLostError } from '../../src/errors.js';
import type { Lock } from '../../src/lock.js';
import { Redlock } from '../../src/redlock.js';
import { findOverlaps } from './checkers.js';
import { type Commander, commander, flushScripts, jumpBackward, jumpForward } from './faults.js';
import { type Acquisition, checkTokens, type FencedWrite, History, type Holding } from './history.js';
import { ClientNetwork } from './network.js';
import { adminClient, closeClient, NodeSet, type RedisNode } from './nodes.js';

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

interface Stats {
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

/** mulberry32: small, seeded, good enough for choosing faults. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { count: 0, p50: null, p95: null, max: null };
  const sorted = [...values].sort((x, y) => x - y);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), max: Math.round(sorted[sorted.length - 1]!) };
}

/** One contender: a client process with its own network; a crash replaces both. */
class Contender {
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

/** Run the soak; resolves with the summary (and writes the files when `outDir` is set). */
export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const seed = options.seed ?? 1;
  const rng = seeded(seed);
  const ttl = options.ttlMs ?? 1_500;
  const contenderCount = options.contenders ?? 6;
  const resourceCount = options.resources ?? 3;
  const fencedCount = Math.min(options.fenced ?? 2, resourceCount);
  const faultEvery = options.faultEveryMs ?? 600;
  const log = options.log ?? (() => {});
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
  const between = (low: number, high: number) => low + rng() * (high - low);

  const set = options.addresses === undefined ? await NodeSet.start(5) : undefined;
  const addresses = options.addresses ?? set!.addresses;
  const prefix = `soak:${seed}:${Date.now().toString(36)}:`;
  const resources = Array.from({ length: resourceCount }, (_, i) => `${prefix}r${i}`);
  const fencedResources = new Set(resources.slice(0, fencedCount));
  const admins = set === undefined ? addresses.map((a) => adminClient(a)) : [];
  const nodeCommand: Commander[] = set ? set.nodes : admins.map(commander);
  const history = new History();
  const faults: FaultEvent[] = [];
  const crashes: Array<{ contender: string; resource: string; at: number; resolvedAfter?: number }> = [];
  const pendingCrash = new Map<string, number[]>();
  const stats: Stats = {
    attempts: 0,
    failures: {},
    renewals: { ok: 0, failed: 0 },
    lost: 0,
    crashes: 0,
    lateWrites: 0,
    acquireLatencies: [],
    afterCrash: [],
  };
  const redlocks: Redlock[] = [];
  const setupNets: ClientNetwork[] = [];
  const closing: Promise<void>[] = [];
  /** Nodes killed (or restarting) right now, and contenders (re)connecting: they wait for each other. */
  const down = new Set<number>();
  let connecting = 0;
  let skipped = 0;
  const stragglers = new Set<Promise<unknown>>();
  const contenders = Array.from(
    { length: contenderCount },
    (_, i) => new Contender(`c${i}`, addresses, redlocks),
  );
  const t0 = performance.now();
  const endAt = t0 + options.durationMs;
  const guard = (delta: 1 | -1) => {
    connecting += delta;
  };
  const nodesUp = async () => {
    for (let i = 0; i < 500 && down.size > 0; i++) await delay(10);
  };
  const rel = (t: number) => Math.round(t - t0);

  try {
    const setupNet = await ClientNetwork.start(addresses);
    setupNets.push(setupNet);
    const setup = new Redlock(setupNet.clients, { fencing: true });
    redlocks.push(setup);
    for (const r of fencedResources) await setup.initFencing(r);
    await setup.idle();
    await Promise.all(contenders.map((c) => c.connect(nodesUp, guard)));
    log(
      `soak: seed ${seed}, ${contenderCount} contenders, ${resourceCount} resources (${fencedCount} fenced), ttl ${ttl} ms, ${options.durationMs / 1000} s`,
    );

    const afterAcquire = (held: Holding, invokedAt: number) => {
      stats.acquireLatencies.push(held.record.start - invokedAt);
      const pending = pendingCrash.get(held.resource);
      if (pending && pending.length > 0) {
        for (const at of pending) {
          const after = Math.round(held.record.start - at);
          stats.afterCrash.push(after);
          const crash = crashes.find((c) => c.at === rel(at) && c.resource === held.resource);
          if (crash) crash.resolvedAfter = after;
        }
        pendingCrash.set(held.resource, []);
      }
    };

    /**
     * Guarded read-modify-write and fenced writes, only while the lock is valid: the holder checks
     * its validity, then reads, works for at most a quarter of what is left, and writes.
     */
    const work = async (held: Holding, fenced: boolean, maxPause = ttl * 0.2) => {
      if (fenced && held.valid) held.write();
      const pause = Math.min(held.lock.remainingMs() * 0.25, rng() * maxPause);
      if (await held.update(() => delay(pause))) {
        if (performance.now() >= held.lock.deadlineMs) stats.lateWrites++;
      }
      if (fenced && held.valid) held.write();
    };

    const failed = (error: unknown) => {
      if (error instanceof LockAcquireError) {
        stats.failures[error.reason] = (stats.failures[error.reason] ?? 0) + 1;
        return true;
      }
      return false;
    };

    const crash = async (c: Contender, held: Holding) => {
      held.end();
      const at = performance.now();
      stats.crashes++;
      crashes.push({ contender: c.name, resource: held.resource, at: rel(at) });
      const list = pendingCrash.get(held.resource) ?? [];
      list.push(at);
      pendingCrash.set(held.resource, list);
      faults.push({ kind: 'holder-crash', target: c.name, at: rel(at), detail: held.resource });
      c.crashRequested = false;
      c.holding = undefined;
      // The process is gone: its connections close, nothing is released; a new one starts.
      closing.push(c.net.close());
      await delay(between(50, 300));
      await c.connect(nodesUp, guard);
    };

    const runContender = async (c: Contender) => {
      while (performance.now() < endAt) {
        const resource = pick(resources);
        const fenced = fencedResources.has(resource);
        const redlock = fenced ? c.fenced : c.plain;
        const style = pick(['plain', 'plain', 'renew', 'using'] as const);
        const invokedAt = performance.now();
        stats.attempts++;
        if (style === 'using') {
          let held: Holding | undefined;
          const run = redlock.using(resource, ttl, async (signal, lock: Lock) => {
            const h = history.acquired(c.name, lock, invokedAt);
            held = h;
            signal.addEventListener('abort', () => h.end());
            afterAcquire(h, invokedAt);
            const rounds = 1 + Math.floor(rng() * 3);
            for (let i = 0; i < rounds && !signal.aborted; i++) {
              // As R11 asks of a critical section under using(): act only while the signal is
              // not aborted, checked right before each (atomic) act. using() releases a lost
              // lock at once, so an act still in flight then would overlap the next holder.
              await delay(rng() * ttl * 0.2, undefined, { signal }).catch(() => {});
              if (!signal.aborted) await work(h, fenced, 0);
              await delay(ttl * 0.4, undefined, { signal }).catch(() => {});
            }
            h.end();
          });
          stragglers.add(run.catch(() => {}));
          try {
            await run;
          } catch (error) {
            if (error instanceof LockLostError) stats.lost++;
            else if (!failed(error)) throw error;
            held?.end();
            await delay(between(20, 120));
          }
          continue;
        }
        let lock: Lock;
        try {
          lock = await redlock.acquire(resource, ttl);
        } catch (error) {
          if (!failed(error)) throw error;
          await delay(between(20, 120));
          continue;
        }
        const held = history.acquired(c.name, lock, invokedAt);
        c.holding = resource;
        afterAcquire(held, invokedAt);
        await work(held, fenced);
        if (style === 'renew' && held.valid) {
          const renewed = await lock.renew();
          if (renewed) stats.renewals.ok++;
          else stats.renewals.failed++;
          if (renewed) await work(held, fenced);
        }
        if (c.crashRequested) {
          await crash(c, held);
          continue;
        }
        held.end();
        c.holding = undefined;
        await lock.release();
        await delay(between(0, 40));
      }
    };

    // The nemesis: a seeded, shuffled deck of fault kinds, so each kind comes up regularly.
    const kinds: FaultKind[] = [
      ...SAFE_FAULTS.filter((k) => set !== undefined || (k !== 'kill' && k !== 'pause')),
      ...(options.unsafe ? UNSAFE_FAULTS.filter((k) => set !== undefined || k !== 'restart-empty') : []),
    ];
    let deck: FaultKind[] = [];
    const nextKind = (): FaultKind => {
      if (deck.length === 0) {
        deck = [...kinds];
        for (let i = deck.length - 1; i > 0; i--) {
          const j = Math.floor(rng() * (i + 1));
          [deck[i], deck[j]] = [deck[j]!, deck[i]!];
        }
      }
      return deck.pop()!;
    };
    const busy = new Set<number>();
    const wiped = new Set<number>();
    const episodes = new Set<Promise<void>>();
    const faultsEndAt = endAt - Math.min(2_000, options.durationMs / 10);
    const freeNode = (maxBusy: number): number | undefined => {
      if (busy.size >= maxBusy) return undefined;
      const free = addresses.map((_, i) => i).filter((i) => !busy.has(i));
      return free.length === 0 ? undefined : pick(free);
    };
    const record = (kind: FaultKind, target: string, detail?: string): FaultEvent => {
      const event: FaultEvent = { kind, target, at: rel(performance.now()), ...(detail ? { detail } : {}) };
      faults.push(event);
      return event;
    };

    const episode = async (kind: FaultKind): Promise<void> => {
      const node = (i: number) => set!.nodes[i] as RedisNode;
      switch (kind) {
        case 'kill':
        case 'pause':
        case 'restart-empty': {
          const i = kind === 'pause' || connecting === 0 ? freeNode(2) : undefined;
          if (i === undefined) {
            skipped++;
            return;
          }
          busy.add(i);
          try {
            const event = record(kind, addresses[i]!);
            if (kind === 'pause') {
              node(i).pause();
              await delay(between(100, 1_500));
              node(i).resume();
            } else if (kind === 'kill') {
              down.add(i);
              try {
                await node(i).kill();
                await delay(between(100, 2_000));
                await node(i).restart({ persistence: 'aof-always' });
              } finally {
                down.delete(i);
              }
            } else {
              down.add(i);
              try {
                await node(i).kill();
                await node(i).restart({ persistence: 'none', wipe: true });
              } finally {
                down.delete(i);
              }
              wiped.add(i);
              // The operator's move after a wipe: re-create the absent counter above every token issued.
              const floor = 1_000 + Math.max(0, ...history.acquisitions.map((a) => a.token ?? 0));
              for (const r of fencedResources) await setup.initFencing(r, { floor });
            }
            event.until = rel(performance.now());
          } finally {
            busy.delete(i);
          }
          return;
        }
        case 'partition':
        case 'latency':
        case 'cut': {
          const c = pick(contenders);
          const net = c.net;
          if (kind === 'cut') {
            const i = Math.floor(rng() * addresses.length);
            record(kind, `${c.name}->${addresses[i]}`);
            net.proxies[i]!.cutConnections();
            return;
          }
          if (kind === 'latency') {
            const i = Math.floor(rng() * addresses.length);
            const latency = { upMs: Math.round(between(0, 60)), downMs: Math.round(between(0, 60)) };
            const event = record(
              kind,
              `${c.name}->${addresses[i]}`,
              `up ${latency.upMs} down ${latency.downMs}`,
            );
            net.latency(i, latency);
            await delay(between(500, 3_000));
            net.heal([i]);
            event.until = rel(performance.now());
            return;
          }
          const cut = addresses.map((_, i) => i).filter(() => rng() < 0.4);
          const isolated = cut.length > 0 ? cut : [Math.floor(rng() * addresses.length)];
          const mode = pick(['blackhole', 'refuse', 'drop-replies'] as const);
          const event = record(kind, `${c.name}-x-[${isolated.join(',')}]`, mode);
          net.isolate(isolated, mode);
          await delay(between(200, 2_500));
          net.heal(isolated);
          event.until = rel(performance.now());
          return;
        }
        case 'script-flush':
        case 'clock-back':
        case 'clock-forward': {
          const i = freeNode(addresses.length);
          if (i === undefined) {
            skipped++;
            return;
          }
          busy.add(i);
          try {
            if (kind === 'script-flush') {
              record(kind, addresses[i]!);
              await flushScripts(nodeCommand[i]!);
            } else {
              const delta = Math.round(kind === 'clock-back' ? between(50, ttl) : between(ttl / 2, 2 * ttl));
              const moved =
                kind === 'clock-back'
                  ? await jumpBackward(nodeCommand[i]!, { match: `${prefix}*` }, delta)
                  : await jumpForward(nodeCommand[i]!, { match: `${prefix}*` }, delta);
              record(kind, addresses[i]!, `${delta} ms, ${moved} keys`);
            }
          } finally {
            busy.delete(i);
          }
          return;
        }
        case 'holder-crash': {
          const holders = contenders.filter((c) => c.holding !== undefined && !c.crashRequested);
          if (holders.length === 0) {
            skipped++;
            return;
          }
          pick(holders).crashRequested = true;
          return;
        }
      }
    };

    const nemesis = async () => {
      while (performance.now() < faultsEndAt) {
        await delay(faultEvery * between(0.5, 1.5));
        if (performance.now() >= faultsEndAt) break;
        const kind = nextKind();
        const running = episode(kind).catch((error: unknown) => {
          log(`soak: fault ${kind} failed: ${(error as Error).message}`);
        });
        episodes.add(running);
        void running.finally(() => episodes.delete(running));
      }
    };

    const progress = setInterval(() => {
      // Lost updates are counted once the run settles (an update in flight looks lost).
      const v = history.check();
      log(
        `soak: ${Math.round(rel(performance.now()) / 1000)} s: ${history.acquisitions.length} acquisitions, ${faults.length} faults, ${v.overlaps.length} lease overlaps, ${v.tokenOrder.length} token-order, ${v.fencedWhileValid.length} fenced-while-valid`,
      );
    }, 30_000);
    try {
      await Promise.all([nemesis(), ...contenders.map(runContender)]);
    } finally {
      clearInterval(progress);
    }
    while (episodes.size > 0) await Promise.all([...episodes]);
    await Promise.all([...stragglers]);
    // Nodes restarted without persistence go back to AOF (the next soak starts clean).
    for (const i of wiped) {
      await set!.nodes[i]!.kill();
      await set!.nodes[i]!.restart({ persistence: 'aof-always' });
    }
  } finally {
    await Promise.all(redlocks.map((r) => r.idle()));
    await Promise.all([
      ...closing,
      ...contenders.map((c) => c.net?.close()),
      ...setupNets.map((n) => n.close()),
    ]);
    await Promise.all(admins.map(closeClient));
    await set?.dispose();
  }

  const found = history.check();
  const byResource: Record<string, number> = {};
  for (const a of history.acquisitions)
    byResource[a.resource.slice(prefix.length)] = (byResource[a.resource.slice(prefix.length)] ?? 0) + 1;
  const byKind: Record<string, number> = {};
  for (const f of faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const violations = {
    leaseOverlaps: found.overlaps.length,
    lostUpdates: found.lostUpdates,
    tokenOrder: found.tokenOrder.length,
    falseSuccess: found.falseSuccess.length,
    fencedWhileValid: found.fencedWhileValid.length,
    total: 0,
  };
  violations.total =
    violations.leaseOverlaps +
    violations.lostUpdates +
    violations.tokenOrder +
    violations.falseSuccess +
    violations.fencedWhileValid;
  const summary: SoakSummary = {
    seed,
    durationMs: Math.round(performance.now() - t0),
    nodes: set === undefined ? 'external' : 'started',
    contenders: contenderCount,
    resources: resourceCount,
    fencedResources: fencedCount,
    ttlMs: ttl,
    unsafe: options.unsafe ?? false,
    acquisitions: {
      total: history.acquisitions.length,
      byResource,
      attempts: stats.attempts,
      failures: stats.failures,
      renewals: stats.renewals,
      lostSignals: stats.lost,
      holderCrashes: stats.crashes,
    },
    violations,
    lateWrites: stats.lateWrites,
    fencedWrites: {
      accepted: history.fencedWrites.filter((w) => w.accepted).length,
      rejected: history.fencedWrites.filter((w) => !w.accepted).length,
    },
    faults: { total: faults.length, skipped, byKind },
    liveness: {
      acquireMs: spread(stats.acquireLatencies),
      afterHolderCrashMs: {
        ...spread(stats.afterCrash),
        unresolved: crashes.filter((c) => c.resolvedAfter === undefined).length,
      },
    },
  };
  if (options.outDir === undefined) return summary;
  await mkdir(options.outDir, { recursive: true });
  const files = {
    history: join(options.outDir, 'history.json'),
    summary: join(options.outDir, 'summary.json'),
  };
  const json = history.toJSON() as { acquisitions: Acquisition[]; fencedWrites: FencedWrite[] };
  await writeFile(
    files.history,
    JSON.stringify(
      {
        options: { ...options, log: undefined },
        t0,
        faults,
        crashes,
        ...json,
        violations: { ...found, overlaps: found.overlaps.length },
      },
      null,
      1,
    ),
  );
  const withFiles = { ...summary, files };
  await writeFile(files.summary, JSON.stringify(withFiles, null, 2));
  return withFiles;
}

/**
 * Re-run the checkers over a `history.json` written by {@link runSoak} (S1 windows, S2 token
 * order, S4, fenced writes; lost updates as recorded), for offline re-checking.
 */
export async function recheckHistory(path: string): Promise<SoakSummary['violations']> {
  const data = JSON.parse(await readFile(path, 'utf8')) as {
    acquisitions: Array<Acquisition & { end: number }>;
    fencedWrites: FencedWrite[];
    counters: Record<string, { lostUpdates: number }>;
  };
  const overlaps = findOverlaps(
    data.acquisitions.map((a) => ({ holder: a.holder, resource: a.resource, start: a.start, end: a.end })),
  );
  const tokenOrder = checkTokens(data.acquisitions);
  const falseSuccess = data.acquisitions.filter((a) => a.votes < a.quorum || !(a.validityMs > 0));
  const fencedWhileValid = data.fencedWrites.filter((w) => !w.accepted && w.valid);
  const lostUpdates = Object.values(data.counters).reduce((sum, c) => sum + c.lostUpdates, 0);
  const violations = {
    leaseOverlaps: overlaps.length,
    lostUpdates,
    tokenOrder: tokenOrder.length,
    falseSuccess: falseSuccess.length,
    fencedWhileValid: fencedWhileValid.length,
    total: 0,
  };
  violations.total =
    overlaps.length + lostUpdates + tokenOrder.length + falseSuccess.length + fencedWhileValid.length;
  return violations;
}
