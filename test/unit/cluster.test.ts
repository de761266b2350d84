import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/adapter.js';
import { type ClusterTransport, clusterExec, mergeInfo } from '../../src/adapters/cluster.js';
import { groupBySlot, hashedPart, slotOf } from '../../src/adapters/slots.js';
import { parseInfo } from '../../src/guards.js';
import { acquireScript } from '../../src/scripts/index.js';

describe('cluster slots (ADR 016)', () => {
  it('hashes like the server: known slots, hash tags, empty tags', () => {
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('bar')).toBe(5061);
    expect(slotOf('{user1000}.following')).toBe(slotOf('{user1000}.followers'));
    expect(hashedPart('a{}b')).toBe('a{}b');
    expect(hashedPart('x{t}y{z}')).toBe('t');
  });

  it('groups keys by slot in ascending slot order, keeping each key index', () => {
    const groups = groupBySlot(['foo', 'bar', '{foo}x']);
    expect(groups.map((g) => g.slot)).toEqual([5061, 12182]);
    expect(groups[1]!.indices).toEqual([0, 2]);
  });
});

describe('merged INFO of a cluster', () => {
  const master = (runId: string, uptime: number, policy = 'noeviction', aof = 1) =>
    `# Server\r\nredis_version:7.0.15\r\nrun_id:${runId}\r\nuptime_in_seconds:${uptime}\r\n# Memory\r\nmaxmemory_policy:${policy}\r\n# Persistence\r\naof_enabled:${aof}\r\n`;

  it('is as weak as its weakest master, and its run_id changes when any master changes', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const merged = parseInfo(mergeInfo([master(a, 100), master(b, 7, 'allkeys-lru', 0)]))!;
    expect(merged.uptimeSeconds).toBe(7);
    expect(merged.maxmemoryPolicy).toBe('allkeys-lru');
    expect(merged.aofEnabled).toBe(false);
    expect(merged.runId).toMatch(/^[0-9a-f]{40}$/);
    expect(parseInfo(mergeInfo([master(b, 7), master(a, 100)]))!.runId).toBe(merged.runId);
    expect(parseInfo(mergeInfo([master(a, 100), master('c'.repeat(40), 7)]))!.runId).not.toBe(merged.runId);
  });
});

describe('acquire across slots', () => {
  /** A fake cluster: keys in a map, scripts answered by name; every call must touch one slot. */
  function fake(held: Record<string, string>): { t: ClusterTransport; store: Map<string, string> } {
    const store = new Map(Object.entries(held));
    const t: ClusterTransport = {
      async call(name, args) {
        const keys = name === 'SET' || name === 'GET' ? [args[0]!] : args.slice(2, 2 + Number(args[1]));
        expect(new Set(keys.map(slotOf)).size).toBe(1);
        if (name === 'GET') return store.get(args[0]!) ?? null;
        if (name === 'SET') {
          if (store.has(args[0]!)) return null;
          store.set(args[0]!, args[1]!);
          return 'OK';
        }
        if (name === 'EVALSHA' && args[0] === acquireScript.sha) {
          if (keys.some((k) => store.has(k))) return [0, keys.findIndex((k) => store.has(k)) + 1, -1];
          for (const k of keys) store.set(k, args[2 + keys.length]!);
          return [1, 0, -1];
        }
        // release
        let deleted = 0;
        for (const k of keys)
          if (store.get(k) === args[2 + keys.length]) {
            store.delete(k);
            deleted++;
          }
        return [deleted, 0];
      },
      infoOfMasters: async () => [],
    };
    return { t, store };
  }
  const acquire = (keys: string[]): Command => ({
    type: 'eval',
    script: acquireScript,
    keys,
    args: ['v', '1000', String(keys.length)],
  });

  it('sets every group, or undoes the groups it set and answers held with the original index', async () => {
    const free = fake({});
    expect(await clusterExec(free.t, [acquire(['foo', 'bar', '{foo}x'])])).toEqual([[1, 0, -1]]);
    expect([...free.store.keys()].sort()).toEqual(['bar', 'foo', '{foo}x']);
    // bar (slot 5061) is set first, then foo's group (slot 12182) is found held: bar is undone.
    const busy = fake({ '{foo}x': 'other' });
    expect(await clusterExec(busy.t, [acquire(['foo', 'bar', '{foo}x'])])).toEqual([[0, 3, -1]]);
    expect([...busy.store.entries()]).toEqual([['{foo}x', 'other']]);
  });
});
