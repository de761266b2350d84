/**
 * runSoak: the randomised nemesis soak of model.ts on real nodes (docs/testing.md).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { LockAcquireError, LockLostError } from '../../../src/errors.js';
import type { Lock } from '../../../src/lock.js';
import { Redlock } from '../../../src/redlock.js';
import { adminClient, closeClient, NodeSet } from '../../../tools/nodes.js';
import { mulberry32 } from '../../../tools/random.js';
import { type Commander, commander } from '../faults.js';
import { History, type Holding } from '../history.js';
import { ClientNetwork } from '../network.js';
import { Contender, dice, type FaultEvent, type SoakOptions, type SoakSummary, type Stats } from './model.js';
import { Nemesis } from './nemesis.js';
import { type Crash, report } from './report.js';

/** Run the soak; resolves with the summary (and writes the files when `outDir` is set). */
export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const seed = options.seed ?? 1;
  const rng = mulberry32(seed);
  const ttl = options.ttlMs ?? 1_500;
  const contenderCount = options.contenders ?? 6;
  const resourceCount = options.resources ?? 3;
  const fencedCount = Math.min(options.fenced ?? 2, resourceCount);
  const faultEvery = options.faultEveryMs ?? 600;
  const log = options.log ?? (() => {});
  const { pick, between } = dice(rng);

  const set = options.addresses === undefined ? await NodeSet.start(5) : undefined;
  const addresses = options.addresses ?? set!.addresses;
  const prefix = `soak:${seed}:${Date.now().toString(36)}:`;
  const resources = Array.from({ length: resourceCount }, (_, i) => `${prefix}r${i}`);
  const fencedResources = new Set(resources.slice(0, fencedCount));
  const admins = set === undefined ? addresses.map((a) => adminClient(a)) : [];
  const nodeCommand: Commander[] = set ? set.nodes : admins.map(commander);
  const history = new History();
  const faults: FaultEvent[] = [];
  const crashes: Crash[] = [];
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
  /** Contenders (re)connecting right now: the nemesis kills no node meanwhile. */
  let connecting = 0;
  let nemesis: Nemesis | undefined;
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
    for (let i = 0; i < 500 && (nemesis?.down.size ?? 0) > 0; i++) await delay(10);
  };
  const rel = (t: number) => Math.round(t - t0);

  try {
    const setupNet = await ClientNetwork.start(addresses);
    setupNets.push(setupNet);
    const setup = new Redlock(setupNet.clients, { fencing: true });
    nemesis = new Nemesis({
      set,
      addresses,
      nodeCommand,
      contenders,
      history,
      setup,
      fencedResources,
      prefix,
      ttl,
      unsafe: options.unsafe ?? false,
      dice: dice(rng),
      connecting: () => connecting,
      since: () => rel(performance.now()),
      record: (kind, target, detail) => {
        const event: FaultEvent = { kind, target, at: rel(performance.now()), ...(detail ? { detail } : {}) };
        faults.push(event);
        return event;
      },
    });
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

    const progress = setInterval(() => {
      // Lost updates are counted once the run settles (an update in flight looks lost).
      const v = history.check();
      log(
        `soak: ${Math.round(rel(performance.now()) / 1000)} s: ${history.acquisitions.length} acquisitions, ${faults.length} faults, ${v.overlaps.length} lease overlaps, ${v.tokenOrder.length} token-order, ${v.fencedWhileValid.length} fenced-while-valid`,
      );
    }, 30_000);
    try {
      await Promise.all([
        nemesis.run(endAt - Math.min(2_000, options.durationMs / 10), faultEvery, log),
        ...contenders.map(runContender),
      ]);
    } finally {
      clearInterval(progress);
    }
    await nemesis.settle();
    await Promise.all([...stragglers]);
    // Nodes restarted without persistence go back to AOF (the next soak starts clean).
    for (const i of nemesis.wiped) {
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

  return report({
    options,
    seed,
    t0,
    prefix,
    ttl,
    contenders: contenderCount,
    resources: resourceCount,
    fenced: fencedCount,
    started: set !== undefined,
    history,
    faults,
    crashes,
    stats,
    skipped: nemesis?.skipped ?? 0,
  });
}
