import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { pausedHolderScenario } from '../../examples/fenced-store.js';
import { main as cli } from '../../src/cli/main.js';
import type { LockTraceContext } from '../../src/diagnostics.js';
import { type LockAcquireError, LockLostError } from '../../src/errors.js';
import { holderHash } from '../../src/inspect.js';
import { fenceKeyOf } from '../../src/keys.js';
import { Redlock } from '../../src/redlock.js';
import { NodeSet } from '../../tools/nodes.js';
import { type ConnectedClients, connectClients } from '../support/clients.js';
import { useSharedNodes } from '../support/real-nodes.js';

const nodes = useSharedNodes();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fencing tokens on 5 real nodes (R13, row 43)', () => {
  it('are unique and increasing across acquisitions, through a minority of wiped counters', async () => {
    const redlock = new Redlock(nodes.clients, { fencing: true });
    const resource = nodes.key('fenced');
    expect((await redlock.initFencing(resource)).ready).toBe(true);
    const tokens: number[] = [];
    const take = async () => {
      const lock = await redlock.acquire(resource, 5_000);
      tokens.push(lock.fencingToken!);
      await lock.release();
    };
    for (let i = 0; i < 3; i++) await take();
    await Promise.all(nodes.admins.slice(0, 2).map((a) => a.del(fenceKeyOf(resource))));
    for (let i = 0; i < 3; i++) await take();
    expect(tokens).toEqual([1, 2, 3, 4, 5, 6]);
    await nodes.admins[2]!.del(fenceKeyOf(resource));
    const error = (await redlock.acquire(resource, 5_000).catch((e: unknown) => e)) as LockAcquireError;
    expect(error.reason, error.message).toBe('fencing-uninitialized');
    await redlock.initFencing(resource, { floor: 6 });
    await take();
    // Above every token issued (the refused claim may have moved the surviving counters: a gap
    // in tokens is harmless, a repeat or a step back is not).
    expect(tokens.at(-1)).toBeGreaterThan(6);
  });

  it('the fenced store of docs/fencing.md rejects a paused holder that wakes up late', async () => {
    const redlock = new Redlock(nodes.clients, { fencing: true });
    const outcome = await pausedHolderScenario(redlock, nodes.key('fenced-store'));
    expect(outcome.tokens[1]).toBeGreaterThan(outcome.tokens[0]!);
    expect(outcome).toMatchObject({ bWrote: true, aWrote: false, final: 'written by B' });
  });
});

describe('using: auto-renew on real nodes (R11)', () => {
  it('keeps a short lock alive across several TTLs, then releases it', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('using');
    const result = await redlock.using(resource, 300, async (signal) => {
      await sleep(1_000);
      expect(signal.aborted).toBe(false);
      return (await nodes.values(resource)).filter((v) => v !== null).length;
    });
    expect(result).toBe(5);
    expect(await nodes.values(resource)).toEqual(Array(5).fill(null));
  });

  it('aborts the signal with LockLostError well before the deadline when another value holds a majority', async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('using-lost');
    let abortedAt = 0;
    let deadline = 0;
    const error = await redlock
      .using(resource, 3_000, async (signal, lock) => {
        deadline = lock.deadlineMs;
        await Promise.all(nodes.admins.slice(0, 3).map((a) => a.set(resource, 'intruder', 'PX', 10_000)));
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        abortedAt = performance.now();
        return 'finished after abort';
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).reason).toBe('not-held');
    expect(abortedAt).toBeLessThan(deadline);
    expect(await nodes.values(resource)).toEqual(['intruder', 'intruder', 'intruder', null, null]);
  });
});

describe('leader election on real nodes', () => {
  it('one leader at a time; stepping down hands over', async () => {
    const a = new Redlock(nodes.clients, { retryDelay: 50, retryJitter: 25 }).campaign(nodes.key('leader'), {
      ttl: 1_000,
    });
    const b = new Redlock(nodes.clients, { retryDelay: 50, retryJitter: 25 });
    try {
      await a.elected();
      const electionB = b.campaign(nodes.key('leader'), { ttl: 1_000 });
      try {
        await sleep(1_500);
        expect([a.isLeader, electionB.isLeader]).toEqual([true, false]);
        await a.stop();
        const term = await electionB.elected();
        expect(term.signal.aborted).toBe(false);
        expect(electionB.isLeader).toBe(true);
      } finally {
        await electionB.stop();
      }
    } finally {
      await a.stop();
    }
    expect(await nodes.values(nodes.key('leader'))).toEqual(Array(5).fill(null));
  });
});

describe('tracing through diagnostics_channel', () => {
  it('publishes every node outcome and latency, and never a lock value', async () => {
    const events: Array<{ name: string; context: LockTraceContext }> = [];
    const handlers = ['acquire', 'renew', 'release'].flatMap((op) =>
      ['start', 'asyncEnd'].map((phase) => {
        const name = `tracing:quorumlock:${op}:${phase}`;
        const handler = (context: unknown) =>
          events.push({ name, context: structuredClone(context) as LockTraceContext });
        subscribe(name, handler);
        return { name, handler };
      }),
    );
    try {
      const redlock = new Redlock(nodes.clients);
      const lock = (await redlock.acquireLock(nodes.key('traced'), 5_000))!;
      await lock.renew();
      await lock.release();
      expect(events.map((e) => e.name.replace('tracing:quorumlock:', ''))).toEqual([
        'acquire:start',
        'acquire:asyncEnd',
        'renew:start',
        'renew:asyncEnd',
        'release:start',
        'release:asyncEnd',
      ]);
      const acquired = events[1]!.context;
      expect(acquired.result).toMatchObject({ ok: true });
      expect(acquired.nodes!.length).toBe(5);
      expect(acquired.nodes!.filter((n) => n.outcome === 'acquired').length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(events)).not.toContain(lock.value);
    } finally {
      for (const { name, handler } of handlers) unsubscribe(name, handler);
    }
  });
});

describe('lock inspection (R12: a diagnostic)', () => {
  it("shows each node's holder as a hash, its TTL, and whether it is ours", async () => {
    const redlock = new Redlock(nodes.clients);
    const resource = nodes.key('inspected');
    const lock = (await redlock.acquireLock(resource, 20_000))!;
    await nodes.admins[4]!.set(resource, 'someone-else', 'PX', 20_000);
    const seen = await redlock.inspect(resource, { value: lock.value });
    expect(seen.nodes.map((n) => n.keys[0]!.mine)).toEqual([true, true, true, true, false]);
    expect(seen.nodes[0]!.keys[0]!.holder).toBe(holderHash(lock.value));
    for (const n of seen.nodes) expect(n.keys[0]!.ttlMs).toBeGreaterThan(10_000);
    expect(JSON.stringify(seen)).not.toContain(lock.value);
    await lock.release();
  });
});

describe.skipIf(inject('externalNodes'))(
  'operational guards on nodes that break the assumptions (R14)',
  () => {
    let set: NodeSet;
    let connected: ConnectedClients;

    beforeAll(async () => {
      set = await NodeSet.start(3, { persistence: 'none', maxmemoryPolicy: 'volatile-lru' });
      connected = await connectClients(set.addresses);
    });

    afterAll(async () => {
      await connected.close();
      await set.dispose();
    });

    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('warns on first contact about eviction and missing persistence', async () => {
      const warnings: string[] = [];
      const listener = (w: Error & { code?: string }) => warnings.push(w.code ?? '');
      process.on('warning', listener);
      try {
        const redlock = new Redlock(connected.clients);
        const lock = (await redlock.acquireLock('guards', 5_000))!;
        await lock.release();
        await redlock.idle();
        await sleep(10);
      } finally {
        process.off('warning', listener);
      }
      expect(warnings.filter((w) => w === 'QUORUMLOCK_EVICTION_POLICY')).toHaveLength(3);
      // Once per Redlock, not once per node (issue 12).
      expect(warnings.filter((w) => w === 'QUORUMLOCK_PERSISTENCE')).toHaveLength(1);
    });

    it('ignores the votes of nodes whose uptime is below minNodeUptimeMs', async () => {
      const redlock = new Redlock(connected.clients, { minNodeUptimeMs: 3_600_000, retryCount: 0 });
      const error = (await redlock.acquire('quarantine', 5_000).catch((e: unknown) => e)) as LockAcquireError;
      expect(error.reason).toBe('unavailable');
      // Decided once two were quarantined: the third may still be pending.
      const outcomes = error.nodes.map((n) => n.outcome);
      expect(outcomes.filter((o) => o === 'quarantined').length).toBeGreaterThanOrEqual(2);
      expect(outcomes.every((o) => o === 'quarantined' || o === 'pending')).toBe(true);
      await redlock.idle();
      expect(await set.nodes[0]!.command('EXISTS', 'quarantine')).toBe(0);
    });

    it('`quorumlock doctor` fails these nodes and passes the shared ones', async () => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      expect(await cli(['doctor', set.addresses.join(',')])).toBe(1);
      const report = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(report).toMatch(/FAIL .* eviction +maxmemory-policy volatile-lru/);
      expect(report).toMatch(/WARN .* persistence +without AOF/);
      log.mockClear();
      expect(await cli(['doctor', ...nodes.addresses])).toBe(0);
      expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(
        /ok .* persistence +AOF with appendfsync always/,
      );
    });
  },
);
