import { afterAll, describe, expect, inject, it } from 'vitest';
import { BATCHABLE, batchScript } from '../../src/scripts/index.js';
import { CLIENT_KINDS, clientVersion, connectClients } from '../support/clients.js';
import { adminClient } from '../support/nodes.js';
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
