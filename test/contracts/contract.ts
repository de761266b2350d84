import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command, RedisClient } from '../../src/adapter.js';
import { decodeBatch, encodeBatch } from '../../src/pipe.js';
import { acquireScript, extendScript, releaseScript, repairScript } from '../../src/scripts/index.js';

/** Direct access to the node behind the adapter, to set up and inspect state. */
export interface NodeAccess {
  set(key: string, value: string, pxMs?: number): Promise<void>;
  get(key: string): Promise<string | null>;
  pttl(key: string): Promise<number>;
  /** Make `key` a list, so GET on it is a WRONGTYPE error reply. */
  makeList(key: string): Promise<void>;
  flushScripts(): Promise<void>;
  del(...keys: string[]): Promise<void>;
}

export interface ContractTarget {
  readonly client: RedisClient;
  readonly node: NodeAccess;
  /** Close the adapter's client, when the adapter has one; exec must then reject, not hang. */
  readonly close?: () => Promise<void>;
  dispose(): Promise<void>;
}

const TTL = 60_000;

function evalCmd(script: typeof acquireScript, keys: string[], args: string[]): Command {
  return { type: 'eval', script, keys, args };
}

async function one(client: RedisClient, command: Command): Promise<unknown> {
  const [reply] = await client.exec([command]);
  return reply;
}

/** The suite every RedisClient adapter must pass: the same cases against each one. */
export function adapterContract(name: string, make: () => Promise<ContractTarget>): void {
  describe(`RedisClient contract: ${name}`, () => {
    let target: ContractTarget;
    let k: (suffix: string) => string;
    const used: string[] = [];

    beforeEach(async () => {
      target = await make();
      const prefix = `contract:${randomUUID()}:`;
      k = (suffix) => {
        used.push(prefix + suffix);
        return prefix + suffix;
      };
    });

    afterEach(async () => {
      await target.node.del(...used.splice(0));
      await target.dispose();
    });

    it('has a non-empty endpoint', () => {
      expect(target.client.endpoint).toMatch(/\S/);
    });

    it('acquire sets every free key with the value and PX ttl, and reports the counter absent', async () => {
      const keys = [k('a'), k('b')];
      const reply = await one(target.client, evalCmd(acquireScript, keys, ['v1', String(TTL), '2']));
      expect(reply).toEqual([1, 0, -1]);
      for (const key of keys) {
        expect(await target.node.get(key)).toBe('v1');
        const pttl = await target.node.pttl(key);
        expect(pttl).toBeGreaterThan(TTL - 10_000);
        expect(pttl).toBeLessThanOrEqual(TTL);
      }
    });

    it('acquire is all or nothing: one held key means nothing is written', async () => {
      const [a, b, c] = [k('a'), k('b'), k('c')];
      await target.node.set(b, 'other', TTL);
      const reply = await one(target.client, evalCmd(acquireScript, [a, b, c], ['v1', String(TTL), '3']));
      expect(reply).toEqual([0, 2, -1]);
      expect(await target.node.get(a)).toBeNull();
      expect(await target.node.get(b)).toBe('other');
      expect(await target.node.get(c)).toBeNull();
    });

    it('acquire refuses a key that already holds the same value', async () => {
      const a = k('a');
      await target.node.set(a, 'v1', TTL);
      expect(await one(target.client, evalCmd(acquireScript, [a], ['v1', String(TTL), '1']))).toEqual([
        0, 1, -1,
      ]);
    });

    it('acquire reads a fencing counter passed after the lock keys, without writing it', async () => {
      const [a, counter] = [k('a'), k('fence')];
      await target.node.set(counter, '41');
      expect(
        await one(target.client, evalCmd(acquireScript, [a, counter], ['v1', String(TTL), '1'])),
      ).toEqual([1, 0, 41]);
      expect(await target.node.get(counter)).toBe('41');
    });

    it('release deletes only keys holding the value and counts foreign ones', async () => {
      const [a, b, c] = [k('a'), k('b'), k('c')];
      await target.node.set(a, 'mine', TTL);
      await target.node.set(b, 'theirs', TTL);
      expect(await one(target.client, evalCmd(releaseScript, [a, b, c], ['mine']))).toEqual([1, 1]);
      expect(await target.node.get(a)).toBeNull();
      expect(await target.node.get(b)).toBe('theirs');
      expect(await one(target.client, evalCmd(releaseScript, [a, b, c], ['mine']))).toEqual([0, 1]);
    });

    it('extend renews only when every key holds the value, and never creates a key', async () => {
      const [a, b] = [k('a'), k('b')];
      await target.node.set(a, 'mine', 5_000);
      await target.node.set(b, 'mine', 5_000);
      expect(await one(target.client, evalCmd(extendScript, [a, b], ['mine', String(TTL)]))).toEqual([
        1, 0, 0,
      ]);
      expect(await target.node.pttl(a)).toBeGreaterThan(TTL - 10_000);
      await target.node.del(b);
      expect(await one(target.client, evalCmd(extendScript, [a, b], ['mine', String(TTL)]))).toEqual([
        0, 1, 0,
      ]);
      expect(await target.node.get(b)).toBeNull();
      await target.node.set(b, 'theirs', 5_000);
      expect(await one(target.client, evalCmd(extendScript, [a, b], ['mine', String(TTL)]))).toEqual([
        0, 0, 1,
      ]);
      expect(await target.node.get(b)).toBe('theirs');
      expect(await target.node.pttl(b)).toBeLessThanOrEqual(5_000);
    });

    it('repair sets absent keys and extends ours, and refuses when any key is foreign', async () => {
      const [a, b] = [k('a'), k('b')];
      await target.node.set(a, 'mine', 5_000);
      expect(await one(target.client, evalCmd(repairScript, [a, b], ['mine', String(TTL)]))).toEqual([1, 0]);
      expect(await target.node.get(b)).toBe('mine');
      expect(await target.node.pttl(a)).toBeGreaterThan(TTL - 10_000);
      await target.node.set(b, 'theirs', 5_000);
      await target.node.del(a);
      expect(await one(target.client, evalCmd(repairScript, [a, b], ['mine', String(TTL)]))).toEqual([0, 2]);
      expect(await target.node.get(a)).toBeNull();
    });

    it('falls back to EVAL when the node answers NOSCRIPT', async () => {
      const a = k('a');
      await target.node.flushScripts();
      expect(await one(target.client, evalCmd(acquireScript, [a], ['v', String(TTL), '1']))).toEqual([
        1, 0, -1,
      ]);
      await target.node.flushScripts();
      const replies = await target.client.exec([
        evalCmd(releaseScript, [a], ['v']),
        evalCmd(acquireScript, [a], ['w', String(TTL), '1']),
      ]);
      expect(replies).toEqual([
        [1, 0],
        [1, 0, -1],
      ]);
    });

    it('answers INFO with the server run_id and the memory policy', async () => {
      const info = await one(target.client, { type: 'info', sections: ['server', 'memory'] });
      expect(typeof info).toBe('string');
      expect(info as string).toMatch(/^run_id:[0-9a-f]{40}\r?$/m);
      expect(info as string).toMatch(/^maxmemory_policy:\S+/m);
    });

    it('carries several commands in one call and answers them in order', async () => {
      const [a, b] = [k('a'), k('b')];
      const replies = await target.client.exec([
        { type: 'info', sections: ['server'] },
        evalCmd(acquireScript, [a], ['1', String(TTL), '1']),
        evalCmd(acquireScript, [a], ['2', String(TTL), '1']),
        evalCmd(acquireScript, [b], ['3', String(TTL), '1']),
        evalCmd(releaseScript, [a], ['1']),
      ]);
      expect(replies.slice(1)).toEqual([
        [1, 0, -1],
        [0, 1, -1],
        [1, 0, -1],
        [1, 0],
      ]);
    });

    it('puts an error reply in its own slot without failing the call', async () => {
      const [list, a] = [k('list'), k('a')];
      await target.node.makeList(list);
      const replies = await target.client.exec([
        evalCmd(releaseScript, [list], ['v']),
        evalCmd(acquireScript, [a], ['v', String(TTL), '1']),
      ]);
      expect(replies[0]).toBeInstanceOf(Error);
      expect((replies[0] as Error).message).toMatch(/WRONGTYPE/);
      expect(replies[1]).toEqual([1, 0, -1]);
      const [single] = await target.client.exec([evalCmd(releaseScript, [list], ['v'])]);
      expect(single).toBeInstanceOf(Error);
    });

    it('runs a batch of scripts in order, each as if alone, an error in one not aborting the others', async () => {
      const [a, b, list] = [k('a'), k('b'), k('list')];
      await target.node.makeList(list);
      const ops = [
        evalCmd(acquireScript, [a], ['v1', String(TTL), '1']),
        evalCmd(acquireScript, [a], ['v2', String(TTL), '1']),
        evalCmd(releaseScript, [list], ['v1']),
        evalCmd(extendScript, [a], ['v1', String(TTL * 2)]),
        evalCmd(acquireScript, [b], ['v3', String(TTL), '1']),
        evalCmd(releaseScript, [a], ['v1']),
      ] as Parameters<typeof encodeBatch>[0];
      const [reply] = await target.client.exec([encodeBatch(ops)]);
      const results = decodeBatch(reply, ops.length);
      expect(results[0]).toEqual([1, 0, -1]);
      expect(results[1]).toEqual([0, 1, -1]);
      expect(results[2]).toBeInstanceOf(Error);
      expect((results[2] as Error).message).toMatch(/WRONGTYPE/);
      expect(results[3]).toEqual([1, 0, 0]);
      expect(results[4]).toEqual([1, 0, -1]);
      expect(results[5]).toEqual([1, 0]);
      expect(await target.node.get(a)).toBeNull();
      expect(await target.node.get(b)).toBe('v3');
    });

    it('rejects, without hanging, once its client is closed', async ({ skip }) => {
      if (!target.close) skip('this adapter has no client to close');
      await target.close!();
      await expect(target.client.exec([evalCmd(releaseScript, [k('a')], ['v'])])).rejects.toBeInstanceOf(
        Error,
      );
    });
  });
}
