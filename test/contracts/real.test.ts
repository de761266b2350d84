import { afterAll, describe, expect, inject, it } from 'vitest';
import { acquireScript, BATCHABLE, batchScript } from '../../src/scripts/index.js';
import { adminClient } from '../../tools/nodes.js';
import { CLIENT_KINDS, type ClientKind, clientVersion, connectClients } from '../support/clients.js';
import { adapterContract, type NodeAccess } from './contract.js';

const [address] = inject('nodes');
const admin = adminClient(address!);
afterAll(() => admin.disconnect());

const access: NodeAccess = {
  async set(key, value, pxMs) {
    if (pxMs === undefined) await admin.set(key, value);
    else await admin.set(key, value, 'PX', pxMs);
  },
  get: (key) => admin.get(key),
  pttl: (key) => admin.pttl(key),
  async makeList(key) {
    await admin.rpush(key, 'x');
  },
  async flushScripts() {
    await admin.script('FLUSH');
  },
  async del(...keys) {
    if (keys.length > 0) await admin.del(...keys);
  },
};

// Each supported major of each client: ioredis 6 and 5, redis (node-redis) 6 and 5.
for (const kind of CLIENT_KINDS) {
  adapterContract(`${kind} ${clientVersion(kind)}`, async () => {
    const connected = await connectClients([address!], kind);
    let closed = false;
    const close = async () => {
      if (!closed) await connected.close();
      closed = true;
    };
    return { client: connected.clients[0]!, node: access, close, dispose: close };
  });
}

describe('scripts', () => {
  it.each([...BATCHABLE, batchScript])('$name has the SHA1 redis-server computes', async (script) => {
    expect(await admin.script('LOAD', script.source)).toBe(script.sha);
  });
});

/** How many times the server ran `name` (INFO commandstats), for the wire-form checks. */
async function calls(name: string): Promise<number> {
  const stats = String(await admin.info('commandstats'));
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

describe('wire form (ADR 015)', () => {
  for (const kind of ['ioredis', 'node-redis'] as ClientKind[]) {
    it(`${kind}: a one-key acquire without a counter goes as SET NX PX, read back as the script's reply`, async () => {
      const connected = await connectClients([address!], kind);
      try {
        const client = connected.clients[0]!;
        const key = `wire:${kind}:${Date.now()}`;
        const command = {
          type: 'eval',
          script: acquireScript,
          keys: [key],
          args: ['v1', '5000', '1'],
        } as const;
        // Warm up the connection (the first call may carry INFO or handshake commands).
        await client.exec([{ type: 'info', sections: ['server'] }]);
        // A script may arrive as EVALSHA or, after NOSCRIPT (an earlier test flushed them), as EVAL.
        const scripts = async () => (await calls('evalsha')) + (await calls('eval'));
        const [set0, scripts0] = [await calls('set'), await scripts()];
        expect(await client.exec([command])).toEqual([[1, 0, -1]]);
        const info = { type: 'info', sections: ['server'] } as const;
        expect((await client.exec([info, command]))[1]).toEqual([0, 1, -1]);
        expect(await calls('set')).toBe(set0 + 2);
        expect(await scripts()).toBe(scripts0);
        expect(await admin.get(key)).toBe('v1');
        // Beside another script it stays a script call, so that a NOSCRIPT retry keeps the order.
        expect(await client.exec([command, command])).toEqual([
          [0, 1, -1],
          [0, 1, -1],
        ]);
        expect(await scripts()).toBe(scripts0 + 2);
        // With a counter (fencing) or several keys, it stays the script.
        const fenced = { ...command, keys: [`${key}:b`, `${key}:fence`] };
        expect(await client.exec([fenced])).toEqual([[1, 0, -1]]);
        expect(await scripts()).toBe(scripts0 + 3);
        await admin.del(key, `${key}:b`);
      } finally {
        await connected.close();
      }
    });
  }
});
