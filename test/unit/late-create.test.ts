import { describe, expect, it } from 'vitest';
import { type Command, isNoScriptError, type RedisClient, type Reply } from '../../src/adapter.js';
import { Redlock } from '../../src/redlock.js';
import { acquireScript } from '../../src/scripts/acquire.js';
import { BATCHABLE, batchScript } from '../../src/scripts/batch.js';
import { repairScript } from '../../src/scripts/extend.js';
import { MemoryNode } from '../../src/testing/memory.js';
import { VirtualTime, virtualRuntime } from '../support/virtual-time.js';

/**
 * R6 against a NOSCRIPT detour (src/creates.ts). A real adapter that meets NOSCRIPT sends the
 * script again as EVAL once the answer is back, behind whatever was sent on the connection
 * meanwhile: a release sent in between runs first, and the late create leaves a key the Lock
 * calls released. These adapters do exactly that on virtual time, one way taking `delayMs`.
 */
const TTL = 10_000;

function detourAdapter(node: MemoryNode, time: VirtualTime, endpoint: string, delayMs: number): RedisClient {
  const trip = <T>(run: () => T): Promise<T> =>
    new Promise((resolve) => time.setTimeout(() => resolve(run()), delayMs));
  return {
    endpoint,
    async exec(commands: readonly Command[]): Promise<Reply[]> {
      // There: the node runs what arrives; back: the answer takes as long again.
      const replies = await trip(() => commands.map((c) => node.execute(c) as Reply));
      await trip(() => undefined);
      const missing = commands.flatMap((c, i) =>
        c.type === 'eval' && isNoScriptError(replies[i]) ? [i] : [],
      );
      if (missing.length === 0) return replies;
      const again = await trip(() =>
        missing.map((i) => node.execute({ type: 'eval-source', command: commands[i] as never }) as Reply),
      );
      await trip(() => undefined);
      missing.forEach((i, k) => {
        replies[i] = again[k]!;
      });
      return replies;
    },
  };
}

/** Five nodes with every script loaded, each `delays[i]` ms away. */
function setup(delays: readonly number[], options: { nodeTimeoutMs?: number } = {}) {
  const time = new VirtualTime();
  const nodes = Array.from({ length: 5 }, () => new MemoryNode({ clock: time }));
  for (const node of nodes) for (const script of [...BATCHABLE, batchScript]) node.loadScript(script);
  const clients = nodes.map((node, i) => detourAdapter(node, time, `n${i}`, delays[i]!));
  const redlock = new Redlock(clients, { retryCount: 0, ...options, runtime: virtualRuntime(time) });
  const keys = () => nodes.flatMap((node, i) => node.keys().map((key) => `${i}:${key}`));
  return { time, nodes, redlock, keys };
}

/** A node that forgot one script (a SCRIPT FLUSH, then the others ran again). */
function forget(node: MemoryNode, script: (typeof BATCHABLE)[number]): void {
  node.flushScripts();
  for (const other of [...BATCHABLE, batchScript]) if (other !== script) node.loadScript(other);
}

describe('a create that runs after the release (NOSCRIPT detour): released again', () => {
  it("an acquire's straggler: the release resolves with no key left anywhere", async () => {
    const { time, nodes, redlock, keys } = setup([1, 1, 1, 1, 10]);
    forget(nodes[4]!, acquireScript);
    const lock = await time.run(redlock.acquire('r', TTL));
    expect(lock.report.nodes[4]!.outcome).toBe('pending');
    // The straggler's EVALSHA has met NOSCRIPT at node 4; its EVAL is still on the way back.
    await time.run(lock.release());
    expect(keys()).toEqual([]);
    await time.run(redlock.idle());
    expect(keys()).toEqual([]);
  });

  it("a renew's repair: a release sent while the repair is in flight leaves no key", async () => {
    // Node 4 answers "absent" before the vote is decided, so it gets the repair (R8).
    const { time, nodes, redlock, keys } = setup([2, 2, 2, 2, 1]);
    const lock = await time.run(redlock.acquire('r', TTL));
    await time.run(redlock.idle());
    nodes[4]!.del('r');
    forget(nodes[4]!, repairScript);
    expect(await time.run(lock.renew())).toBe(true);
    await time.run(lock.release());
    expect(keys()).toEqual([]);
    await time.run(redlock.idle());
    expect(keys()).toEqual([]);
  });

  it("a lost attempt's straggler that answers after its node timed out: released once it answers", async () => {
    // Node 4 times out at 15 ms: the release sent then reaches it at 25, before the EVAL (30).
    const { time, nodes, redlock, keys } = setup([1, 1, 1, 1, 10], { nodeTimeoutMs: 15 });
    for (const i of [0, 1]) nodes[i]!.set('r', 'someone else', TTL);
    forget(nodes[4]!, acquireScript);
    const failed = await time.run(redlock.acquireLock('r', TTL));
    expect(failed).toBeNull();
    await time.run(redlock.idle());
    expect(keys().sort()).toEqual(['0:r', '1:r']);
    await time.drain(); // nothing left to land later either
    expect(keys().sort()).toEqual(['0:r', '1:r']);
  });
});
